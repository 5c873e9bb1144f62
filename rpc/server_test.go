package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// whoami endpoints tell which server answered.
func whoamiEndpoint(name string, seen chan<- string) *Endpoint {
	return NewEndpoint("Endpoint", "1.0").Handle("whoami", func(ctx context.Context, c *Call) (any, error) {
		if seen != nil {
			seen <- name
		}
		return name, nil
	})
}

func TestGoClientGoServerTargets(t *testing.T) {
	url := rpctest.Vhost(t)
	seen := make(chan string, 16)
	startServer(t, url, nil, whoamiEndpoint("host1", seen))
	startServer(t, url, func(c *ServerConfig) { c.Server = "host2" }, whoamiEndpoint("host2", seen))
	c := dialClient(t, url, nil)
	ctx := context.Background()

	for _, host := range []string{"host1", "host2"} {
		got, err := c.Call(ctx, Target{Topic: testTopic, Server: host}, "whoami", nil, nil)
		require.NoError(t, err)
		assert.JSONEq(t, `"`+host+`"`, string(got), "a call to one server reaches that server")
		assert.Equal(t, host, <-seen)
	}

	require.NoError(t, c.Cast(ctx, Target{Topic: testTopic, Fanout: true}, "whoami", nil, nil))
	got := map[string]bool{<-seen: true, <-seen: true}
	assert.Equal(t, map[string]bool{"host1": true, "host2": true}, got, "a fanout cast reaches every server")

	require.NoError(t, c.Cast(ctx, Target{Topic: testTopic, Server: "host2"}, "whoami", nil, nil))
	assert.Equal(t, "host2", <-seen)
	require.NoError(t, c.Cast(ctx, Target{Topic: testTopic}, "whoami", nil, nil))
	assert.Contains(t, []string{"host1", "host2"}, <-seen)
}

func TestConcurrentCallsAreBounded(t *testing.T) {
	url := rpctest.Vhost(t)
	var mu sync.Mutex
	running, peak := 0, 0
	release := make(chan struct{})
	ep := NewEndpoint("Endpoint", "1.0").Handle("hold", func(ctx context.Context, c *Call) (any, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return "ok", nil
	})
	startServer(t, url, func(c *ServerConfig) { c.Workers = 3 }, ep)
	c := dialClient(t, url, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			_, err := c.Call(context.Background(), Target{Topic: testTopic}, "hold", nil, nil)
			errs <- err
		})
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return running == 3 }, 10*time.Second, 10*time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 3, peak, "never more handlers than Workers")
}

// Malformed bodies are rejected (requeue=false) as oslo does, calls that
// can be answered get a failure, and the server stays up.
func TestMalformedMessages(t *testing.T) {
	url := rpctest.Vhost(t)
	raw := dialRaw(t, url)
	// Dead-letter what the server rejects, to tell a reject from an ack.
	require.NoError(t, raw.ch.ExchangeDeclare("dlx", "fanout", false, false, false, false, nil))
	_, err := raw.ch.QueueDeclare("dead", false, false, false, false, nil)
	require.NoError(t, err)
	require.NoError(t, raw.ch.QueueBind("dead", "", "dlx", false, nil))
	rpctest.SetPolicy(t, url, "dlx", "^"+testTopic+"$", map[string]any{"dead-letter-exchange": "dlx"})
	dead, err := raw.ch.Consume("dead", "", true, false, false, false, nil)
	require.NoError(t, err)

	const maxInflated = 1 << 20
	srv := startServer(t, url, func(c *ServerConfig) {
		opts := fastOptions()
		opts.RabbitMaxDecompressedSize = maxInflated
		c.Rabbit = opts
	})
	replyQ, replies := raw.replyQueue(t)
	send := func(contentType string, body []byte) {
		raw.publish(t, testExchange, testTopic, amqp.Publishing{ContentType: contentType, Body: body})
	}
	huge := strings.Repeat("x", 8<<20)                       // far beyond any real request
	bomb, err := compress(bytes.Repeat([]byte(" "), 64<<20)) // a JSON-ish body of 64 MiB in 64 KiB
	require.NoError(t, err)

	rejected := []struct {
		name, contentType string
		body              []byte
		headers           amqp.Table
		logged            string
	}{
		{name: "compression bomb", contentType: contentTypeJSON, body: bomb,
			headers: amqp.Table{compressionHeader: zlibContentType}, logged: "inflates to more than 1048576 bytes"},
		{name: "NaN in a cast", contentType: contentTypeJSON, body: envelope([]byte(`{"method": "echo", "args": {"x": NaN}}`)), logged: "invalid character 'N'"},
		{name: "NaN without a reply queue", contentType: contentTypeJSON,
			body: envelope([]byte(`{"method": "echo", "args": {"x": NaN}, "_msg_id": "nan"}`)), logged: "invalid character 'N'"},
		{name: "not json", contentType: contentTypeJSON, body: []byte("definitely {not json")},
		{name: "text/plain", contentType: "text/plain", body: rawRequest(t, map[string]any{"method": "echo", "_msg_id": "a", "_reply_q": replyQ})},
		{name: "no content type", contentType: "", body: rawRequest(t, map[string]any{"method": "echo", "_msg_id": "a", "_reply_q": replyQ})},
		{name: "envelope 3.0", contentType: contentTypeJSON, body: []byte(`{"oslo.version": "3.0", "oslo.message": "{\"method\": \"echo\", \"_msg_id\": \"a\", \"_reply_q\": \"` + replyQ + `\"}"}`)},
		{name: "message not a string", contentType: contentTypeJSON, body: []byte(`{"oslo.version": "2.0", "oslo.message": {"method": "echo"}}`)},
		{name: "json array", contentType: contentTypeJSON, body: []byte(`[1, 2, 3]`)},
		{name: "huge and not json", contentType: contentTypeJSON, body: []byte(huge)},
	}
	for _, tt := range rejected {
		t.Run("rejected/"+tt.name, func(t *testing.T) {
			raw.publish(t, testExchange, testTopic, amqp.Publishing{ContentType: tt.contentType, Headers: tt.headers, Body: tt.body})
			select {
			case d := <-dead:
				assert.Equal(t, len(tt.body), len(d.Body))
				deaths, _ := d.Headers["x-death"].([]any)
				require.Len(t, deaths, 1)
				assert.Equal(t, "rejected", deaths[0].(amqp.Table)["reason"])
			case <-time.After(10 * time.Second):
				t.Fatal("not rejected")
			}
			assert.NotEmpty(t, srv.logs.Lines("Failed to process message ... skipping it.", `"level":"error"`, tt.logged))
		})
	}
	noReply(t, replies, 200*time.Millisecond)

	// A call whose body only Python's JSON reads (NaN, Infinity) is answered
	// with the failure a Python server's decoder raises, instead of leaving
	// its caller to time out.
	for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
		t.Run("answered/"+tok, func(t *testing.T) {
			send(contentTypeJSON, envelope([]byte(`{"method": "echo", "args": {"x": [1, `+tok+`]}, "_msg_id": "nan`+tok+`", "_reply_q": "`+replyQ+`", "_context_request_id": "req-nan"}`)))
			r, _ := waitReply(t, replies, 10*time.Second)
			assert.Equal(t, "nan"+tok, r.MsgID)
			_, err := r.outcome()
			var re *RemoteError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "kombu.exceptions", re.Module)
			assert.Equal(t, "DecodeError", re.Class)
			assert.Contains(t, re.Message, "out of range float values (NaN, Infinity) are not JSON compliant")
			assert.Len(t, srv.logs.Lines("Failed to process message ... replying with a failure.", `"request_id":"req-nan"`, `"msg_id":"nan`+tok+`"`), 1)
		})
	}

	answered := []struct {
		name    string
		members map[string]any
		class   string
	}{
		{"missing method", map[string]any{"args": map[string]any{}}, "TypeError"},
		{"args not an object", map[string]any{"method": "echo", "args": "x"}, "AttributeError"},
		{"version null", map[string]any{"method": "echo", "version": nil}, "UnsupportedVersion"},
		{"unknown method", map[string]any{"method": "nope"}, "NoSuchMethod"},
		{"compressed within the limit", map[string]any{"method": "ret_str", "_compress": true}, ""},
		{"legacy, no envelope", map[string]any{"method": "ret_str", "_legacy": true}, ""},
	}
	for i, tt := range answered {
		t.Run("answered/"+tt.name, func(t *testing.T) {
			tt.members["_msg_id"] = fmt.Sprintf("m%d", i)
			tt.members["_reply_q"] = replyQ
			body := rawRequest(t, tt.members)
			if tt.members["_legacy"] != nil {
				body, _ = json.Marshal(tt.members)
			}
			var headers amqp.Table
			if tt.members["_compress"] != nil {
				body = append(body, bytes.Repeat([]byte(" "), maxInflated-len(body))...) // exactly the limit
				body, err = compress(body)
				require.NoError(t, err)
				headers = amqp.Table{compressionHeader: zlibContentType}
			}
			raw.publish(t, testExchange, testTopic, amqp.Publishing{ContentType: contentTypeJSON, Headers: headers, Body: body})
			r, _ := waitReply(t, replies, 10*time.Second)
			assert.Equal(t, fmt.Sprintf("m%d", i), r.MsgID)
			assert.True(t, r.Ending)
			v, err := r.outcome()
			if tt.class == "" {
				require.NoError(t, err)
				assert.JSONEq(t, `"hello"`, string(v))
				return
			}
			var re *RemoteError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tt.class, re.Class)
		})
	}

	t.Run("huge call is answered", func(t *testing.T) {
		send(contentTypeJSON, rawRequest(t, map[string]any{"method": "echo", "args": map[string]any{"blob": huge}, "_msg_id": "big", "_reply_q": replyQ}))
		r, _ := waitReply(t, replies, 60*time.Second)
		v, err := r.outcome()
		require.NoError(t, err)
		var got struct{ Echo struct{ Blob string } }
		require.NoError(t, json.Unmarshal(v, &got))
		assert.Equal(t, len(huge), len(got.Echo.Blob))
	})

	t.Run("still serving", func(t *testing.T) {
		c := dialClient(t, url, nil)
		got, err := c.Call(context.Background(), Target{Topic: testTopic}, "ret_str", nil, nil)
		require.NoError(t, err)
		assert.JSONEq(t, `"hello"`, string(got))
		assert.NoError(t, srv.Health())
		assert.EqualValues(t, 1, srv.Sessions(), "no reconnection was needed")
	})
}

// A backlog reaches a starting server all at once: it is accepted in
// batches (one basic.ack for many), with malformed requests rejected in
// between, and every request is settled exactly once.
func TestBacklogIsSettled(t *testing.T) {
	url := rpctest.Vhost(t)
	first := startServer(t, url, nil)
	first.stop() // the topic queue stays, as with oslo
	raw := dialRaw(t, url)
	replyQ, replies := raw.replyQueue(t)
	const n = 40
	for i := range n {
		body := []byte("not json")
		if i%2 == 0 {
			body = rawRequest(t, map[string]any{"method": "ret_str", "_msg_id": fmt.Sprint("m", i), "_reply_q": replyQ})
		}
		raw.publish(t, testExchange, testTopic, amqp.Publishing{ContentType: contentTypeJSON, Body: body})
	}

	srv := startServer(t, url, nil)
	got := map[string]bool{}
	for range n / 2 {
		r, _ := waitReply(t, replies, 10*time.Second)
		got[r.MsgID] = true
	}
	assert.Len(t, got, n/2, "one reply per request")
	require.Eventually(t, func() bool { return len(srv.logs.Lines("Failed to process message")) == n/2 }, 10*time.Second, 10*time.Millisecond)
	noReply(t, replies, 200*time.Millisecond)
	assert.EqualValues(t, 1, srv.Sessions(), "no channel error")
	srv.stop()
	// Anything left unacked went back to the queue when the server closed.
	left, err := raw.ch.Consume(testTopic, "", true, false, false, false, nil)
	require.NoError(t, err)
	noReply(t, left, 300*time.Millisecond)
}

// A request re-delivered with the same _unique_id is dropped (oslo keeps the
// last 16), even with a new _msg_id; it gets no reply.
func TestDuplicateRequestsAreDropped(t *testing.T) {
	url := rpctest.Vhost(t)
	rec := &callRecorder{}
	srv := startServer(t, url, nil, demoEndpoints(demoOptions{onCall: rec.record})...)
	raw := dialRaw(t, url)
	replyQ, replies := raw.replyQueue(t)
	req := func(msgID, uniqueID string) amqp.Publishing {
		return amqp.Publishing{ContentType: contentTypeJSON, Body: rawRequest(t, map[string]any{
			"method": "ret_str", "_msg_id": msgID, "_reply_q": replyQ, "_unique_id": uniqueID,
		})}
	}
	raw.publish(t, testExchange, testTopic, req("first", "u1"))
	r, _ := waitReply(t, replies, 10*time.Second)
	assert.Equal(t, "first", r.MsgID)

	raw.publish(t, testExchange, testTopic, req("again", "u1"))
	require.Eventually(t, func() bool { return len(srv.logs.Lines("ignoring duplicate message", `"msg_id":"again"`)) == 1 }, 10*time.Second, 10*time.Millisecond)
	raw.publish(t, testExchange, testTopic, req("third", "u3"))
	r, _ = waitReply(t, replies, 10*time.Second)
	assert.Equal(t, "third", r.MsgID, "the duplicate got no reply")
	assert.Equal(t, 2, rec.count())
}

// Replies to a reply queue that does not exist (yet) are retried every
// 0.25 s within kombu_missing_consumer_retry_timeout, then abandoned and the
// queue remembered as obsolete.
func TestUnroutableReplies(t *testing.T) {
	url := rpctest.Vhost(t)
	opts := fastOptions()
	opts.KombuMissingConsumerRetryTimeout = 3 * time.Second
	srv := startServer(t, url, func(c *ServerConfig) { c.Rabbit = opts })
	raw := dialRaw(t, url)

	t.Run("queue appears late", func(t *testing.T) {
		raw.publish(t, testExchange, testTopic, amqp.Publishing{ContentType: contentTypeJSON,
			Body: rawRequest(t, map[string]any{"method": "ret_str", "_msg_id": "late", "_reply_q": "reply_late"})})
		require.Eventually(t, func() bool { return len(srv.logs.Lines("could not be sent due to a missing queue (reply_late)")) > 0 },
			10*time.Second, 10*time.Millisecond)
		_, err := raw.ch.QueueDeclare("reply_late", false, true, false, false, nil)
		require.NoError(t, err)
		d, err := raw.ch.Consume("reply_late", "", true, false, false, false, nil)
		require.NoError(t, err)
		r, _ := waitReply(t, d, 10*time.Second)
		assert.Equal(t, "late", r.MsgID)
	})

	t.Run("abandoned", func(t *testing.T) {
		raw.publish(t, testExchange, testTopic, amqp.Publishing{ContentType: contentTypeJSON,
			Body: rawRequest(t, map[string]any{"method": "ret_str", "_msg_id": "gone1", "_reply_q": "reply_gone"})})
		require.Eventually(t, func() bool {
			return len(srv.logs.Lines("failed to send after 3 seconds", "reply_gone", "Abandoning")) == 1
		},
			20*time.Second, 20*time.Millisecond)
		raw.publish(t, testExchange, testTopic, amqp.Publishing{ContentType: contentTypeJSON,
			Body: rawRequest(t, map[string]any{"method": "ret_str", "_msg_id": "gone2", "_reply_q": "reply_gone"})})
		require.Eventually(t, func() bool { return len(srv.logs.Lines("reply_gone doesn't exist, drop reply to gone2")) == 1 },
			10*time.Second, 10*time.Millisecond)
	})

	t.Run("no reply queue at all", func(t *testing.T) {
		raw.publish(t, testExchange, testTopic, amqp.Publishing{ContentType: contentTypeJSON,
			Body: rawRequest(t, map[string]any{"method": "ret_str", "_msg_id": "noq"})})
		require.Eventually(t, func() bool { return len(srv.logs.Lines("without a usable _reply_q", `"msg_id":"noq"`)) == 1 },
			10*time.Second, 10*time.Millisecond)
	})
}

// Graceful stop: stop consuming, finish in-flight handlers, send their
// replies, delete the fanout queue, close.
func TestGracefulStop(t *testing.T) {
	url := rpctest.Vhost(t)
	started := make(chan struct{}, 1)
	srv := startServer(t, url, nil, demoEndpoints(demoOptions{sleepUnit: 100 * time.Millisecond, onCall: func(context.Context, *Call) {
		started <- struct{}{}
	}})...)
	c := dialClient(t, url, nil)
	result := make(chan error, 1)
	go func() {
		got, err := c.Call(context.Background(), Target{Topic: testTopic}, "slow", map[string]any{"seconds": 5}, nil)
		if err == nil && string(got) != `"slept 5"` {
			err = fmt.Errorf("got %s", got)
		}
		result <- err
	}()
	<-started
	srv.stop()
	select {
	case err := <-result:
		assert.NoError(t, err, "the in-flight call got its reply")
	case <-time.After(10 * time.Second):
		t.Fatal("no reply after stop")
	}
	assert.ErrorIs(t, srv.Health(), ErrNotConsuming)
	for _, q := range rpctest.Queues(t, url) {
		assert.NotEqual(t, srv.FanoutQueue(), q.Name)
	}
	// Requests sent while no server runs wait in the topic queue.
	require.NoError(t, c.Cast(context.Background(), Target{Topic: testTopic}, "ret_str", nil, nil))
	require.Eventually(t, func() bool {
		for _, q := range rpctest.Queues(t, url) {
			if q.Name == testTopic && q.Messages == 1 {
				return true
			}
		}
		return false
	}, 15*time.Second, 100*time.Millisecond)
}

// After the graceful timeout, handlers' context is cancelled; their replies
// (failures) still go out before Run returns.
func TestGracefulTimeoutCancelsHandlers(t *testing.T) {
	url := rpctest.Vhost(t)
	started := make(chan struct{}, 1)
	srv := startServer(t, url, func(c *ServerConfig) { c.GracefulTimeout = 200 * time.Millisecond },
		demoEndpoints(demoOptions{sleepUnit: time.Second, onCall: func(context.Context, *Call) { started <- struct{}{} }})...)
	c := dialClient(t, url, nil)
	result := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), Target{Topic: testTopic}, "slow", map[string]any{"seconds": 60}, nil)
		result <- err
	}()
	<-started
	stopped := time.Now()
	srv.stop()
	assert.Less(t, time.Since(stopped), 10*time.Second)
	select {
	case err := <-result:
		var re *RemoteError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "RuntimeError", re.Class)
		assert.Contains(t, re.Message, "context canceled")
	case <-time.After(10 * time.Second):
		t.Fatal("no reply")
	}
}

// The client ignores duplicate replies, accepts the old two-message reply
// and heartbeats, and returns protocol errors in replies.
func TestClientReplyHandling(t *testing.T) {
	url := rpctest.Vhost(t)
	c := dialClient(t, url, nil)
	raw := dialRaw(t, url)
	require.NoError(t, raw.ch.ExchangeDeclare(testExchange, "topic", false, false, false, false, nil))
	_, err := raw.ch.QueueDeclare(testTopic, false, false, false, false, nil)
	require.NoError(t, err)
	require.NoError(t, raw.ch.QueueBind(testTopic, testTopic, testExchange, false, nil))
	requests, err := raw.ch.Consume(testTopic, "", true, false, false, false, nil)
	require.NoError(t, err)

	// fake answers each request with the replies script gives.
	fake := func(script func(msgID json.RawMessage) [][]byte) {
		d := <-requests
		req, err := decodeRequest(d.ContentType, d.Headers, d.Body, testMaxInflated)
		require.NoError(t, err)
		q, ok := req.ReplyQueue()
		require.True(t, ok)
		for _, body := range script(req.MsgID) {
			raw.publish(t, "", q, replyPublishing(body))
		}
	}
	call := func() (json.RawMessage, error) {
		return c.Call(context.Background(), Target{Topic: testTopic, Timeout: 5 * time.Second}, "m", nil, nil)
	}
	type outcome struct {
		v   json.RawMessage
		err error
	}
	run := func(script func(msgID json.RawMessage) [][]byte) outcome {
		done := make(chan outcome, 1)
		go func() { v, err := call(); done <- outcome{v, err} }()
		fake(script)
		return <-done
	}

	t.Run("duplicate reply ignored", func(t *testing.T) {
		o := run(func(id json.RawMessage) [][]byte {
			return [][]byte{encodeReply(json.RawMessage(`1`), nil, true, id), encodeReply(json.RawMessage(`2`), nil, true, id)}
		})
		require.NoError(t, o.err)
		assert.JSONEq(t, `1`, string(o.v))
		o = run(func(id json.RawMessage) [][]byte { return [][]byte{encodeReply(json.RawMessage(`3`), nil, true, id)} })
		require.NoError(t, o.err)
		assert.JSONEq(t, `3`, string(o.v), "the late duplicate of the previous call was not taken")
	})
	t.Run("two-phase reply", func(t *testing.T) {
		o := run(func(id json.RawMessage) [][]byte {
			return [][]byte{encodeReply(json.RawMessage(`"x"`), nil, false, id), encodeReply(nil, nil, true, id)}
		})
		require.NoError(t, o.err)
		assert.JSONEq(t, `"x"`, string(o.v))
	})
	t.Run("heartbeats then result", func(t *testing.T) {
		o := run(func(id json.RawMessage) [][]byte {
			hb := encodeReply(nil, nil, false, id)
			return [][]byte{hb, hb, encodeReply(json.RawMessage(`[1]`), nil, true, id)}
		})
		require.NoError(t, o.err)
		assert.JSONEq(t, `[1]`, string(o.v))
	})
	t.Run("unenveloped reply", func(t *testing.T) {
		o := run(func(id json.RawMessage) [][]byte {
			return [][]byte{[]byte(`{"result": 7, "failure": null, "ending": true, "_msg_id": ` + string(id) + `}`)}
		})
		require.NoError(t, o.err)
		assert.JSONEq(t, `7`, string(o.v))
	})
	t.Run("reply without failure member", func(t *testing.T) {
		o := run(func(id json.RawMessage) [][]byte {
			return [][]byte{[]byte(`{"result": 7, "ending": true, "_msg_id": ` + string(id) + `}`)}
		})
		assert.ErrorContains(t, o.err, "no failure member")
	})
	t.Run("failure not a JSON string", func(t *testing.T) {
		o := run(func(id json.RawMessage) [][]byte {
			return [][]byte{[]byte(`{"result": null, "failure": {"class": "X"}, "ending": true, "_msg_id": ` + string(id) + `}`)}
		})
		require.Error(t, o.err)
		var re *RemoteError
		assert.False(t, errors.As(o.err, &re))
	})
}

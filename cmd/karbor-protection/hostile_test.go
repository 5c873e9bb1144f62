package main_test

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"context"
	be "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// Hostile input, end to end with the built binary on the real broker: what
// an attacker who can publish to the service's queues sends must cost it
// neither memory nor the time of its other callers.

// amqpChannel is a plain AMQP channel on url for hand-made messages.
func amqpChannel(t testing.TB, url string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(rpctest.AMQPURL(url))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	require.NoError(t, err)
	return ch
}

func publishRaw(t testing.TB, ch *amqp.Channel, msg amqp.Publishing) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg.ContentType, msg.ContentEncoding = "application/json", "utf-8"
	require.NoError(t, ch.PublishWithContext(ctx, controlExchange, topic, false, false, msg))
}

// rawCall is a call's body as oslo's client builds it: the request and its
// flattened context double-encoded in the 2.0 envelope.
func rawCall(t testing.TB, method string, args, reqCtx map[string]any, msgID, replyQ string) []byte {
	t.Helper()
	inner := map[string]any{"method": method, "args": args, "version": "1.0",
		"_msg_id": msgID, "_reply_q": replyQ, "_timeout": nil, "_unique_id": fmt.Sprintf("%032x", msgID)}
	for k, v := range reqCtx {
		inner["_context_"+k] = v
	}
	text, err := json.Marshal(inner)
	require.NoError(t, err)
	body, err := json.Marshal(map[string]any{"oslo.version": "2.0", "oslo.message": string(text)})
	require.NoError(t, err)
	return body
}

// zlibBomb is a zlib stream of mib MiB of zeros, about 1 KB a MiB, built
// from one compressed MiB repeated instead of compressing it all: every
// block after the first only refers back to zeros, so it can follow any run
// of them. The checksum is right, as a check at the end shows.
func zlibBomb(t testing.TB, mib int) []byte {
	t.Helper()
	zeros := make([]byte, 1<<20)
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	piece := func(last bool) []byte {
		if last {
			require.NoError(t, fw.Close())
		} else {
			_, err := fw.Write(zeros)
			require.NoError(t, err)
			require.NoError(t, fw.Flush()) // byte-aligned end
		}
		p := bytes.Clone(buf.Bytes())
		buf.Reset()
		return p
	}
	first, block, end := piece(false), piece(false), piece(true)
	out := append([]byte{0x78, 0xda}, first...)
	for range mib - 1 {
		out = append(out, block...)
	}
	out = append(out, end...)
	// Adler-32 of n zeros: a stays 1, b sums n ones.
	return be.BigEndian.AppendUint32(out, uint32(uint64(mib)<<20%65521)<<16|1)
}

func TestZlibBombIsValid(t *testing.T) {
	r, err := zlib.NewReader(bytes.NewReader(zlibBomb(t, 3)))
	require.NoError(t, err)
	out, err := io.ReadAll(r) // checks the checksum at the end
	require.NoError(t, err)
	assert.Equal(t, make([]byte, 3<<20), out)
}

// TestCompressionBomb: a 1 MB zlib message that inflates to 1 GiB is
// refused once it has inflated to rabbit_max_decompressed_size (default
// 128 MiB) with an error line, settled (not left in the queue nor
// redelivered), and a normal call right after it is answered. The service's
// peak resident memory stays near the limit (it went to 4.3 GB before).
func TestCompressionBomb(t *testing.T) {
	url := rpctest.Vhost(t)
	s := newService(t, url, serviceConfig{})
	c := pyClient(t, url)
	reqCtx := requestContext(t, projectA, false)
	args := map[string]any{"provider_id": noopID}
	result(t, call(t, c, "show_provider", reqCtx, args))

	bomb := zlibBomb(t, 1024)
	ch := amqpChannel(t, url)
	publishRaw(t, ch, amqp.Publishing{Headers: amqp.Table{"compression": "application/x-gzip"}, Body: bomb})
	s.waitLog("inflates to more than 134217728 bytes", 2*time.Minute)
	refused := s.out.lines("inflates to more than 134217728 bytes")
	require.Len(t, refused, 1)
	assert.Contains(t, refused[0], " ERROR oslo_messaging.rpc.server [-] Failed to process message ... skipping it.")
	assert.Contains(t, refused[0], fmt.Sprintf("application/x-gzip body of %d bytes", len(bomb)))

	result(t, call(t, c, "show_provider", reqCtx, args))
	peak := procStatusMB(t, s.pid(), "VmHWM")
	t.Logf("service peak RSS %.0f MB after a %d-byte bomb of 1 GiB", peak, len(bomb))
	assert.Less(t, peak, 512.0, "peak RSS in MB")

	// Settled: once the service is gone nothing comes back to the queue.
	require.NoError(t, s.stop(syscall.SIGTERM, 2*time.Minute))
	q, err := ch.QueueDeclarePassive(topic, false, false, false, false, nil)
	require.NoError(t, err)
	assert.Zero(t, q.Messages, "the bomb was left unsettled")
	assert.Len(t, s.out.lines("inflates to more than"), 1, "the bomb was delivered once")
}

// TestMissingReplyQueues: 200 calls naming reply queues that do not exist
// (more than the 64 handler slots) leave the service answering normal calls
// while their replies wait the 60 s oslo retries them; SIGTERM then stops it
// within graceful_shutdown_timeout, dropping the waiting replies.
func TestMissingReplyQueues(t *testing.T) {
	url := rpctest.Vhost(t)
	const grace = 5 * time.Second
	s := newService(t, url, serviceConfig{extraDefault: fmt.Sprintf("graceful_shutdown_timeout = %d", int(grace.Seconds()))})
	c := pyClient(t, url)
	reqCtx := requestContext(t, projectA, false)
	args := map[string]any{"provider_id": noopID}
	result(t, call(t, c, "show_provider", reqCtx, args))

	ch := amqpChannel(t, url)
	const lost = 200
	for i := range lost {
		publishRaw(t, ch, amqp.Publishing{Body: rawCall(t, "show_provider", args, reqCtx, fmt.Sprint("lost-", i), fmt.Sprint("reply_missing_", i))})
	}
	// Every lost call was taken (acked) before the normal calls are made.
	waitFor(t, time.Minute, "the lost calls to be taken", func() bool {
		q, err := ch.QueueDeclarePassive(topic, false, false, false, false, nil)
		return err == nil && q.Messages == 0
	})
	var slowest time.Duration
	for range 5 {
		// Well inside the 60 s the lost replies are retried for: before,
		// all 64 handlers were theirs for that long.
		start := time.Now()
		o := c.Do(t, rpctest.PyCall{Method: "show_provider", Args: args, Context: reqCtx, Timeout: 20})
		result(t, o)
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("slowest of 5 normal calls while %d replies wait: %s", lost, slowest.Round(time.Millisecond))

	start := time.Now()
	require.NoError(t, s.stop(syscall.SIGTERM, 45*time.Second), "exit status after SIGTERM")
	t.Logf("stopped %s after SIGTERM (graceful_shutdown_timeout %s, replies retried for 60 s)", time.Since(start).Round(time.Millisecond), grace)
	dropped := s.out.lines("replies still waiting for their reply queue: the server is stopping")
	require.Len(t, dropped, 1)
	assert.Contains(t, dropped[0], fmt.Sprintf("Dropping %d replies", lost))
	assert.Empty(t, s.out.lines("Abandoning"), "no lost reply was retried to the end of its window")
	assert.True(t, strings.Contains(s.out.String(), "RPC server stopped"))
}

// TestForgedLogLines: a request id and a method name sent with newlines
// (and a terminal escape) cannot forge a log line: they are logged escaped,
// on the one line of their entry. The NoSuchMethod they earn is logged at
// ERROR, as oslo does.
func TestForgedLogLines(t *testing.T) {
	url := rpctest.Vhost(t)
	s := newService(t, url, serviceConfig{})
	const forged = "2026-11-22 04:18:17.136 4314 CRITICAL karbor [-] FORGED"
	reqCtx := requestContext(t, projectA, false)
	reqCtx["request_id"] = "req-evil\n" + forged
	ch := amqpChannel(t, url)
	publishRaw(t, ch, amqp.Publishing{Body: rawCall(t, "nope\r\n"+forged+"\x1b[2J", map[string]any{}, reqCtx, "forge-1", "reply_none")})
	s.waitLog("Endpoint does not support RPC method nope", time.Minute)

	for _, line := range strings.Split(s.out.String(), "\n") {
		assert.False(t, strings.HasPrefix(line, "2026-11-22 04:18:17.136 4314"), "forged line: %q", line)
		assert.NotContains(t, line, "\x1b", "terminal escape written raw")
		assert.NotContains(t, line, "\r")
	}
	failed := s.out.lines("Endpoint does not support RPC method nope")
	require.Len(t, failed, 1)
	assert.Contains(t, failed[0], ` ERROR oslo_messaging.rpc.server [None req-evil\n`+forged+
		` -] Exception during message handling: Endpoint does not support RPC method nope\r\n`+forged+`\x1b[2J`)
}

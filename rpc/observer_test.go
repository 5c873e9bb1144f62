package rpc

import (
	"context"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// recordingObserver is an Observer that keeps what it is told.
type recordingObserver struct {
	mu         sync.Mutex
	calls      map[[2]string]int // method, outcome
	took       []time.Duration
	unroutable int
	dropped    map[string]int
}

func newRecordingObserver() *recordingObserver {
	return &recordingObserver{calls: map[[2]string]int{}, dropped: map[string]int{}}
}

func (o *recordingObserver) CallDone(method, outcome string, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls[[2]string{method, outcome}]++
	o.took = append(o.took, took)
}

func (o *recordingObserver) ReplyUnroutable() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unroutable++
}

func (o *recordingObserver) ReplyDropped(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dropped[reason]++
}

func (o *recordingObserver) snapshot() (calls map[[2]string]int, unroutable int, dropped map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	calls = map[[2]string]int{}
	for k, v := range o.calls {
		calls[k] = v
	}
	dropped = map[string]int{}
	for k, v := range o.dropped {
		dropped[k] = v
	}
	return calls, o.unroutable, dropped
}

// The observer is told the method and outcome of every call and cast
// (the class of the exception the caller gets), never a method name nobody
// serves, and why each reply due was not delivered.
func TestObserverSeesCallsAndLostReplies(t *testing.T) {
	url := rpctest.Vhost(t)
	obs := newRecordingObserver()
	opts := fastOptions()
	opts.KombuMissingConsumerRetryTimeout = 500 * time.Millisecond
	srv := startServer(t, url, func(c *ServerConfig) {
		c.Observer = obs
		c.Rabbit = opts
		c.Workers = 4
	})
	busy, total := srv.HandlerSlots()
	assert.Equal(t, [2]int{0, 4}, [2]int{busy, total})

	c := dialClient(t, url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target := Target{Topic: testTopic}
	for _, call := range []struct {
		method string
		args   map[string]any
		fails  bool
	}{
		{"ret_str", nil, false},
		{"ret_str", nil, false},
		{"fail", map[string]any{"provider_id": "p-1"}, true},
		{"fail_builtin", nil, true},
		{"fail_plain", nil, true},
		{"panic", nil, true},
		{"unmarshalable", nil, true},
		{"no_such_method", nil, true},
	} {
		_, err := c.Call(ctx, target, call.method, call.args, nil)
		assert.Equal(t, call.fails, err != nil, "%s: %v", call.method, err)
	}
	require.NoError(t, c.Cast(ctx, target, "fail_builtin", nil, nil))

	// A slow call holds a handler slot while it runs.
	slow := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, target, "slow", map[string]any{"seconds": 0.5}, nil)
		slow <- err
	}()
	require.Eventually(t, func() bool { busy, _ := srv.HandlerSlots(); return busy == 1 }, 10*time.Second, time.Millisecond)
	require.NoError(t, <-slow)

	// Replies that cannot be delivered: no reply queue named, a reply
	// queue that never comes (retried, then abandoned), and a second reply
	// to it once it is known to be gone.
	raw := dialRaw(t, url)
	request := func(members map[string]any) {
		raw.publish(t, testExchange, testTopic, amqp.Publishing{ContentType: contentTypeJSON, Body: rawRequest(t, members)})
	}
	request(map[string]any{"method": "ret_str", "_msg_id": "no-queue"})
	request(map[string]any{"method": "ret_str", "_msg_id": "lost-1", "_reply_q": "reply_gone"})
	require.Eventually(t, func() bool {
		_, _, dropped := obs.snapshot()
		return dropped[DropQueueMissing] == 1 && dropped[DropNoReplyQueue] == 1
	}, 10*time.Second, 10*time.Millisecond)
	request(map[string]any{"method": "ret_str", "_msg_id": "lost-2", "_reply_q": "reply_gone"})
	require.Eventually(t, func() bool {
		_, _, dropped := obs.snapshot()
		return dropped[DropQueueMissing] == 2
	}, 10*time.Second, 10*time.Millisecond)

	calls, unroutable, dropped := obs.snapshot()
	assert.Equal(t, map[[2]string]int{
		{"ret_str", "ok"}:              5,
		{"fail", "ProviderNotFound"}:   1,
		{"fail_builtin", "ValueError"}: 2, // the call and the cast
		{"fail_plain", "RuntimeError"}: 1,
		{"panic", "RuntimeError"}:      1,
		{"unmarshalable", "TypeError"}: 1,
		{"", "NoSuchMethod"}:           1,
		{"slow", "ok"}:                 1,
	}, calls)
	assert.Equal(t, 1, unroutable, "the second reply to the gone queue is dropped without an attempt")
	assert.Equal(t, map[string]int{DropNoReplyQueue: 1, DropQueueMissing: 2}, dropped)
	obs.mu.Lock()
	for _, d := range obs.took {
		assert.Positive(t, d)
	}
	obs.mu.Unlock()
	busy, _ = srv.HandlerSlots()
	assert.Zero(t, busy)
}

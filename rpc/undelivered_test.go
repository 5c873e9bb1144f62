package rpc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/rpc/rpctest"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The area of undelivered replies is bounded in count and in bytes; when
// full it refuses the newest.
func TestUndeliveredRepliesBounds(t *testing.T) {
	reply := func(size int) *undeliveredReply {
		return &undeliveredReply{queue: "q", pub: publishing{msg: amqp.Publishing{Body: make([]byte, size)}}}
	}
	tests := []struct {
		name     string
		maxCount int
		maxBytes int
		sizes    []int
		accepted int
	}{
		{"count bound", 3, 1 << 20, []int{10, 10, 10, 10}, 3},
		{"byte bound", 100, 25, []int{10, 10, 10, 1}, 3},
		{"a reply larger than the area", 100, 25, []int{26, 5}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUndeliveredReplies(tt.maxCount, tt.maxBytes)
			var kept []*undeliveredReply
			for _, size := range tt.sizes {
				r := reply(size)
				if err := u.add(r); err != nil {
					require.ErrorIs(t, err, errUndeliveredFull)
					continue
				}
				kept = append(kept, r)
			}
			assert.Len(t, kept, tt.accepted)
			assert.Equal(t, kept, u.snapshot(), "oldest first, the refused ones left out")
			select {
			case <-u.emptied():
				t.Fatal("emptied while replies wait")
			default:
			}
			u.remove(map[*undeliveredReply]bool{kept[0]: true})
			assert.ElementsMatch(t, kept[1:], u.snapshot())
			require.NoError(t, u.add(reply(1)), "room again after a removal")
			assert.Len(t, u.takeAll(), len(kept))
			assert.Zero(t, u.len())
			assert.Zero(t, u.bytes)
			select {
			case <-u.emptied():
			default:
				t.Fatal("not emptied")
			}
		})
	}
}

// Calls whose reply queue does not exist hold no handler slot while their
// replies wait: with every slot's worth of them outstanding (and a retry
// window far longer than the call's timeout), a normal call is answered.
// On stop the waiting replies are dropped once the graceful budget is
// spent, not retried to the end of their window.
func TestMissingReplyQueuesDoNotHoldWorkers(t *testing.T) {
	url := rpctest.Vhost(t)
	opts := fastOptions()
	opts.KombuMissingConsumerRetryTimeout = 120 * time.Second
	const workers, missing = 2, 20
	obs := newRecordingObserver()
	srv := startServer(t, url, func(c *ServerConfig) {
		c.Rabbit = opts
		c.Workers = workers
		c.GracefulTimeout = time.Second
		c.Observer = obs
	})
	raw := dialRaw(t, url)
	for i := range missing {
		raw.publish(t, testExchange, testTopic, amqp.Publishing{ContentType: contentTypeJSON,
			Body: rawRequest(t, map[string]any{"method": "ret_str", "_msg_id": fmt.Sprint("lost", i), "_reply_q": fmt.Sprint("reply_missing_", i)})})
	}
	require.Eventually(t, func() bool { return len(srv.logs.Lines("could not be sent due to a missing queue")) == missing },
		30*time.Second, 10*time.Millisecond)

	c := dialClient(t, url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a quarter of the retry window
	defer cancel()
	got, err := c.Call(ctx, Target{Topic: testTopic}, "ret_str", nil, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `"hello"`, string(got))

	srv.stop()
	assert.Len(t, srv.logs.Lines(fmt.Sprintf("Dropping %d replies still waiting for their reply queue", missing), `"level":"error"`), 1)
	assert.Empty(t, srv.logs.Lines("Abandoning"), "no reply waited for its whole window")
	_, unroutable, dropped := obs.snapshot()
	assert.Equal(t, missing, unroutable)
	assert.Equal(t, map[string]int{DropStopping: missing}, dropped)
}

// A full area drops the newest undeliverable reply at once, with an ERROR
// line naming it.
func TestUndeliveredAreaFull(t *testing.T) {
	log, logs := newTestLogger()
	obs := newRecordingObserver()
	s := &Server{cfg: ServerConfig{Observer: obs}}
	rt := &runState{undelivered: newUndeliveredReplies(1, 1<<20)}
	s.deferReply(rt, &undeliveredReply{queue: "reply_a", msgID: "a", log: log})
	s.deferReply(rt, &undeliveredReply{queue: "reply_b", msgID: "b", log: log})
	assert.Len(t, logs.Lines("The reply b cannot be sent due to a missing queue (reply_b)", "Dropping it", `"level":"error"`), 1)
	assert.Len(t, rt.undelivered.snapshot(), 1)
	assert.Equal(t, "a", rt.undelivered.snapshot()[0].msgID)
	_, _, dropped := obs.snapshot()
	assert.Equal(t, map[string]int{DropBacklogFull: 1}, dropped)
}

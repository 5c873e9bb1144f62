package rpc

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The pool starts no more workers than there are slots, however the jobs
// come, runs every job once, frees every slot, and stop returns only after
// all of them.
func TestWorkerPool(t *testing.T) {
	for _, limit := range []int{1, 3, 64} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			var ran, running, most atomic.Int64
			p := newWorkerPool(limit, func(job) {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				ran.Add(1)
				running.Add(-1)
			})
			const jobs = 2000
			for range jobs {
				require.NoError(t, p.take(t.Context(), nil, nil)) // as the session takes a slot per request
				p.run(job{req: &request{}})
			}
			p.stop()
			assert.EqualValues(t, jobs, ran.Load())
			assert.LessOrEqual(t, p.started, limit)
			assert.LessOrEqual(t, most.Load(), int64(limit))
			assert.Zero(t, len(p.slots), "slots still taken")
		})
	}
}

// tryTake fails while every slot is taken, and release frees them.
func TestWorkerPoolSlots(t *testing.T) {
	p := newWorkerPool(2, func(job) {})
	assert.True(t, p.tryTake())
	assert.True(t, p.tryTake())
	assert.False(t, p.tryTake(), "a third slot of two")
	p.release(2)
	assert.True(t, p.tryTake(), "after release")
}

// take gives up when the session ends while every slot is taken, saying why.
func TestWorkerPoolTakeEnds(t *testing.T) {
	p := newWorkerPool(1, func(job) {})
	require.True(t, p.tryTake())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, p.take(ctx, nil, nil), context.Canceled)
	closed := make(chan *amqp.Error, 1)
	closed <- &amqp.Error{Code: amqp.ConnectionForced, Reason: "shutdown"}
	assert.ErrorContains(t, p.take(t.Context(), closed, nil), "AMQP connection closed")
	closed <- &amqp.Error{Code: amqp.ChannelError, Reason: "gone"}
	assert.ErrorContains(t, p.take(t.Context(), nil, closed), "AMQP connection closed")
}

package rpc

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSession is a listenSession whose three consumers are channels the
// test feeds.
func fakeSession() (*listenSession, [3]chan amqp.Delivery) {
	var feeds [3]chan amqp.Delivery
	ls := &listenSession{tags: []string{"1", "2", "3"}, failed: make(chan error, 1), done: make(chan struct{})}
	for i := range feeds {
		feeds[i] = make(chan amqp.Delivery)
		ls.deliveries[i] = feeds[i]
	}
	return ls, feeds
}

// The pool starts no more workers than there are slots, however the
// deliveries come and on whichever consumer, serves every delivery once,
// frees every slot, and stop returns only after all of them.
func TestWorkerPool(t *testing.T) {
	for _, limit := range []int{1, 3, 64} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			var running, most atomic.Int64
			const deliveries = 2000
			var mu sync.Mutex
			served := map[uint64]int{}
			all := make(chan struct{})
			p := newWorkerPool(limit, func(_ *listenSession, d *amqp.Delivery) {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				mu.Lock()
				served[d.DeliveryTag]++
				if len(served) == deliveries {
					close(all)
				}
				mu.Unlock()
				running.Add(-1)
			})
			ls, feeds := fakeSession()
			p.attach(ls)
			var feeders sync.WaitGroup
			for i, feed := range feeds {
				feeders.Go(func() {
					for tag := i + 1; tag <= deliveries; tag += len(feeds) {
						feed <- amqp.Delivery{DeliveryTag: uint64(tag)}
					}
				})
			}
			feeders.Wait()
			select { // a delivery taken is served unless the session is detached first
			case <-all:
			case <-time.After(10 * time.Second):
				t.Fatal("not every delivery was served")
			}
			p.detach(ls)
			p.inflight.Wait()
			p.stop()
			for tag, n := range served {
				require.Equal(t, 1, n, "delivery %d", tag)
			}
			assert.LessOrEqual(t, p.started, limit)
			assert.LessOrEqual(t, most.Load(), int64(limit))
			assert.Zero(t, p.busy.Load(), "slots still taken")
		})
	}
}

// Every slot taken, nobody takes deliveries: they wait with the library
// (unacked) until a handler returns.
func TestWorkerPoolStopsTakingWhenFull(t *testing.T) {
	synctest.Test(t, testWorkerPoolStopsTakingWhenFull)
}

func testWorkerPoolStopsTakingWhenFull(t *testing.T) {
	release := make(chan struct{})
	started := make(chan uint64, 3)
	p := newWorkerPool(2, func(_ *listenSession, d *amqp.Delivery) {
		started <- d.DeliveryTag
		<-release
	})
	ls, feeds := fakeSession()
	p.attach(ls)
	feeds[0] <- amqp.Delivery{DeliveryTag: 1}
	feeds[1] <- amqp.Delivery{DeliveryTag: 2}
	<-started
	<-started
	busy := p.busy.Load()
	assert.EqualValues(t, 2, busy)
	synctest.Wait() // every worker blocked
	select {
	case feeds[2] <- amqp.Delivery{DeliveryTag: 3}:
		t.Fatal("a third delivery was taken with both slots busy")
	default:
	}
	close(release)
	feeds[2] <- amqp.Delivery{DeliveryTag: 3}
	assert.EqualValues(t, 3, <-started)
	p.detach(ls)
	p.inflight.Wait()
	p.stop()
}

// After detach, a delivery is left to the library, and the workers serve
// the next session attached.
func TestWorkerPoolMovesToNextSession(t *testing.T) {
	synctest.Test(t, testWorkerPoolMovesToNextSession)
}

func testWorkerPoolMovesToNextSession(t *testing.T) {
	var mu sync.Mutex
	var from []*listenSession
	p := newWorkerPool(4, func(ls *listenSession, _ *amqp.Delivery) {
		mu.Lock()
		from = append(from, ls)
		mu.Unlock()
	})
	first, feeds1 := fakeSession()
	p.attach(first)
	feeds1[0] <- amqp.Delivery{DeliveryTag: 1}
	synctest.Wait() // served: a delivery still between receive and begin when detach comes is left too
	p.detach(first)
	p.detach(first) // twice: as a graceful stop, then the session's end
	synctest.Wait() // every worker blocked
	select {
	case feeds1[0] <- amqp.Delivery{DeliveryTag: 2}:
		t.Fatal("a delivery of a detached session was taken")
	default:
	}
	second, feeds2 := fakeSession()
	p.attach(second)
	feeds2[2] <- amqp.Delivery{DeliveryTag: 1}
	synctest.Wait()
	p.detach(second)
	p.inflight.Wait()
	p.stop()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []*listenSession{first, second}, from)
}

// A consumer the library closes ends the session, naming it.
func TestWorkerPoolConsumerStopped(t *testing.T) {
	p := newWorkerPool(2, func(*listenSession, *amqp.Delivery) {})
	ls, feeds := fakeSession()
	p.attach(ls)
	close(feeds[1])
	select {
	case err := <-ls.failed:
		assert.EqualError(t, err, "rpc: consumer 2 stopped")
	case <-time.After(10 * time.Second):
		t.Fatal("the session was not told")
	}
	p.detach(ls)
	p.stop()
}

// A topic queue that always has a delivery ready does not hold back a call
// to this server alone or a fanout cast: the fast path yields to a select
// over every queue after a streak. Without that bound the other delivery
// would wait until the topic feed ran out.
func TestWorkerPoolBusyTopicQueueYields(t *testing.T) {
	for i, name := range []string{"server queue", "fanout queue"} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testBusyTopicQueueYields(t, 1+i) })
		})
	}
}

func testBusyTopicQueueYields(t *testing.T, queue int) {
	const topicFeed = 4096
	var topicServed atomic.Int64
	gate := make(chan struct{})
	other := make(chan int64, 1)
	p := newWorkerPool(1, func(_ *listenSession, d *amqp.Delivery) {
		if d.DeliveryTag == 0 {
			other <- topicServed.Load()
			return
		}
		if topicServed.Add(1) == 1 {
			<-gate
		}
	})
	ls, feeds := fakeSession()
	topic := make(chan amqp.Delivery, topicFeed) // always one ready
	for tag := uint64(1); tag <= topicFeed; tag++ {
		topic <- amqp.Delivery{DeliveryTag: tag}
	}
	ls.deliveries[0] = topic
	p.attach(ls)
	var sender sync.WaitGroup
	sender.Go(func() { feeds[queue] <- amqp.Delivery{DeliveryTag: 0} })
	synctest.Wait() // the worker holds the first topic delivery; the other one waits to be taken
	close(gate)
	after := <-other
	sender.Wait()
	p.detach(ls)
	p.inflight.Wait()
	p.stop()
	// Each select over every queue after a streak picks the other queue
	// with even odds: a quarter of the feed is over a hundred streaks.
	assert.Less(t, after, int64(topicFeed/4), "topic deliveries taken before the other one")
}

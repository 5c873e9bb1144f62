package rpc

import (
	"context"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// workerPool owns the worker slots ([DEFAULT] executor_thread_pool_size)
// and runs accepted requests on long-lived goroutines, at most one per slot.
// A request holds its slot from before its ack until its handler returns,
// so that the session stops taking deliveries while every worker is busy.
// A goroutine per request would start with a small stack and grow it on
// every request, down in the library's publish path: a few per cent of the
// CPU a call costs.
type workerPool struct {
	handle   func(job)
	slots    chan struct{}
	jobs     chan job
	started  int            // used by the session goroutine only
	inflight sync.WaitGroup // requests handed over and not yet finished
	workers  sync.WaitGroup
}

// job is one accepted request, holding a worker slot until it is done.
type job struct {
	req *request
}

func newWorkerPool(limit int, handle func(job)) *workerPool {
	return &workerPool{handle: handle, slots: make(chan struct{}, limit), jobs: make(chan job)}
}

// tryTake takes a free worker slot, if there is one.
func (p *workerPool) tryTake() bool {
	select {
	case p.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// take waits for a free worker slot, unless ctx is cancelled or the
// connection or channel closes first (their notifications are the session's:
// a close is returned as the session's end).
func (p *workerPool) take(ctx context.Context, connClosed, chClosed <-chan *amqp.Error) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case err := <-connClosed:
		return closeReasonErr(err)
	case err := <-chClosed:
		return closeReasonErr(err)
	}
}

// release gives back n slots taken for requests that will not run.
func (p *workerPool) release(n int) {
	for range n {
		<-p.slots
	}
}

// run hands j, which holds a slot, to an idle worker, or to a new one while
// fewer than there are slots exist. With every worker started, j's slot
// proves that one of them is idle or about to be, so the hand-over waits
// only for that.
func (p *workerPool) run(j job) {
	p.inflight.Add(1)
	select {
	case p.jobs <- j:
		return
	default:
	}
	if p.started < cap(p.slots) {
		p.started++
		p.workers.Go(func() { p.work(j) })
		return
	}
	p.jobs <- j
}

// work runs jobs until stop, freeing each one's slot once it is handled.
func (p *workerPool) work(j job) {
	for ok := true; ok; j, ok = <-p.jobs {
		p.handle(j)
		p.release(1)
		p.inflight.Done()
	}
}

// stop ends the workers once every request handed over is done.
func (p *workerPool) stop() {
	p.inflight.Wait()
	close(p.jobs)
	p.workers.Wait()
}

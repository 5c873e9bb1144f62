package rpc

import (
	"sync"

	"github.com/sirupsen/logrus"
)

// workerPool runs accepted requests on long-lived goroutines, at most one
// per worker slot. A goroutine per request would start with a small stack
// and grow it on every request, down in the library's publish path: a few
// per cent of the CPU a call costs.
type workerPool struct {
	handle   func(job)
	jobs     chan job
	started  int // used by the session goroutine only
	limit    int
	inflight sync.WaitGroup // requests handed over and not yet finished
	workers  sync.WaitGroup
}

// job is one accepted request, holding a worker slot until it is done.
type job struct {
	req *request
	log *logrus.Entry
}

func newWorkerPool(limit int, handle func(job)) *workerPool {
	return &workerPool{handle: handle, jobs: make(chan job), limit: limit}
}

// run hands j to an idle worker, or to a new one while fewer than limit
// exist. With limit workers started, the caller's slot proves that one of
// them is idle or about to be, so the hand-over waits only for that.
func (p *workerPool) run(j job) {
	p.inflight.Add(1)
	select {
	case p.jobs <- j:
		return
	default:
	}
	if p.started < p.limit {
		p.started++
		p.workers.Go(func() { p.work(j) })
		return
	}
	p.jobs <- j
}

func (p *workerPool) work(j job) {
	for ok := true; ok; j, ok = <-p.jobs {
		p.handle(j)
		p.inflight.Done()
	}
}

// stop ends the workers once every request handed over is done.
func (p *workerPool) stop() {
	p.inflight.Wait()
	close(p.jobs)
	p.workers.Wait()
}

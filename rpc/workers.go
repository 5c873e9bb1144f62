package rpc

import (
	"sync"
	"sync/atomic"

	amqp "github.com/rabbitmq/amqp091-go"
)

// workerPool owns the handler slots ([DEFAULT] executor_thread_pool_size):
// at most that many long-lived workers, each taking deliveries straight from
// the current session's consumers and handling them itself, from decode
// and ack to reply. No goroutine stands between the library's consumer and
// the handler: every extra hand-over costs a wake-up of a parked
// goroutine, which is both CPU and latency on every call, the more so on a
// few cores shared with the broker.
//
// A worker holds its slot from before its ack until its reply is handed
// over. While every worker is busy nobody takes deliveries, so they wait
// unacked (redelivered if the session dies meanwhile). Workers start
// lazily, one more each time the last idle one takes a delivery, so that
// one is always waiting while slots remain. Long-lived workers keep the
// stacks a call grows, down in the library's publish path, instead of
// growing a fresh one per request.
type workerPool struct {
	limit int
	serve func(*listenSession, *amqp.Delivery)

	mu      sync.Mutex
	cur     *listenSession // nil between sessions
	changed chan struct{}  // closed when cur is set or the pool stops
	stopped bool
	started int
	idle    int

	busy     atomic.Int32   // workers handling a delivery (HandlerSlots)
	inflight sync.WaitGroup // deliveries taken and not yet handled
	workers  sync.WaitGroup
}

func newWorkerPool(limit int, serve func(*listenSession, *amqp.Delivery)) *workerPool {
	return &workerPool{limit: limit, serve: serve, changed: make(chan struct{})}
}

// attach makes ls the session the workers take deliveries from, starting
// the first worker.
func (p *workerPool) attach(ls *listenSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur = ls
	close(p.changed)
	p.changed = make(chan struct{})
	if p.started == 0 {
		p.startLocked()
	}
}

// detach stops the workers taking deliveries from ls: a delivery taken
// after this is left unacked, for the broker to give again once the
// channel closes. Every delivery taken before is counted in inflight by
// the time detach returns, so that a drain then waits for it.
func (p *workerPool) detach(ls *listenSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ls.detached {
		return
	}
	ls.detached = true
	close(ls.done)
	if p.cur == ls {
		p.cur = nil
	}
}

// stop ends the workers; the caller has detached the last session and
// drained what was in flight.
func (p *workerPool) stop() {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.changed)
	}
	p.mu.Unlock()
	p.workers.Wait()
}

func (p *workerPool) startLocked() {
	p.started++
	p.idle++
	p.workers.Go(p.work)
}

// maxTopicStreak is how many deliveries in a row a worker takes from the
// topic queue's fast path before it waits on every queue again, where the
// select picks among the ready ones at random: a busy topic queue cannot
// hold back a call to this server alone or a fanout cast for longer.
const maxTopicStreak = 8

// work takes deliveries from each session in turn until the pool stops.
func (p *workerPool) work() {
	for {
		ls := p.session()
		if ls == nil {
			return
		}
		streak := 0
		for {
			d, fast, ok := ls.receive(streak < maxTopicStreak)
			if !ok || !p.begin(ls) {
				break
			}
			if fast {
				streak++
			} else {
				streak = 0
			}
			p.serve(ls, d)
			p.end()
		}
	}
}

// session waits for a session to take deliveries from; nil once the pool
// stops.
func (p *workerPool) session() *listenSession {
	for {
		p.mu.Lock()
		ls, stopped, changed := p.cur, p.stopped, p.changed
		p.mu.Unlock()
		switch {
		case stopped:
			return nil
		case ls != nil:
			return ls
		}
		<-changed
	}
}

// begin takes the worker's slot for a delivery of ls; false when ls was
// detached meanwhile. The last idle worker starts another while slots
// remain.
func (p *workerPool) begin(ls *listenSession) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ls.detached {
		return false
	}
	p.inflight.Add(1)
	p.busy.Add(1)
	p.idle--
	if p.idle == 0 && p.started < p.limit && !p.stopped {
		p.startLocked()
	}
	return true
}

func (p *workerPool) end() {
	p.mu.Lock()
	p.idle++
	p.mu.Unlock()
	p.busy.Add(-1)
	p.inflight.Done()
}

package manager

import (
	"context"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/grace"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
)

// pool runs the operations the RPCs build, in the background: Python's
// green pool of max_concurrent_operations threads, or one green thread per
// flow when that is 0. Every goroutine it starts is waited for by drain.
type pool struct {
	log   *logrus.Entry
	slots chan struct{} // nil: no limit
	// ctx is the operations' context: the service's, not a request's,
	// cancelled by drain once the grace period is over.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool
	closing chan struct{} // closed by drain: no operation starts any more
	running sync.WaitGroup
}

func newPool(log *logrus.Entry, size int) *pool {
	ctx, cancel := context.WithCancel(logctx.With(context.Background(), log))
	p := &pool{log: log, ctx: ctx, cancel: cancel, closing: make(chan struct{})}
	if size > 0 {
		p.slots = make(chan struct{}, size)
	}
	return p
}

// start runs op in the background. With a limit it first waits for a free
// slot, as the Python handler blocks in GreenPool.spawn_n. An operation that
// cannot start (the pool is stopping, or the RPC handler is being cancelled
// while it waits) is failed at once, so its checkpoint, restore or
// verification gets its failure status instead of staying in progress.
// reqCtx supplies the request's log fields and the wait's cancellation; the
// operation itself runs under the pool's context.
func (p *pool) start(reqCtx context.Context, op *providers.Operation) {
	log := logctx.From(reqCtx)
	if p.slots != nil {
		select {
		case p.slots <- struct{}{}:
		case <-reqCtx.Done():
			p.fail(log, op, "the request was cancelled while it waited for a free operation slot")
			return
		case <-p.closing:
			p.fail(log, op, "the service is stopping")
			return
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.release()
		p.fail(log, op, "the service is stopping")
		return
	}
	p.running.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.running.Done()
		defer p.release()
		// Run logs how the operation ended; its error adds nothing here.
		_ = op.Run(logctx.With(p.ctx, log))
	}()
}

func (p *pool) release() {
	if p.slots != nil {
		<-p.slots
	}
}

// fail abandons op: nothing runs and its failure status is recorded.
func (p *pool) fail(log *logrus.Entry, op *providers.Operation, why string) {
	if err := op.Abandon(logctx.With(p.ctx, log), why); err != nil {
		log.WithError(err).Error("Could not record the failure of an operation that did not start")
	}
}

// drain stops the pool: no operation starts any more, the running ones get
// period to finish, then their context is cancelled (they revert to their
// failure status) and drain waits until every one has returned.
func (p *pool) drain(period time.Duration) {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.closing)
	}
	p.mu.Unlock()
	defer p.cancel()
	grace.Wait(&p.running, period, func() {
		p.log.Warnf("Operations still running after %s; cancelling them (they revert to their failure status)", period)
		p.cancel()
	})
}

package db

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// errNoRow is returned by a write whose row does not exist (or is
// soft-deleted). Python raises *NotFound there; we log it and move on.
var errNoRow = errors.New("row not found")

// job is one queued write. run is called once per attempt with a context
// bounded by the attempt timeout.
type job struct {
	what string // for logs: "update restores <id>"
	log  *logrus.Entry
	run  func(ctx context.Context) error
}

// writerConfig bounds the queue and the retries.
type writerConfig struct {
	queueSize      int
	enqueueTimeout time.Duration // how long a caller may wait for room in a full queue
	drainTimeout   time.Duration // how long Run may spend on queued writes after its ctx ends
	attemptTimeout time.Duration
	maxRetries     int // -1: for ever
	retryInterval  time.Duration
}

// writer runs queued writes one at a time, in the order they were queued,
// so the writes to one row land in the order the flow made them. A write
// that fails for want of a database is retried in place: the writes behind
// it wait rather than overtake it.
type writer struct {
	cfg    writerConfig
	health *health
	queue  chan job
	obs    Observer // nil: none

	// intake guards closing: senders hold it shared while they wait for
	// room, stop takes it exclusively once stopped is closed, so no job is
	// sent after the final drain.
	intake  sync.RWMutex
	closed  bool
	stopped chan struct{}
	once    sync.Once
}

func newWriter(cfg writerConfig, h *health, obs Observer) *writer {
	return &writer{cfg: cfg, health: h, queue: make(chan job, cfg.queueSize), stopped: make(chan struct{}), obs: obs}
}

// Observer is told about the database writes that go wrong, for metrics.
// Its methods are called from the recorder's callers and the writer's
// goroutine; they must be cheap and must not block.
type Observer interface {
	// WriteRetried: a write failed for want of a database and is tried
	// again.
	WriteRetried()
	// WriteDropped: a write was given up, for one of the Drop* reasons.
	WriteDropped(reason string)
}

// Why a write was given up (Observer.WriteDropped).
const (
	DropClosed    = "closed"     // queued after the store stopped
	DropQueueFull = "queue_full" // no room in the queue within EnqueueTimeout
	DropRefused   = "refused"    // the database refused it (a permanent error)
	DropRetries   = "retries"    // still failing after max_retries
	DropShutdown  = "shutdown"   // not done within DrainTimeout at shutdown
)

func (w *writer) dropped(reason string) {
	if w.obs != nil {
		w.obs.WriteDropped(reason)
	}
}

// enqueue queues j, waiting at most enqueueTimeout for room.
func (w *writer) enqueue(j job) error {
	w.intake.RLock()
	defer w.intake.RUnlock()
	if w.closed {
		j.log.WithError(ErrClosed).Errorf("database write dropped: %s", j.what)
		w.dropped(DropClosed)
		return ErrClosed
	}
	select {
	case w.queue <- j:
		return nil
	default:
	}
	timer := time.NewTimer(w.cfg.enqueueTimeout)
	defer timer.Stop()
	select {
	case w.queue <- j:
		return nil
	case <-w.stopped:
		j.log.WithError(ErrClosed).Errorf("database write dropped: %s", j.what)
		w.dropped(DropClosed)
		return ErrClosed
	case <-timer.C:
		j.log.WithError(ErrBusy).Errorf("database write dropped after waiting %v for room in the queue: %s", w.cfg.enqueueTimeout, j.what)
		w.dropped(DropQueueFull)
		return ErrBusy
	}
}

// run executes queued writes until ctx ends, then stops taking new ones and
// spends at most drainTimeout on those still queued, so the final statuses
// of flows that ended just before shutdown are written.
func (w *writer) run(ctx context.Context) {
	var pending *job
	for pending == nil {
		select {
		case j := <-w.queue:
			if !w.do(ctx, j, false) {
				pending = &j
			}
		case <-ctx.Done():
			w.drain(ctx, nil)
			return
		}
	}
	w.drain(ctx, pending)
}

func (w *writer) drain(ctx context.Context, pending *job) {
	w.stop()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.drainTimeout)
	defer cancel()
	if pending != nil {
		w.do(dctx, *pending, true)
	}
	for {
		select {
		case j := <-w.queue:
			w.do(dctx, j, true)
		default:
			return
		}
	}
}

// stop refuses new writes; it returns once no sender can still add one.
func (w *writer) stop() {
	w.once.Do(func() {
		close(w.stopped)
		w.intake.Lock()
		w.closed = true
		w.intake.Unlock()
	})
}

// do runs j with retries. It returns false if ctx ended before j was done
// one way or the other; the caller then gives it its last chance in the
// drain, where an end of ctx drops it.
func (w *writer) do(ctx context.Context, j job, draining bool) bool {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, w.cfg.attemptTimeout)
		err := j.run(actx)
		cancel()
		switch {
		case err == nil:
			w.health.ok()
			return true
		case errors.Is(err, errNoRow):
			w.health.ok()
			j.log.Warnf("database write skipped, the row does not exist: %s", j.what)
			return true
		case permanent(err):
			j.log.WithError(err).Errorf("database write dropped, the database refused it: %s", j.what)
			w.dropped(DropRefused)
			return true
		case ctx.Err() != nil:
			return w.interrupted(j, err, draining)
		}
		w.health.failed(err)
		if w.cfg.maxRetries >= 0 && attempt >= w.cfg.maxRetries {
			j.log.WithError(err).Errorf("database write dropped after %d attempts: %s", attempt+1, j.what)
			w.dropped(DropRetries)
			return true
		}
		if w.obs != nil {
			w.obs.WriteRetried()
		}
		j.log.WithError(err).Debugf("database write failed, retrying in %v: %s", w.cfg.retryInterval, j.what)
		if !sleep(ctx, w.cfg.retryInterval) {
			return w.interrupted(j, err, draining)
		}
	}
}

func (w *writer) interrupted(j job, err error, draining bool) bool {
	if draining {
		j.log.WithError(err).Errorf("database write dropped at shutdown: %s", j.what)
		w.dropped(DropShutdown)
	}
	return draining
}

// sleep waits d or until ctx ends; it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// health logs when the database goes away and when it is back, once each,
// as oslo's service does with its model_disconnected flag.
type health struct {
	log  *logrus.Entry
	mu   sync.Mutex
	down bool
}

func (h *health) failed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down {
		h.down = true
		h.log.WithError(err).Error("karbor database unreachable; retrying")
	}
}

func (h *health) ok() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		h.down = false
		h.log.Info("karbor database connection recovered")
	}
}

func (h *health) isDown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down
}

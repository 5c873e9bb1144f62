package taskflow

import (
	"context"
	"fmt"
	"sync"
)

// job is a task to execute, or to revert.
type job struct {
	node   int32
	revert bool
}

// outcome is what a job did.
type outcome struct {
	node   int32
	revert bool
	result any
	err    error
}

// phase is where the run is: executing, reverting, or over (the workers
// leave).
type phase uint8

const (
	executing phase = iota
	reverting
	over
)

// run is the state of one Run. The workers schedule for themselves: under
// mu, a worker records what its task did, releases the successors, and
// takes the next ready task, so a task that follows another costs no
// hand-off between goroutines. Everything but the task bodies happens under
// mu, listeners included. A revert reads the result and error of its task,
// recorded before the revert was taken, which mu orders.
type run struct {
	c         *Compiled
	ctx       context.Context
	ctxDone   <-chan struct{}
	revertCtx context.Context
	listeners []Listener
	workers   int
	wg        sync.WaitGroup

	mu       sync.Mutex
	cond     sync.Cond // a job is ready, or the run is over
	idle     int       // workers waiting on cond
	phase    phase
	results  []any
	errs     []error
	states   []State
	counts   []int32 // predecessors left to succeed; then successors left to revert
	queue    []int32 // ready nodes; queue[head:] not yet taken
	head     int
	inflight int
	finished int32 // nodes that succeeded
	stopping bool

	state         State
	failures      []*TaskError
	canceled      error
	cause         error
	reverts       []TaskRevert
	revertErrs    []error
	listenerPanic *PanicError
}

func (r *run) run() {
	r.cond.L = &r.mu
	r.ctxDone = r.ctx.Done()
	r.mu.Lock()
	r.flowTransition(Running, nil)
	c := r.c
	for i := range c.nodes() {
		if r.counts[i] = c.predOff[i+1] - c.predOff[i]; r.counts[i] == 0 {
			r.queue = append(r.queue, i)
		}
	}
	r.mu.Unlock()
	r.wg.Add(r.workers)
	for range r.workers {
		go r.worker()
	}
	r.wg.Wait()
	if r.listenerPanic != nil {
		panic(r.listenerPanic)
	}
}

func (r *run) worker() {
	defer r.wg.Done()
	r.mu.Lock()
	for {
		j, ok := r.next()
		if !ok {
			break
		}
		r.mu.Unlock()
		o := r.serve(j)
		r.mu.Lock()
		r.finish(o)
	}
	r.mu.Unlock()
}

// next returns the next job, waiting for one if need be, or false when the
// run is over. Called with mu held.
func (r *run) next() (job, bool) {
	for {
		switch r.phase {
		case executing:
			if i, ok := r.nextExecute(); ok {
				return job{node: i}, true
			}
			if r.inflight == 0 {
				r.endExecute()
				continue
			}
		case reverting:
			if i, ok := r.nextRevert(); ok {
				return job{node: i, revert: true}, true
			}
			if r.inflight == 0 {
				r.endRevert()
				continue
			}
		default:
			return job{}, false
		}
		r.idle++
		r.cond.Wait()
		r.idle--
	}
}

// take pops the next ready node and wakes an idle worker for the one after.
func (r *run) take() int32 {
	i := r.queue[r.head]
	r.head++
	if r.idle > 0 && r.head < len(r.queue) {
		r.cond.Signal()
	}
	return i
}

func (r *run) nextExecute() (int32, bool) {
	if r.ctxDone != nil && !r.stopping {
		select {
		case <-r.ctxDone:
			r.cancel()
		default:
		}
	}
	nt := int32(len(r.c.tasks))
	for !r.stopping && r.head < len(r.queue) {
		i := r.take()
		if i >= nt {
			r.states[i] = Success
			r.succeeded(i)
			continue
		}
		r.transition(i, Running, nil, nil)
		r.inflight++
		return i, true
	}
	return 0, false
}

func (r *run) cancel() {
	r.stopping = true
	r.canceled = r.ctx.Err()
	if cause := context.Cause(r.ctx); cause != r.canceled {
		r.canceled = fmt.Errorf("%w: %w", r.canceled, cause)
	}
}

// endExecute ends the run when every task succeeded, and otherwise starts
// reverting: every node that ran reverts once all its successors that ran
// have reverted.
func (r *run) endExecute() {
	c := r.c
	if r.finished == c.nodes() {
		r.flowTransition(Success, nil)
		r.phase = over
		r.cond.Broadcast()
		return
	}
	if r.canceled == nil && r.ctx.Err() != nil {
		r.cancel() // tasks failed because the context was cancelled
	}
	var causes errorList
	for _, f := range r.failures {
		causes = append(causes, f)
	}
	if r.canceled != nil {
		causes = append(causes, r.canceled)
	}
	r.cause = causes
	r.revertCtx = context.WithoutCancel(r.ctx)
	r.phase = reverting
	r.flowTransition(Reverting, r.cause)
	r.queue, r.head = r.queue[:0], 0
	for i := range c.nodes() {
		if !ranToEnd(r.states[i]) {
			continue
		}
		left := int32(0)
		for _, s := range c.succ[c.succOff[i]:c.succOff[i+1]] {
			if ranToEnd(r.states[s]) {
				left++
			}
		}
		if r.counts[i] = left; left == 0 {
			r.queue = append(r.queue, i)
		}
	}
}

func (r *run) nextRevert() (int32, bool) {
	nt := int32(len(r.c.tasks))
	for r.head < len(r.queue) {
		i := r.take()
		if i >= nt {
			r.states[i] = Reverted
			r.unblockRevert(i)
			continue
		}
		r.transition(i, Reverting, nil, nil)
		if r.c.tasks[i].reverter == nil {
			r.revertDone(i, false, nil)
			continue
		}
		r.inflight++
		return i, true
	}
	return 0, false
}

func (r *run) endRevert() {
	r.phase = over
	if len(r.revertErrs) > 0 {
		r.flowTransition(RevertFailure, errorList(r.revertErrs))
	} else {
		r.flowTransition(Reverted, r.cause)
	}
	r.cond.Broadcast()
}

// finish records what a job did. Called with mu held.
func (r *run) finish(o outcome) {
	r.inflight--
	i := o.node
	switch {
	case o.revert:
		r.revertDone(i, true, o.err)
	case o.err != nil:
		r.errs[i] = o.err
		r.transition(i, Failure, nil, o.err)
		r.failures = append(r.failures, &TaskError{Task: r.c.tasks[i].name, Err: o.err})
		r.stopping = true
	default:
		r.results[i] = o.result
		r.transition(i, Success, o.result, nil)
		r.succeeded(i)
	}
}

func (r *run) succeeded(i int32) {
	r.finished++
	c := r.c
	for _, s := range c.succ[c.succOff[i]:c.succOff[i+1]] {
		if r.counts[s]--; r.counts[s] == 0 {
			r.queue = append(r.queue, s)
		}
	}
}

func ranToEnd(s State) bool { return s == Success || s == Failure }

func (r *run) revertDone(i int32, called bool, err error) {
	name := r.c.tasks[i].name
	r.reverts = append(r.reverts, TaskRevert{Task: name, Called: called, Err: err})
	if err != nil {
		r.revertErrs = append(r.revertErrs, &RevertError{Task: name, Err: err})
		r.transition(i, RevertFailure, nil, err)
	} else {
		r.transition(i, Reverted, nil, nil)
	}
	r.unblockRevert(i)
}

// unblockRevert lets the predecessors of i revert once all their successors
// that ran have been reverted. A revert that failed unblocks too: the rest
// of the flow is still undone (see the package documentation).
func (r *run) unblockRevert(i int32) {
	c := r.c
	for _, p := range c.pred[c.predOff[i]:c.predOff[i+1]] {
		if ranToEnd(r.states[p]) {
			if r.counts[p]--; r.counts[p] == 0 {
				r.queue = append(r.queue, p)
			}
		}
	}
}

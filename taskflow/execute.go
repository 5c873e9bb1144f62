package taskflow

import (
	"errors"
	"runtime/debug"
)

// serve runs one job without the lock. A task that calls runtime.Goexit
// (t.FailNow in a test) fails, and a new worker takes this one's place.
func (r *run) serve(j job) (o outcome) {
	o = outcome{node: j.node, revert: j.revert}
	returned := false
	defer func() {
		if !returned {
			o.err = errGoexit
			r.mu.Lock()
			r.finish(o)
			r.mu.Unlock()
			r.wg.Add(1)
			go r.worker()
		}
	}()
	if j.revert {
		o.err = r.revertTask(j.node)
	} else {
		o.result, o.err = r.executeTask(j.node)
	}
	returned = true
	return o
}

var errGoexit = errors.New("task called runtime.Goexit")

func (r *run) executeTask(i int32) (res any, err error) {
	t := &r.c.tasks[i]
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	return t.task.Execute(r.ctx)
}

func (r *run) revertTask(i int32) (err error) {
	t := &r.c.tasks[i]
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	out := Outcome{Result: r.results[i], Err: r.errs[i], Cause: r.cause}
	return t.reverter.Revert(r.revertCtx, out)
}

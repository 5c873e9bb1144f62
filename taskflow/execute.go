package taskflow

import (
	"errors"
	"fmt"
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
	res, err = t.task.Execute(r.ctx, Inputs{r: r, node: i})
	if err == nil {
		err = t.checkResult(res)
	}
	return res, err
}

func (r *run) revertTask(i int32) (err error) {
	t := &r.c.tasks[i]
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	out := Outcome{Result: r.results[i], Err: r.errs[i], Cause: r.cause}
	return t.reverter.Revert(r.revertCtx, Inputs{r: r, node: i}, out)
}

func (t *taskNode) checkResult(res any) error {
	if len(t.provides) < 2 {
		return nil
	}
	m, ok := res.(map[string]any)
	if !ok {
		return fmt.Errorf("%w: the task provides %q but returned %T, not a map[string]any", ErrBadResult, t.provides, res)
	}
	for _, name := range t.provides {
		if _, ok := m[name]; !ok {
			return fmt.Errorf("%w: the task provides %q but its result lacks %q", ErrBadResult, t.provides, name)
		}
	}
	return nil
}

func (r *run) input(node int32, name string) (any, bool) {
	t := &r.c.tasks[node]
	if v, ok := t.inject[name]; ok {
		return v, true
	}
	for _, in := range t.inputs {
		if in.name == name {
			return r.value(in), true
		}
	}
	return nil, false
}

func (r *run) value(in input) any {
	if in.from < 0 {
		return r.store[-in.from-1]
	}
	v := r.results[in.from]
	if in.multi {
		return v.(map[string]any)[in.name]
	}
	return v
}

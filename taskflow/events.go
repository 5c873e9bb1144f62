package taskflow

import "runtime/debug"

func (r *run) transition(i int32, to State, result any, err error) {
	from := r.states[i]
	r.states[i] = to
	if len(r.listeners) == 0 {
		return
	}
	e := TaskEvent{Flow: r.c.name, Task: r.c.tasks[i].name, From: from, To: to, Result: result, Err: err}
	for _, l := range r.listeners {
		if !r.tellTask(l, e) {
			return
		}
	}
}

func (r *run) flowTransition(to State, err error) {
	e := FlowEvent{Flow: r.c.name, From: r.state, To: to, Err: err}
	r.state = to
	for _, l := range r.listeners {
		if !r.tellFlow(l, e) {
			return
		}
	}
}

func (r *run) tellTask(l Listener, e TaskEvent) (ok bool) {
	defer r.recoverListener(&ok)
	l.TaskChanged(e)
	return true
}

func (r *run) tellFlow(l Listener, e FlowEvent) (ok bool) {
	defer r.recoverListener(&ok)
	l.FlowChanged(e)
	return true
}

// recoverListener turns a listener's panic into the end of the run: no more
// events, nothing new starts, what ran is reverted, and Run panics with it
// in its caller's goroutine once every worker has stopped.
func (r *run) recoverListener(ok *bool) {
	if p := recover(); p != nil {
		r.listenerPanic = &PanicError{Value: p, Stack: debug.Stack()}
		r.listeners = nil
		r.stopping = true
		*ok = false
	}
}

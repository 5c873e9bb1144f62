package taskflow

import (
	"fmt"
	"strings"
)

// Result is what a run did.
type Result struct {
	Flow string
	// State is Success, Reverted (the flow failed and every revert
	// succeeded) or RevertFailure (some revert failed too).
	State State
	// Failures are the tasks that failed, in the order they did: the first
	// one stopped scheduling, the others were running at the time.
	Failures []*TaskError
	// Canceled is the context's error when cancelling it stopped the run.
	Canceled error
	// Reverts are every task reverted, in the order the reverts finished.
	Reverts []TaskRevert

	c      *Compiled
	states []State
}

// TaskRevert is what reverting one task did.
type TaskRevert struct {
	Task string
	// Called says the task had a Revert to call; a task without one is only
	// marked reverted.
	Called bool
	// Err is the revert's failure (a panic is a *PanicError).
	Err error
}

// Err returns nil when the flow succeeded, otherwise a *FlowError holding
// every task failure, the cancellation and every revert failure.
func (r *Result) Err() error {
	if r.State == Success {
		return nil
	}
	var errs errorList
	for _, f := range r.Failures {
		errs = append(errs, f)
	}
	if r.Canceled != nil {
		errs = append(errs, r.Canceled)
	}
	for _, rv := range r.Reverts {
		if rv.Err != nil {
			errs = append(errs, &RevertError{Task: rv.Task, Err: rv.Err})
		}
	}
	return &FlowError{Flow: r.Flow, State: r.State, Errs: errs}
}

// TaskState returns the state a task ended in (Pending for a task that never
// started or for an unknown name).
func (r *Result) TaskState(task string) State {
	if i, ok := r.c.byName[task]; ok {
		return r.states[i]
	}
	return Pending
}

// FlowError is a failed run's error.
type FlowError struct {
	Flow  string
	State State // Reverted or RevertFailure
	Errs  []error
}

func (e *FlowError) Error() string {
	return fmt.Sprintf("taskflow: flow %q %s: %s", e.Flow, e.State, errorList(e.Errs).Error())
}

// Unwrap returns the task failures, the cancellation and the revert
// failures, so errors.Is and errors.As see each of them.
func (e *FlowError) Unwrap() []error { return e.Errs }

// TaskError is the failure of one task's Execute.
type TaskError struct {
	Task string
	Err  error
}

func (e *TaskError) Error() string { return fmt.Sprintf("task %q failed: %v", e.Task, e.Err) }

// Unwrap returns the task's error.
func (e *TaskError) Unwrap() error { return e.Err }

// RevertError is the failure of one task's Revert.
type RevertError struct {
	Task string
	Err  error
}

func (e *RevertError) Error() string {
	return fmt.Sprintf("revert of task %q failed: %v", e.Task, e.Err)
}

// Unwrap returns the revert's error.
func (e *RevertError) Unwrap() error { return e.Err }

// PanicError is a panic in Execute or Revert, turned into a failure.
type PanicError struct {
	Value any
	Stack []byte // of the panicking goroutine
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// errorList joins errors on one line (errors.Join uses newlines, which
// break log lines).
type errorList []error

func (l errorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

func (l errorList) Unwrap() []error { return l }

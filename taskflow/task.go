package taskflow

import "context"

// Task is one unit of work. Its name is read once, when the flow is
// compiled.
type Task interface {
	// Name identifies the task: names are unique within a compiled flow, and
	// links, events and results refer to tasks by name.
	Name() string
	// Execute does the work. An error (or a panic) fails the task and makes
	// the engine revert the flow. The result is reported to listeners and to
	// the task's Revert.
	Execute(ctx context.Context) (any, error)
}

// Reverter is implemented by tasks that can undo their work. A task without
// it is simply marked reverted.
type Reverter interface {
	// Revert undoes Execute. It is called for the task that failed (out.Err
	// set) and for every task that completed (out.Result set).
	Revert(ctx context.Context, out Outcome) error
}

// Outcome is what Revert is told about the run it undoes.
type Outcome struct {
	// Result is what Execute returned; nil for the task that failed.
	Result any
	// Err is the task's own failure; nil for a task that completed.
	Err error
	// Cause is why the flow is being reverted: every task failure, and the
	// context's error when the run was cancelled.
	Cause error
}

// ExecuteFunc is the body of a task made with NewTask.
type ExecuteFunc func(ctx context.Context) (any, error)

// RevertFunc is the undo of a task made with NewTask.
type RevertFunc func(ctx context.Context, out Outcome) error

// TaskOption configures a task made with NewTask.
type TaskOption func(*funcTask)

// OnRevert gives the task a revert.
func OnRevert(revert RevertFunc) TaskOption {
	return func(t *funcTask) { t.revert = revert }
}

// NewTask makes a Task from a function (nil does nothing). The result
// implements Reverter only when OnRevert is given, so that a task without a
// revert is marked reverted without a call.
func NewTask(name string, execute ExecuteFunc, opts ...TaskOption) Task {
	t := &funcTask{name: name, execute: execute}
	for _, o := range opts {
		o(t)
	}
	if t.revert != nil {
		return &revertingFuncTask{t}
	}
	return t
}

type funcTask struct {
	name    string
	execute ExecuteFunc
	revert  RevertFunc
}

func (t *funcTask) Name() string { return t.name }
func (t *funcTask) Execute(ctx context.Context) (any, error) {
	if t.execute == nil {
		return nil, nil
	}
	return t.execute(ctx)
}

type revertingFuncTask struct{ *funcTask }

func (t *revertingFuncTask) Revert(ctx context.Context, out Outcome) error {
	return t.revert(ctx, out)
}

package taskflow

import (
	"context"
	"fmt"
)

// Task is one unit of work. Name, Requires and Provides are read once, when
// the flow is compiled.
type Task interface {
	// Name identifies the task: names are unique within a compiled flow, and
	// links, events and results refer to tasks by name.
	Name() string
	// Requires names the values Execute reads (see Inputs).
	Requires() []string
	// Provides names the values Execute returns. With one name the whole
	// result is stored under it; with several the result must be a
	// map[string]any holding every one of them.
	Provides() []string
	// Execute does the work. An error (or a panic) fails the task and makes
	// the engine revert the flow.
	Execute(ctx context.Context, in Inputs) (any, error)
}

// Reverter is implemented by tasks that can undo their work. A task without
// it is simply marked reverted.
type Reverter interface {
	// Revert undoes Execute. It is called for the task that failed (out.Err
	// set) and for every task that completed (out.Result set).
	Revert(ctx context.Context, in Inputs, out Outcome) error
}

// Injector is implemented by tasks that carry their own input values (as
// TaskFlow's per-atom inject). They are inputs of the task whether or not it
// lists them in Requires, and they take precedence over the store and over
// other tasks' results.
type Injector interface {
	Inject() map[string]any
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
type ExecuteFunc func(ctx context.Context, in Inputs) (any, error)

// RevertFunc is the undo of a task made with NewTask.
type RevertFunc func(ctx context.Context, in Inputs, out Outcome) error

// TaskOption configures a task made with NewTask.
type TaskOption func(*funcTask)

// Requires declares the names the task reads.
func Requires(names ...string) TaskOption {
	return func(t *funcTask) { t.requires = append(t.requires, names...) }
}

// Provides declares the names the task's result is stored under.
func Provides(names ...string) TaskOption {
	return func(t *funcTask) { t.provides = append(t.provides, names...) }
}

// Inject gives the task its own input values (see Injector).
func Inject(values map[string]any) TaskOption {
	return func(t *funcTask) { t.inject = values }
}

// OnRevert gives the task a revert.
func OnRevert(revert RevertFunc) TaskOption {
	return func(t *funcTask) { t.revert = revert }
}

// NewTask makes a Task from a function (nil does nothing). The result
// implements Injector, and Reverter only when OnRevert is given, so that a
// task without a revert is marked reverted without a call.
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
	name     string
	requires []string
	provides []string
	inject   map[string]any
	execute  ExecuteFunc
	revert   RevertFunc
}

func (t *funcTask) Name() string           { return t.name }
func (t *funcTask) Requires() []string     { return t.requires }
func (t *funcTask) Provides() []string     { return t.provides }
func (t *funcTask) Inject() map[string]any { return t.inject }
func (t *funcTask) Execute(ctx context.Context, in Inputs) (any, error) {
	if t.execute == nil {
		return nil, nil
	}
	return t.execute(ctx, in)
}

type revertingFuncTask struct{ *funcTask }

func (t *revertingFuncTask) Revert(ctx context.Context, in Inputs, out Outcome) error {
	return t.revert(ctx, in, out)
}

// Inputs gives a task its input values: its injected values first, then the
// result of the task that provides the name, then the flow's store. A task
// sees only its declared inputs, so that every value it reads is one the
// compiler ordered it after. Reading an input allocates nothing.
type Inputs struct {
	r    *run
	node int32
	m    map[string]any
}

// InputsOf returns Inputs holding values, for calling a task's Execute or
// Revert outside an engine (in tests, for instance).
func InputsOf(values map[string]any) Inputs { return Inputs{m: values} }

// Lookup returns the input called name and whether the task has it.
func (in Inputs) Lookup(name string) (any, bool) {
	if in.r == nil {
		v, ok := in.m[name]
		return v, ok
	}
	return in.r.input(in.node, name)
}

// Get returns the input called name, or nil if the task has none.
func (in Inputs) Get(name string) any {
	v, _ := in.Lookup(name)
	return v
}

// Task returns the name of the task the inputs belong to ("" for InputsOf).
func (in Inputs) Task() string {
	if in.r == nil {
		return ""
	}
	return in.r.c.tasks[in.node].name
}

// Map returns every input in a new map.
func (in Inputs) Map() map[string]any {
	if in.r == nil {
		m := make(map[string]any, len(in.m))
		for k, v := range in.m {
			m[k] = v
		}
		return m
	}
	t := &in.r.c.tasks[in.node]
	m := make(map[string]any, len(t.inject)+len(t.inputs))
	for _, i := range t.inputs {
		m[i.name] = in.r.value(i)
	}
	for k, v := range t.inject {
		m[k] = v
	}
	return m
}

// Input returns the input called name as a T. A nil value gives T's zero
// value; a missing input or a value of another type is an error naming the
// task.
func Input[T any](in Inputs, name string) (T, error) {
	var zero T
	v, ok := in.Lookup(name)
	if !ok {
		return zero, fmt.Errorf("%w: task %q has no input %q", ErrMissingInput, in.Task(), name)
	}
	if v == nil {
		return zero, nil
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("task %q: input %q is %T, not %T", in.Task(), name, v, zero)
	}
	return t, nil
}

package taskflow

import (
	"context"
	"errors"
	"fmt"
)

// DefaultWorkers bounds how many tasks of a run execute at once when Workers
// is not given. Karbor's tasks mostly wait on OpenStack services, so the
// bound is about how hard one operation may press on them, not about CPUs.
const DefaultWorkers = 64

// RunOption configures one run.
type RunOption func(*runConfig)

type runConfig struct {
	workers   int
	listeners []Listener
}

// Workers bounds how many tasks execute (or revert) at once; n < 1 means
// DefaultWorkers.
func Workers(n int) RunOption {
	return func(c *runConfig) {
		if n < 1 {
			n = DefaultWorkers
		}
		c.workers = n
	}
}

// WithListener adds a listener to the run.
func WithListener(l Listener) RunOption {
	return func(c *runConfig) { c.listeners = append(c.listeners, l) }
}

// Run executes the flow: every task starts as soon as all it depends on has
// succeeded, on a pool of Workers goroutines. On the first failure (an
// error, a panic, or ctx being cancelled) it starts nothing new, lets the
// running tasks finish, then reverts the failed tasks and every task that
// completed, each only after everything that ran after it has been
// reverted; independent branches revert in parallel. Reverts run under a
// context that is not cancelled with ctx, since they are the clean-up.
//
// store holds the values named at Compile; a missing one is an error and
// nothing runs. Otherwise the Result is never nil and the error is its
// Err(): nil if and only if every task succeeded (a flow whose tasks all
// succeeded has succeeded even if ctx was cancelled meanwhile). Run returns
// once every goroutine it started has ended.
func (c *Compiled) Run(ctx context.Context, store map[string]any, opts ...RunOption) (*Result, error) {
	cfg := runConfig{workers: DefaultWorkers}
	for _, o := range opts {
		o(&cfg)
	}
	values, err := c.storeValues(store)
	if err != nil {
		return nil, err
	}
	n := c.nodes()
	r := &run{
		c: c, ctx: ctx, store: values, listeners: cfg.listeners,
		workers: max(1, min(cfg.workers, len(c.tasks))),
		results: make([]any, len(c.tasks)),
		errs:    make([]error, len(c.tasks)),
		states:  make([]State, n),
		counts:  make([]int32, n),
		queue:   make([]int32, 0, n),
	}
	r.run()
	res := &Result{
		Flow: c.name, State: r.state, Failures: r.failures, Canceled: r.canceled,
		Reverts: r.reverts, c: c, states: r.states, results: r.results, errs: r.errs, store: values,
	}
	return res, res.Err()
}

func (c *Compiled) storeValues(store map[string]any) ([]any, error) {
	values := make([]any, len(c.store))
	var missing []error
	for i, name := range c.store {
		v, ok := store[name]
		if !ok {
			missing = append(missing, fmt.Errorf("taskflow: flow %q: %w: the store lacks %q, named at Compile%s",
				c.name, ErrMissingInput, name, c.needing(name)))
		}
		values[i] = v
	}
	return values, errors.Join(missing...)
}

// needing names a task that requires name from the store (error path only).
func (c *Compiled) needing(name string) string {
	for i := range c.tasks {
		for _, in := range c.tasks[i].inputs {
			if in.name == name && in.from < 0 {
				return fmt.Sprintf(" and required by task %q", c.tasks[i].name)
			}
		}
	}
	return ""
}

package taskflow

import "context"

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
// The Result is never nil and the error is its Err(): nil if and only if
// every task succeeded (a flow whose tasks all succeeded has succeeded even
// if ctx was cancelled meanwhile). Run returns once every goroutine it
// started has ended.
func (c *Compiled) Run(ctx context.Context, opts ...RunOption) (*Result, error) {
	cfg := runConfig{workers: DefaultWorkers}
	for _, o := range opts {
		o(&cfg)
	}
	n := c.nodes()
	r := &run{
		c: c, ctx: ctx, listeners: cfg.listeners,
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
		Reverts: r.reverts, c: c, states: r.states,
	}
	return res, res.Err()
}

package taskflow_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/taskflow"
	"github.com/stretchr/testify/require"
)

// journal records what tasks did, in order, from any goroutine.
type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, s)
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.entries)
}

// before reports whether a was recorded, b was recorded, and a came first.
func (j *journal) before(a, b string) bool {
	l := j.list()
	ia, ib := slices.Index(l, a), slices.Index(l, b)
	return ia >= 0 && ib >= 0 && ia < ib
}

// step is a task that records "x:name" when it executes and "r:name" when
// it reverts, and then does what its options say.
type step struct {
	j      *journal
	name   string
	result any
	fail   error
	revErr error
	onRev  func(context.Context, taskflow.Outcome)
}

func (s *step) Name() string { return s.name }

func (s *step) Execute(ctx context.Context) (any, error) {
	s.j.add("x:" + s.name)
	return s.result, s.fail
}

// reverting is a step with a Revert.
type reverting struct{ *step }

func (s reverting) Revert(ctx context.Context, out taskflow.Outcome) error {
	s.j.add("r:" + s.name)
	if s.onRev != nil {
		s.onRev(ctx, out)
	}
	return s.revErr
}

func (j *journal) task(name string) taskflow.Task { return reverting{&step{j: j, name: name}} }

func (j *journal) failing(name string, err error) taskflow.Task {
	return reverting{&step{j: j, name: name, fail: err}}
}

func mustCompile(t *testing.T, f taskflow.Flow) *taskflow.Compiled {
	t.Helper()
	c, err := taskflow.Compile(f)
	require.NoError(t, err)
	return c
}

// waitClosed waits for ch with a deadline, so a broken engine fails the
// test instead of hanging it.
func waitClosed(ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-time.After(10 * time.Second):
		return context.DeadlineExceeded
	}
}

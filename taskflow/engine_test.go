package taskflow_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gokarbor/karbor-protection/taskflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errBoom = errors.New("boom")

// gate makes tasks wait until want of them run at once, and measures the
// most that ever did.
type gate struct {
	want          int64
	running, peak atomic.Int64
	full          chan struct{}
	once          sync.Once
}

func newGate(want int) *gate { return &gate{want: int64(want), full: make(chan struct{})} }

func (g *gate) pass() error {
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	if n == g.want {
		g.once.Do(func() { close(g.full) })
	}
	return waitClosed(g.full)
}

func TestWorkerBoundIsReachedAndNeverExceeded(t *testing.T) {
	for _, workers := range []int{1, 4, 16} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			g := newGate(workers)
			u := taskflow.NewUnordered("wide")
			for i := range 60 {
				u.Add(taskflow.NewTask(fmt.Sprintf("t%d", i), func(context.Context) (any, error) {
					return nil, g.pass()
				}))
			}
			_, err := mustCompile(t, u).Run(context.Background(), taskflow.Workers(workers))
			require.NoError(t, err)
			assert.Equal(t, int64(workers), g.peak.Load())
		})
	}
}

func TestWorkerBoundHoldsForReverts(t *testing.T) {
	const workers = 3
	g := newGate(workers)
	u := taskflow.NewUnordered("wide")
	for i := range 20 {
		u.Add(taskflow.NewTask(fmt.Sprintf("t%d", i), nil,
			taskflow.OnRevert(func(context.Context, taskflow.Outcome) error { return g.pass() })))
	}
	fail := taskflow.NewTask("fail", func(context.Context) (any, error) { return nil, errBoom })
	res, err := mustCompile(t, taskflow.NewLinear("f", u, fail)).Run(context.Background(), taskflow.Workers(workers))
	require.ErrorIs(t, err, errBoom)
	assert.Equal(t, taskflow.Reverted, res.State, "no revert timed out: %v", err)
	assert.Equal(t, int64(workers), g.peak.Load())
}

func TestLinearFlowRevertsInReverseOrder(t *testing.T) {
	j := &journal{}
	outcomes := map[string]taskflow.Outcome{}
	var mu sync.Mutex
	mk := func(name string, result any, fail error) taskflow.Task {
		return reverting{&step{j: j, name: name, result: result, fail: fail,
			onRev: func(_ context.Context, out taskflow.Outcome) {
				mu.Lock()
				defer mu.Unlock()
				outcomes[name] = out
			}}}
	}
	flow := taskflow.NewLinear("f", mk("a", "ra", nil), mk("b", "rb", nil), mk("c", "rc", nil), mk("d", nil, errBoom), mk("e", nil, nil))
	res, err := mustCompile(t, flow).Run(context.Background(), taskflow.Workers(4))

	require.Error(t, err)
	assert.Equal(t, []string{"x:a", "x:b", "x:c", "x:d", "r:d", "r:c", "r:b", "r:a"}, j.list())
	assert.Equal(t, taskflow.Reverted, res.State)
	assert.Equal(t, taskflow.Pending, res.TaskState("e"))
	var te *taskflow.TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "d", te.Task)
	assert.ErrorIs(t, err, errBoom)
	assert.Equal(t, `taskflow: flow "f" REVERTED: task "d" failed: boom`, err.Error())

	assert.ErrorIs(t, outcomes["d"].Err, errBoom, "the failed task gets its failure")
	assert.Nil(t, outcomes["d"].Result)
	assert.Equal(t, "rc", outcomes["c"].Result, "a completed task gets its result")
	assert.NoError(t, outcomes["c"].Err)
	assert.ErrorIs(t, outcomes["a"].Cause, errBoom)

	var order []string
	for _, r := range res.Reverts {
		assert.True(t, r.Called)
		assert.NoError(t, r.Err)
		order = append(order, r.Task)
	}
	assert.Equal(t, []string{"d", "c", "b", "a"}, order)
}

// Two unordered flows in a row are joined by a barrier node; reverting
// crosses it in reverse.
func TestRevertCrossesBarriers(t *testing.T) {
	j := &journal{}
	first := taskflow.NewUnordered("first", j.task("a"), j.task("b"), j.task("c"))
	second := taskflow.NewUnordered("second", j.task("d"), j.task("e"), j.task("f"))
	res, err := mustCompile(t, taskflow.NewLinear("root", first, second, j.failing("g", errBoom))).
		Run(context.Background(), taskflow.Workers(3))
	require.ErrorIs(t, err, errBoom)
	assert.Equal(t, taskflow.Reverted, res.State)
	require.Len(t, res.Reverts, 7)
	for _, early := range []string{"a", "b", "c"} {
		for _, late := range []string{"d", "e", "f"} {
			assert.True(t, j.before("x:"+early, "x:"+late), "%v", j.list())
			assert.True(t, j.before("r:"+late, "r:"+early), "%v", j.list())
		}
		assert.True(t, j.before("r:g", "r:"+early))
	}
}

func TestResultAnswersForTasksThatDidNotSucceed(t *testing.T) {
	fail := taskflow.NewTask("fail", func(context.Context) (any, error) { return 1, errBoom })
	later := taskflow.NewTask("later", nil)
	res, err := mustCompile(t, taskflow.NewLinear("f", fail, later)).Run(context.Background())
	require.Error(t, err)
	assert.Equal(t, taskflow.Reverted, res.TaskState("fail"))
	assert.Equal(t, taskflow.Pending, res.TaskState("later"), "it never started")
	assert.Equal(t, taskflow.Pending, res.TaskState("no such task"))
}

func TestTasksWithoutRevertAreMarkedReverted(t *testing.T) {
	plain := taskflow.NewTask("plain", nil)
	fail := taskflow.NewTask("fail", func(context.Context) (any, error) { return nil, errBoom })
	res, err := mustCompile(t, taskflow.NewLinear("f", plain, fail)).Run(context.Background())
	require.ErrorIs(t, err, errBoom)
	assert.Equal(t, []taskflow.TaskRevert{{Task: "fail"}, {Task: "plain"}}, res.Reverts)
	assert.Equal(t, taskflow.Reverted, res.TaskState("plain"))
	assert.Equal(t, taskflow.Reverted, res.TaskState("fail"))
}

func TestNestedFlowsRevertInReverseGraphOrder(t *testing.T) {
	j := &journal{}
	x2 := reverting{&step{j: j, name: "x2", result: 7}}
	l := taskflow.NewLinear("l", j.task("x1"), x2)
	u := taskflow.NewUnordered("u", j.task("y1"), j.task("y2"))
	z := j.task("z")
	g := taskflow.NewGraph("g", l, u, z)
	g.Link(l, u)
	g.Link(l, z)
	root := taskflow.NewLinear("root", j.task("t1"), g, j.failing("end", errBoom))

	res, err := mustCompile(t, root).Run(context.Background(), taskflow.Workers(8))
	require.ErrorIs(t, err, errBoom)
	assert.Equal(t, taskflow.Reverted, res.State)
	assert.Len(t, j.list(), 14, "seven tasks ran and reverted: %v", j.list())
	for _, pair := range [][2]string{
		{"x:t1", "x:x1"}, {"x:x1", "x:x2"}, {"x:x2", "x:y1"}, {"x:x2", "x:y2"}, {"x:x2", "x:z"},
		{"x:y1", "x:end"}, {"x:y2", "x:end"}, {"x:z", "x:end"}, {"x:end", "r:end"},
		{"r:end", "r:y1"}, {"r:end", "r:y2"}, {"r:end", "r:z"},
		{"r:y1", "r:x2"}, {"r:y2", "r:x2"}, {"r:z", "r:x2"}, {"r:x2", "r:x1"}, {"r:x1", "r:t1"},
	} {
		assert.True(t, j.before(pair[0], pair[1]), "%s before %s in %v", pair[0], pair[1], j.list())
	}
	last := res.Reverts[len(res.Reverts)-1]
	assert.Equal(t, "t1", last.Task, "the first task reverts last")
}

// A failure deep in one branch of a karbor-shaped flow, while a task of
// another branch is still running: the runner finishes and is reverted,
// nothing new starts, and the initiating task reverts last.
func TestFailureInDeepBranchWhileSiblingRuns(t *testing.T) {
	j := &journal{}
	failed := make(chan struct{}) // closed when the engine has seen a5 fail
	siblingRunning := make(chan struct{})
	siblingOutcome := make(chan taskflow.Outcome, 1)

	chain := make([]taskflow.Node, 5)
	for i := range chain {
		chain[i] = j.task(fmt.Sprintf("a%d", i+1))
	}
	c2Ran := make(chan struct{})
	chain[4] = taskflow.NewTask("a5", func(context.Context) (any, error) {
		j.add("x:a5")
		if err := errors.Join(waitClosed(siblingRunning), waitClosed(c2Ran)); err != nil {
			return nil, err
		}
		return nil, errBoom
	}, taskflow.OnRevert(func(context.Context, taskflow.Outcome) error {
		j.add("r:a5")
		return nil
	}))
	b1 := taskflow.NewTask("b1", func(context.Context) (any, error) {
		j.add("x:b1")
		close(siblingRunning)
		return "b1 done", waitClosed(failed)
	}, taskflow.OnRevert(func(_ context.Context, out taskflow.Outcome) error {
		j.add("r:b1")
		siblingOutcome <- out
		return nil
	}))
	b2 := j.task("b2")
	c2 := taskflow.NewTask("c2", func(context.Context) (any, error) {
		j.add("x:c2")
		close(c2Ran)
		return nil, nil
	}, taskflow.OnRevert(func(context.Context, taskflow.Outcome) error {
		j.add("r:c2")
		return nil
	}))
	c := taskflow.NewLinear("c", j.task("c1"), c2)
	g := taskflow.NewGraph("resources", append(chain, b1, b2, c)...)
	for i := 1; i < len(chain); i++ {
		g.Link(chain[i-1], chain[i])
	}
	g.Link(b1, b2)
	root := taskflow.NewLinear("protect", j.task("initiate"), g, j.task("complete"))

	listener := taskflow.ListenerFuncs{Task: func(e taskflow.TaskEvent) {
		if e.Task == "a5" && e.To == taskflow.Failure {
			close(failed)
		}
	}}
	res, err := mustCompile(t, root).Run(context.Background(), taskflow.Workers(4), taskflow.WithListener(listener))
	require.ErrorIs(t, err, errBoom)

	require.Len(t, res.Failures, 1)
	assert.Equal(t, "a5", res.Failures[0].Task)
	assert.Equal(t, taskflow.Pending, res.TaskState("b2"), "nothing starts after the failure")
	assert.Equal(t, taskflow.Pending, res.TaskState("complete"))
	for _, name := range []string{"initiate", "a1", "a2", "a3", "a4", "a5", "b1", "c1", "c2"} {
		assert.Equal(t, taskflow.Reverted, res.TaskState(name), name)
	}
	assert.Equal(t, "b1 done", (<-siblingOutcome).Result, "the running sibling finished and was reverted with its result")
	for _, pair := range [][2]string{
		{"r:a5", "r:a4"}, {"r:a4", "r:a3"}, {"r:a3", "r:a2"}, {"r:a2", "r:a1"}, {"r:c2", "r:c1"},
		{"r:a1", "r:initiate"}, {"r:b1", "r:initiate"}, {"r:c1", "r:initiate"},
	} {
		assert.True(t, j.before(pair[0], pair[1]), "%s before %s in %v", pair[0], pair[1], j.list())
	}
	assert.Equal(t, "initiate", res.Reverts[len(res.Reverts)-1].Task)
}

func TestFailedRevertIsReportedAndEarlierTasksStillRevert(t *testing.T) {
	j := &journal{}
	errUndo := errors.New("cannot undo")
	b := reverting{&step{j: j, name: "b", revErr: errUndo}}
	var flowEvents []taskflow.FlowEvent
	listener := taskflow.ListenerFuncs{Flow: func(e taskflow.FlowEvent) { flowEvents = append(flowEvents, e) }}
	flow := taskflow.NewLinear("f", j.task("a"), b, j.failing("c", errBoom))
	res, err := mustCompile(t, flow).Run(context.Background(), taskflow.WithListener(listener))

	assert.Equal(t, []string{"x:a", "x:b", "x:c", "r:c", "r:b", "r:a"}, j.list())
	assert.Equal(t, taskflow.RevertFailure, res.State)
	assert.Equal(t, taskflow.RevertFailure, res.TaskState("b"))
	assert.Equal(t, taskflow.Reverted, res.TaskState("a"))
	assert.ErrorIs(t, err, errBoom)
	assert.ErrorIs(t, err, errUndo)
	var re *taskflow.RevertError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "b", re.Task)
	assert.Equal(t, `taskflow: flow "f" REVERT_FAILURE: task "c" failed: boom; revert of task "b" failed: cannot undo`, err.Error())
	require.NotEmpty(t, flowEvents)
	last := flowEvents[len(flowEvents)-1]
	assert.Equal(t, taskflow.RevertFailure, last.To)
	assert.ErrorIs(t, last.Err, errUndo)
}

func TestIndependentBranchesRevertInParallel(t *testing.T) {
	g := newGate(2)
	rev := taskflow.OnRevert(func(context.Context, taskflow.Outcome) error { return g.pass() })
	u := taskflow.NewUnordered("u", taskflow.NewTask("p", nil, rev), taskflow.NewTask("q", nil, rev))
	fail := taskflow.NewTask("fail", func(context.Context) (any, error) { return nil, errBoom })
	res, err := mustCompile(t, taskflow.NewLinear("f", u, fail)).Run(context.Background(), taskflow.Workers(2))
	require.ErrorIs(t, err, errBoom)
	assert.Equal(t, taskflow.Reverted, res.State, "both reverts ran at once: %v", err)
}

func TestCancellation(t *testing.T) {
	t.Run("from inside a task", func(t *testing.T) {
		j := &journal{}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var revertCtxErr error
		a := reverting{&step{j: j, name: "a", onRev: func(ctx context.Context, _ taskflow.Outcome) { revertCtxErr = ctx.Err() }}}
		b := taskflow.NewTask("b", func(context.Context) (any, error) {
			cancel()
			return nil, nil
		})
		res, err := mustCompile(t, taskflow.NewLinear("f", a, b, j.task("c"))).Run(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, res.Canceled, context.Canceled)
		assert.Empty(t, res.Failures)
		assert.Equal(t, taskflow.Pending, res.TaskState("c"), "scheduling stopped")
		assert.Equal(t, taskflow.Reverted, res.TaskState("b"))
		assert.Equal(t, []string{"x:a", "r:a"}, j.list())
		assert.NoError(t, revertCtxErr, "reverts are not cancelled with the run")
	})
	t.Run("while tasks wait on the context", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		errShutdown := errors.New("shutting down")
		var started sync.WaitGroup
		started.Add(3)
		u := taskflow.NewUnordered("u")
		for i := range 3 {
			u.Add(taskflow.NewTask(fmt.Sprint(i), func(ctx context.Context) (any, error) {
				started.Done()
				<-ctx.Done()
				return nil, ctx.Err()
			}))
		}
		go func() {
			started.Wait()
			cancel(errShutdown)
		}()
		res, err := mustCompile(t, u).Run(ctx, taskflow.Workers(3))
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errShutdown, "the cancel cause is kept")
		assert.Len(t, res.Failures, 3)
		assert.Equal(t, taskflow.Reverted, res.State)
	})
	t.Run("before the run", func(t *testing.T) {
		j := &journal{}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := mustCompile(t, taskflow.NewLinear("f", j.task("a"), j.task("b"))).Run(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, j.list(), "nothing ran")
		assert.Empty(t, res.Reverts)
		assert.Equal(t, taskflow.Reverted, res.State)
	})
}

func TestPanicsAreFailures(t *testing.T) {
	errInside := errors.New("inside")
	tests := []struct {
		name      string
		exec      taskflow.ExecuteFunc
		revert    taskflow.RevertFunc
		wantState taskflow.State
		wantValue any
	}{
		{
			name:      "in execute",
			exec:      func(context.Context) (any, error) { panic("kaboom") },
			wantState: taskflow.Reverted, wantValue: "kaboom",
		},
		{
			name:      "in execute, with an error",
			exec:      func(context.Context) (any, error) { panic(errInside) },
			wantState: taskflow.Reverted, wantValue: errInside,
		},
		{
			name:      "in revert",
			exec:      func(context.Context) (any, error) { return nil, errBoom },
			revert:    func(context.Context, taskflow.Outcome) error { panic("in revert") },
			wantState: taskflow.RevertFailure, wantValue: "in revert",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []taskflow.TaskOption
			if tc.revert != nil {
				opts = append(opts, taskflow.OnRevert(tc.revert))
			}
			task := taskflow.NewTask("p", tc.exec, opts...)
			res, err := mustCompile(t, taskflow.NewLinear("f", task)).Run(context.Background())
			require.Error(t, err)
			assert.Equal(t, tc.wantState, res.State)
			var pe *taskflow.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.wantValue, pe.Value)
			assert.Equal(t, fmt.Sprintf("panic: %v", tc.wantValue), pe.Error())
			assert.Contains(t, string(pe.Stack), "TestPanicsAreFailures", "the stack is the panicking one")
			if e, ok := tc.wantValue.(error); ok {
				assert.ErrorIs(t, err, e)
			}
		})
	}
}

func TestGoexitFailsTheTaskInsteadOfHanging(t *testing.T) {
	u := taskflow.NewUnordered("u")
	for i := range 6 {
		u.Add(taskflow.NewTask(fmt.Sprint(i), func(context.Context) (any, error) {
			runtime.Goexit()
			return nil, nil
		}, taskflow.OnRevert(func(context.Context, taskflow.Outcome) error {
			runtime.Goexit()
			return nil
		})))
	}
	res, err := mustCompile(t, u).Run(context.Background(), taskflow.Workers(2))
	require.Error(t, err)
	assert.ErrorContains(t, err, "runtime.Goexit")
	assert.Equal(t, taskflow.RevertFailure, res.State)
}

func TestEmptyFlows(t *testing.T) {
	j := &journal{}
	a, b := j.task("a"), j.task("b")
	empty := taskflow.NewUnordered("empty")
	g := taskflow.NewGraph("g", b, empty, a)
	g.Link(a, empty)
	g.Link(empty, b)
	tests := []struct {
		name string
		flow taskflow.Flow
	}{
		{"no items", taskflow.NewLinear("f")},
		{"only empty flows", taskflow.NewLinear("f", taskflow.NewUnordered("u"), taskflow.NewGraph("g"))},
		{"linked across an empty flow", g},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := mustCompile(t, tc.flow).Run(context.Background())
			require.NoError(t, err)
			assert.Equal(t, taskflow.Success, res.State)
		})
	}
	assert.Equal(t, []string{"x:a", "x:b"}, j.list(), "a link through an empty flow still orders")
}

func TestOneCompiledFlowRunsConcurrently(t *testing.T) {
	type number struct{}
	double := taskflow.NewTask("double", func(ctx context.Context) (any, error) {
		n := ctx.Value(number{}).(*int)
		*n *= 2
		return nil, nil
	})
	c := mustCompile(t, taskflow.NewLinear("f", double))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := i
			_, err := c.Run(context.WithValue(context.Background(), number{}, &n))
			if assert.NoError(t, err) {
				assert.Equal(t, 2*i, n)
			}
		}()
	}
	wg.Wait()
}

func TestStateNames(t *testing.T) {
	var names []string
	for s := taskflow.Pending; s <= taskflow.RevertFailure+1; s++ {
		names = append(names, s.String())
	}
	assert.Equal(t, "PENDING RUNNING SUCCESS FAILURE REVERTING REVERTED REVERT_FAILURE State(7)", strings.Join(names, " "))
}

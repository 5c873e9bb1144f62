package taskflow_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gokarbor/karbor-protection/taskflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventLog keeps every event; the engine calls listeners from Run's
// goroutine only, so it needs no lock (the race detector checks that).
type eventLog struct {
	flow []taskflow.FlowEvent
	task []taskflow.TaskEvent
}

func (l *eventLog) FlowChanged(e taskflow.FlowEvent) { l.flow = append(l.flow, e) }
func (l *eventLog) TaskChanged(e taskflow.TaskEvent) { l.task = append(l.task, e) }

var legalTaskMoves = map[[2]taskflow.State]bool{
	{taskflow.Pending, taskflow.Running}:         true,
	{taskflow.Running, taskflow.Success}:         true,
	{taskflow.Running, taskflow.Failure}:         true,
	{taskflow.Success, taskflow.Reverting}:       true,
	{taskflow.Failure, taskflow.Reverting}:       true,
	{taskflow.Reverting, taskflow.Reverted}:      true,
	{taskflow.Reverting, taskflow.RevertFailure}: true,
}

// randomTasks returns a graph of n tasks with random links, each running
// act (which decides whether it fails).
func randomTasks(seed uint64, n int, act func(name string) error) *taskflow.Graph {
	rng := rand.New(rand.NewPCG(seed, 3))
	g := taskflow.NewGraph("g")
	tasks := make([]taskflow.Task, n)
	for i := range tasks {
		name := fmt.Sprintf("t%02d", i)
		tasks[i] = taskflow.NewTask(name,
			func(context.Context) (any, error) { return name, act(name) },
			taskflow.OnRevert(func(context.Context, taskflow.Outcome) error {
				if name == "t07" {
					return errBoom
				}
				return nil
			}))
		g.Add(tasks[i])
		for range rng.IntN(3) {
			if u := rng.IntN(n); u < i {
				g.Link(tasks[u], tasks[i])
			}
		}
	}
	return g
}

func TestListenersSeeEveryTransitionOnceInOrder(t *testing.T) {
	const n = 60
	tests := []struct {
		name     string
		fail     string // task that fails, if any
		cancel   bool
		wantFlow []taskflow.State
	}{
		{name: "success", wantFlow: []taskflow.State{taskflow.Running, taskflow.Success}},
		{name: "failure", fail: "t30", wantFlow: []taskflow.State{taskflow.Running, taskflow.Reverting, taskflow.RevertFailure}},
		{name: "cancel", cancel: true, wantFlow: []taskflow.State{taskflow.Running, taskflow.Reverting, taskflow.RevertFailure}},
	}
	for _, tc := range tests {
		for seed := uint64(1); seed <= 10; seed++ {
			t.Run(fmt.Sprintf("%s/%d", tc.name, seed), func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				g := randomTasks(seed, n, func(name string) error {
					switch {
					case name == tc.fail:
						return errBoom
					case tc.cancel && name == "t40":
						cancel()
					}
					return nil
				})
				log1, log2 := &eventLog{}, &eventLog{}
				res, err := mustCompile(t, g).Run(ctx, taskflow.Workers(4),
					taskflow.WithListener(log1), taskflow.WithListener(log2))
				if tc.fail == "" && !tc.cancel {
					require.NoError(t, err)
				}
				assert.Equal(t, log1, log2, "every listener sees the same events")

				var flowTo []taskflow.State
				from := taskflow.Pending
				for _, e := range log1.flow {
					assert.Equal(t, "g", e.Flow)
					assert.Equal(t, from, e.From)
					from = e.To
					flowTo = append(flowTo, e.To)
				}
				if flowTo[len(flowTo)-1] == taskflow.RevertFailure && !errors.Is(err, errBoom) {
					t.Fatalf("revert failure without t07's revert failing: %v", err)
				}
				want := slices.Clone(tc.wantFlow)
				if res.TaskState("t07") == taskflow.Pending {
					// t07 never ran, so its failing revert was never called.
					want[len(want)-1] = taskflow.Reverted
				}
				if tc.cancel && res.State == taskflow.Success {
					// t40 cancelled after every other task had run: a flow
					// whose tasks all succeeded has succeeded.
					require.NoError(t, err)
					want = []taskflow.State{taskflow.Running, taskflow.Success}
				}
				assert.Equal(t, want, flowTo)

				last := map[string]taskflow.State{}
				for _, e := range log1.task {
					prev, seen := last[e.Task]
					if !seen {
						prev = taskflow.Pending
					}
					assert.Equal(t, prev, e.From, "task %s", e.Task)
					assert.True(t, legalTaskMoves[[2]taskflow.State{e.From, e.To}], "task %s: %s -> %s", e.Task, e.From, e.To)
					switch e.To {
					case taskflow.Success:
						assert.Equal(t, e.Task, e.Result)
					case taskflow.Failure, taskflow.RevertFailure:
						assert.ErrorIs(t, e.Err, errBoom)
					}
					last[e.Task] = e.To
				}
				for i := range n {
					name := fmt.Sprintf("t%02d", i)
					state, seen := last[name]
					if !seen {
						state = taskflow.Pending
					}
					assert.Equal(t, res.TaskState(name), state, "task %s", name)
				}
			})
		}
	}
}

func TestListenerFuncsMayLeaveOutEither(t *testing.T) {
	var tasks int
	only := taskflow.ListenerFuncs{Task: func(taskflow.TaskEvent) { tasks++ }}
	_, err := mustCompile(t, taskflow.NewLinear("f", task("a"), task("b"))).Run(context.Background(),
		taskflow.WithListener(only), taskflow.WithListener(taskflow.ListenerFuncs{}))
	require.NoError(t, err)
	assert.Equal(t, 4, tasks)
}

func TestListenerPanicStopsTheRunAndReachesTheCaller(t *testing.T) {
	j := &journal{}
	var events int
	l := taskflow.ListenerFuncs{Task: func(e taskflow.TaskEvent) {
		events++
		if e.Task == "b" && e.To == taskflow.Running {
			panic("listener bug")
		}
	}}
	c := mustCompile(t, taskflow.NewLinear("f", j.task("a"), j.task("b"), j.task("c")))
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		_, _ = c.Run(context.Background(), taskflow.WithListener(l), taskflow.Workers(2))
	}()
	var pe *taskflow.PanicError
	require.ErrorAs(t, recovered.(error), &pe)
	assert.Equal(t, "listener bug", pe.Value)
	assert.Equal(t, []string{"x:a", "x:b", "r:b", "r:a"}, j.list(), "nothing new started and what ran was reverted")
	assert.Equal(t, 3, events, "no event after the panic")
}

func TestWorkersBelowOneMeansDefault(t *testing.T) {
	g := newGate(taskflow.DefaultWorkers)
	u := taskflow.NewUnordered("wide")
	for i := range 2 * taskflow.DefaultWorkers {
		u.Add(taskflow.NewTask(fmt.Sprint(i), func(context.Context) (any, error) { return nil, g.pass() }))
	}
	_, err := mustCompile(t, u).Run(context.Background(), taskflow.Workers(0))
	require.NoError(t, err)
	assert.Equal(t, int64(taskflow.DefaultWorkers), g.peak.Load())
}

package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/pkg/metrics"
	"github.com/gokarbor/karbor-protection/pkg/metrics/metricstest"
	"github.com/gokarbor/karbor-protection/taskflow"
)

// chainsFlow is n chains of four tasks each (a resource's hooks) between
// an Initiate and a Complete task; the task named fail fails, and the
// revert of the task named badRevert fails.
func chainsFlow(t testing.TB, n int, fail, badRevert string) *taskflow.Compiled {
	t.Helper()
	task := func(name string) taskflow.Task {
		return taskflow.NewTask(name, func(context.Context) (any, error) {
			if name == fail {
				return nil, errors.New("hook failed")
			}
			return nil, nil
		}, taskflow.OnRevert(func(context.Context, taskflow.Outcome) error {
			if name == badRevert {
				return errors.New("revert failed")
			}
			return nil
		}))
	}
	g := taskflow.NewGraph("resources")
	for i := range n {
		var prev taskflow.Task
		for h := range 4 {
			t := task(fmt.Sprintf("hook_%d_%d", i, h))
			g.Add(t)
			if prev != nil {
				g.Link(prev, t)
			}
			prev = t
		}
	}
	c, err := taskflow.Compile(taskflow.NewLinear("flow", task("initiate"), g, task("complete")))
	require.NoError(t, err)
	return c
}

// tasksDone reads from a run's Result what a listener sees of every task:
// it is checked here against such a listener.
func TestTasksDoneMatchesTheEngine(t *testing.T) {
	for _, tt := range []struct {
		name, fail, badRevert string
		ok                    bool
	}{
		{"success", "", "", true},
		{"a hook fails", "hook_2_1", "", false},
		{"the first task fails", "initiate", "", false},
		{"a revert fails too", "hook_2_1", "initiate", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var want [4]int
			seen := taskflow.ListenerFuncs{Task: func(e taskflow.TaskEvent) {
				switch e.To {
				case taskflow.Success:
					want[0]++
				case taskflow.Failure:
					want[1]++
				case taskflow.Reverted:
					want[2]++
				case taskflow.RevertFailure:
					want[3]++
				}
			}}
			c := chainsFlow(t, 4, tt.fail, tt.badRevert)
			res, err := c.Run(context.Background(), taskflow.Workers(2), taskflow.WithListener(seen))
			assert.Equal(t, tt.ok, err == nil)
			succeeded, failed, reverted, revertFailed := tasksDone(res, c.Len())
			assert.Equal(t, want, [4]int{succeeded, failed, reverted, revertFailed})
			if !tt.ok {
				assert.Positive(t, reverted+revertFailed)
			}
		})
	}
}

// BenchmarkMetricsPerTask is the worst case of the metrics' cost per task:
// flows of 4,002 tasks that do nothing, each run as an operation runs its
// flow, with the metrics and without, in turns within the same run. It
// reports the wall and CPU time per task of each and their ratios
// (x-metrics-off, cpu-x-metrics-off; the target is below 1.02). Real tasks call OpenStack and the bank, so their
// share is smaller still.
func BenchmarkMetricsPerTask(b *testing.B) {
	const n = 1000
	l := logrus.New()
	l.Out, l.Level = io.Discard, logrus.WarnLevel
	ctx := logctx.With(context.Background(), logrus.NewEntry(l))
	c := chainsFlow(b, n, "", "")
	f := &operationFlow{checkpointID: "cp", log: &operationLog{}, flow: c, initiate: "initiate", steps: noSteps{}}
	off := &Operation{op: OpProtect, workers: DefaultWorkers}
	on := &Operation{op: OpProtect, workers: DefaultWorkers, obs: metrics.New()}
	var cmp metricstest.Comparison
	for i := 0; b.Loop(); i++ {
		for j := range 2 {
			if (i+j)%2 == 0 {
				cmp.Off(func() { require.NoError(b, off.runFlow(ctx, f)) })
			} else {
				cmp.On(func() { require.NoError(b, on.runFlow(ctx, f)) })
			}
		}
	}
	cmp.Report(b, float64(c.Len()), "task")
}

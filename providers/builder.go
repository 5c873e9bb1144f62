package providers

import (
	"context"
	"errors"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/taskflow"
)

// DefaultWorkers bounds how many hooks of one operation run at once. The
// Python service runs them on an unbounded green-thread pool (in practice
// futurist's 1000); real hooks mostly wait on OpenStack (a Cinder backup
// polls for minutes), so the bound is generous: a plan of a few hundred
// volumes backs them all up at once, while one operation cannot start
// tens of thousands of goroutines.
const DefaultWorkers = 256

// GraphBuilder builds the resource graph of a plan's resources:
// protectables.Registry.
type GraphBuilder interface {
	BuildGraph(ctx context.Context, rc *karbor.RequestContext, resources []graph.Resource) (graph.Graph, error)
}

// Builder builds operations: the synchronous part of the protect, restore,
// verification, delete and copy RPCs (resource graph, index.json,
// operation-log row, flow), leaving an Operation to run in the background.
// It is safe for concurrent use.
type Builder struct {
	graphs   GraphBuilder
	recorder Recorder
	workers  int
	now      func() time.Time
}

// BuilderOption configures a Builder.
type BuilderOption func(*Builder)

// WithWorkers bounds the hooks of one operation that run at once (n < 1:
// DefaultWorkers).
func WithWorkers(n int) BuilderOption {
	return func(b *Builder) {
		if n >= 1 {
			b.workers = n
		}
	}
}

// WithClock sets the clock of operation-log start times.
func WithClock(now func() time.Time) BuilderOption {
	return func(b *Builder) { b.now = now }
}

// NewBuilder returns a builder that expands plans with graphs and records
// with recorder (nil: NopRecorder).
func NewBuilder(graphs GraphBuilder, recorder Recorder, opts ...BuilderOption) *Builder {
	if recorder == nil {
		recorder = NopRecorder{}
	}
	b := &Builder{graphs: graphs, recorder: recorder, workers: DefaultWorkers, now: time.Now}
	for _, o := range opts {
		o(b)
	}
	return b
}

// opContext adds the fields every log line of an operation carries.
func opContext(ctx context.Context, op Op, p *Provider, checkpointID string) context.Context {
	return logctx.WithFields(ctx, logrus.Fields{"operation": string(op), "provider_id": p.id, "checkpoint_id": checkpointID})
}

// transitions are what an operation's Initiate and Complete tasks do, and
// the Initiate task's revert (the failure status).
type transitions struct {
	start, complete, fail func(ctx context.Context) error
}

// compile wraps a resource flow as karbor does, Initiate → resources →
// Complete, and compiles it.
func (b *Builder) compile(name, initiate, complete string, resources *taskflow.Graph, tr transitions) (*taskflow.Compiled, error) {
	run := func(step func(context.Context) error) taskflow.ExecuteFunc {
		return func(ctx context.Context, _ taskflow.Inputs) (any, error) { return nil, step(ctx) }
	}
	start := taskflow.NewTask(initiate, run(tr.start), taskflow.OnRevert(
		func(ctx context.Context, _ taskflow.Inputs, _ taskflow.Outcome) error { return tr.fail(ctx) }))
	return taskflow.Compile(taskflow.NewLinear(name, start, resources, taskflow.NewTask(complete, run(tr.complete))))
}

// checkpointSteps are the transitions of an operation on a checkpoint
// (protect, delete, copy): set the checkpoint's status (or do its final
// step) and mirror it in the operation log.
func (b *Builder) checkpointSteps(cps *bank.Checkpoints, id, logID, running string, done func(ctx context.Context) error, doneStatus, failed string) transitions {
	return transitions{
		start: func(ctx context.Context) error {
			if _, err := cps.SetStatus(ctx, id, running); err != nil {
				return err
			}
			b.logStatus(ctx, logID, running, false)
			return nil
		},
		complete: func(ctx context.Context) error {
			if err := done(ctx); err != nil {
				return err
			}
			b.logStatus(ctx, logID, doneStatus, true)
			return nil
		},
		fail: func(ctx context.Context) error {
			logctx.From(ctx).Info("Recording the operation's failure")
			_, err := cps.SetStatus(ctx, id, failed)
			b.logStatus(ctx, logID, failed, true)
			return err
		},
	}
}

// startLog inserts the operation-log row; a recorder failure is logged and
// the operation goes on without a row id.
func (b *Builder) startLog(ctx context.Context, l OperationLog) string {
	l.StartedAt = b.now()
	id, err := b.recorder.OperationStarted(ctx, l)
	if err != nil {
		logctx.From(ctx).WithError(err).Warn("Could not record the operation log")
	}
	return id
}

// logStatus updates the operation-log row; ended also sets ended_at.
func (b *Builder) logStatus(ctx context.Context, id, status string, ended bool) {
	if id == "" {
		return
	}
	var err error
	if ended {
		err = b.recorder.OperationEnded(ctx, id, status)
	} else {
		err = b.recorder.OperationStatus(ctx, id, status)
	}
	if err != nil {
		logctx.From(ctx).WithError(err).WithField("status", status).Warn("Could not record the operation log's status")
	}
}

// abandon records that an operation could not be built: its checkpoint (if
// any) gets the operation's failure status, so that it is not left in
// progress for ever as the Python service leaves it, and its operation-log
// row (if any) is closed with that status.
func (b *Builder) abandon(ctx context.Context, cps *bank.Checkpoints, checkpointID, logID, status string, cause error) {
	log := logctx.From(ctx).WithError(cause)
	log.WithField("status", status).Error("Could not build the operation; recording its failure")
	ctx = context.WithoutCancel(ctx)
	if cps != nil {
		if _, err := cps.SetStatus(ctx, checkpointID, status); err != nil {
			log.WithField("status_error", err.Error()).Error("Could not record the failure in the checkpoint")
		}
	}
	b.logStatus(ctx, logID, status, true)
}

// unpack reads a checkpoint's stored resource graph; a checkpoint without
// one (its protect never built a flow) has an empty graph.
func unpack(cp *bank.Checkpoint) (graph.Graph, error) {
	if cp.ResourceGraph == nil {
		return nil, nil
	}
	return graph.Unpack(*cp.ResourceGraph)
}

// pythonMessage is the text the Python flows put in a FlowError for a
// failure: a karbor exception's message, else "Internal error".
func pythonMessage(err error) string {
	var ke *karbor.Error
	if errors.As(err, &ke) {
		return ke.Error()
	}
	return "Internal error"
}

package providers

import (
	"context"
	"errors"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/pkg/progress"
	"github.com/gokarbor/karbor-protection/providers/graph"
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
	progress *progress.Tracker
}

// BuilderOption configures a Builder.
type BuilderOption func(*Builder)

// withWorkers bounds the hooks of one operation that run at once (n < 1:
// DefaultWorkers).
func withWorkers(n int) BuilderOption {
	return func(b *Builder) {
		if n >= 1 {
			b.workers = n
		}
	}
}

// WithProgress has the operations report how they go to t: each flow is
// one tracked operation, its resources done counted as their last hook
// succeeds.
func WithProgress(t *progress.Tracker) BuilderOption {
	return func(b *Builder) { b.progress = t }
}

// NewBuilder returns a builder that expands plans with graphs and records
// with recorder, which is required.
func NewBuilder(graphs GraphBuilder, recorder Recorder, opts ...BuilderOption) *Builder {
	b := &Builder{graphs: graphs, recorder: recorder, workers: DefaultWorkers}
	for _, o := range opts {
		o(b)
	}
	return b
}

// newLog is a new operation's operation-log row, not yet inserted.
func (b *Builder) newLog() *operationLog { return &operationLog{rec: b.recorder} }

// opContext adds the fields every log line of an operation carries.
func opContext(ctx context.Context, op Op, p *Provider, checkpointID string) context.Context {
	return logctx.WithFields(ctx, logrus.Fields{"operation": string(op), "provider_id": p.id, "checkpoint_id": checkpointID})
}

// abandonBuild records that an operation could not be built: record
// writes its failure status (a checkpoint's: it is not left in progress for
// ever as the Python service leaves it) and closes its operation-log row.
func abandonBuild(ctx context.Context, cause error, record func(ctx context.Context) error) {
	log := logctx.From(ctx).WithError(cause)
	log.Error("Could not build the operation; recording its failure")
	if err := record(context.WithoutCancel(ctx)); err != nil {
		log.WithField("status_error", err.Error()).Error("Could not record the failure in the checkpoint")
	}
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

// Package providerstest is what protection plugins' tests share to run
// their operations through the providers' builder: a graph builder that
// answers a fixed graph, and a recorder that keeps every resource result in
// the order reported.
package providerstest

import (
	"context"
	"slices"
	"sync"

	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// FixedGraph is a graph builder that answers the same graph whatever the
// plan: a plugin test chooses its resources and dependents itself.
type FixedGraph graph.Graph

// BuildGraph returns g.
func (g FixedGraph) BuildGraph(context.Context, *karbor.RequestContext, []graph.Resource) (graph.Graph, error) {
	return graph.Graph(g), nil
}

// Trail records through the database layer's in-memory recorder, as the
// program does through the SQL one, and also keeps every restore and
// verification result in order (the database keeps only the last), so a
// test sees "restoring" before "available".
type Trail struct {
	*db.Memory

	mu      sync.Mutex
	results []karbor.ResourceResult
}

// NewTrail returns an empty trail.
func NewTrail() *Trail { return &Trail{Memory: db.NewMemory()} }

func (r *Trail) add(res karbor.ResourceResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
}

// RestoreResource keeps res and records it.
func (r *Trail) RestoreResource(ctx context.Context, id string, res karbor.ResourceResult) error {
	r.add(res)
	return r.Memory.RestoreResource(ctx, id, res)
}

// VerificationResource keeps res and records it.
func (r *Trail) VerificationResource(ctx context.Context, id string, res karbor.ResourceResult) error {
	r.add(res)
	return r.Memory.VerificationResource(ctx, id, res)
}

// Results are the results reported, in order.
func (r *Trail) Results() []karbor.ResourceResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.results)
}

// Statuses are the statuses reported, in order.
func (r *Trail) Statuses() []string {
	var out []string
	for _, res := range r.Results() {
		out = append(out, res.Status)
	}
	return out
}

package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// CheckpointRef is a checkpoint as a protection plugin sees it: its
// index.json as it was when the operation was built, and the sections where
// plugins keep each resource's data.
type CheckpointRef struct {
	cps      *bank.Checkpoints
	cp       *bank.Checkpoint
	writable bool
}

// ID is the checkpoint's id.
func (c *CheckpointRef) ID() string { return c.cp.ID }

// Info is the checkpoint's index.json as it was when the operation was
// built. It must not be modified.
func (c *CheckpointRef) Info() *bank.Checkpoint { return c.cp }

// ResourceSection is the section of a resource's data,
// /checkpoints/<id>/resource-data/<resource id>/; read-only unless the
// operation writes this checkpoint (protect, delete, the copy being made).
func (c *CheckpointRef) ResourceSection(resourceID string) (*bank.Section, error) {
	return c.cps.ResourceSection(c.cp.ID, resourceID, c.writable)
}

// NewResources maps the ids of restored resources to the ids of what the
// restore created, shared by every hook of a restore or verification (a
// server's restore finds its restored volumes there). Safe for concurrent
// use.
type NewResources struct {
	mu sync.Mutex
	m  map[string]string
}

// Set records what originalID was restored as.
func (n *NewResources) Set(originalID, newID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = map[string]string{}
	}
	n.m[originalID] = newID
}

// Get returns what originalID was restored as.
func (n *NewResources) Get(originalID string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	id, ok := n.m[originalID]
	return id, ok
}

// Map returns a copy of every mapping.
func (n *NewResources) Map() map[string]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return maps.Clone(n.m)
}

// createCheckpoint creates a new checkpoint of plan in the plan's project,
// as karbor's CheckpointCollection.create does: its protection_plan is the
// plan's id, name, provider and resources exactly as the Plan primitive
// carried them.
func createCheckpoint(ctx context.Context, p *Provider, plan *karbor.Plan, status string, extraInfo json.RawMessage) (*bank.Checkpoint, error) {
	resources := plan.Resources
	if resources == nil {
		resources = []karbor.PlanResource{}
	}
	raw, err := json.Marshal(resources)
	if err != nil {
		return nil, fmt.Errorf("providers: encode resources of plan %s: %w", plan.ID, err)
	}
	return p.checkpoints.Create(ctx, bank.NewCheckpoint{
		Plan:      bank.Plan{ID: plan.ID, Name: plan.Name, ProviderID: plan.ProviderID, Resources: raw},
		ProjectID: plan.ProjectID, Status: status, ExtraInfo: extraInfo,
	})
}

package providers

import (
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

// CheckpointPlan is a plan as a new checkpoint records it (its
// protection_plan), for bank.Checkpoints.Create: id, name, provider and the
// resources exactly as the Plan primitive carried them.
func CheckpointPlan(plan *karbor.Plan) (bank.Plan, error) {
	resources := plan.Resources
	if resources == nil {
		resources = []karbor.PlanResource{}
	}
	raw, err := json.Marshal(resources)
	if err != nil {
		return bank.Plan{}, fmt.Errorf("providers: encode resources of plan %s: %w", plan.ID, err)
	}
	return bank.Plan{ID: plan.ID, Name: plan.Name, ProviderID: plan.ProviderID, Resources: raw}, nil
}

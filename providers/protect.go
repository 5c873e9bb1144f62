package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// CheckpointProperties are what the protect RPC's checkpoint_properties
// gives the new checkpoint.
type CheckpointProperties struct {
	Status    string          // "" means protecting
	ExtraInfo json.RawMessage // nil means none
}

// ErrCheckpointNotCreated is in the error of a protect whose checkpoint
// could not be created; nothing was left in the bank. The manager answers
// FlowError(flow="protect", error="Error creating checkpoint").
var ErrCheckpointNotCreated = errors.New("checkpoint not created")

// BuildProtect is the synchronous part of the protect RPC once the manager
// decoded the plan and checked the caller's access: create the plan's
// checkpoint (in the plan's project, with props) and build its protect flow
// (steps 3 and 4 of docs/karbor-behaviour.md#protect; the flow is
// #protect-flow there). It returns the operation and the new checkpoint's
// id, which is also returned when the flow could not be built.
//
// Building the flow: the plan's resource graph (asking the protectable
// plugins with the caller's context) is stored packed in the checkpoint's
// index.json, the operation-log row is inserted (type protect, status
// protecting), and the flow is compiled (protectSteps). Running the
// Operation then moves the checkpoint protecting → available, or → error.
//
// A checkpoint not created in status protecting is refused. An error while
// building leaves the checkpoint in status error and its operation-log row,
// if one was written, closed with that status (the Python service leaves
// both in progress for ever). Errors are karbor exceptions where Python
// raises them (ProtectionPluginNotFound, ProtectableResourceNotFound…); the
// manager reports them as FlowError(flow="protect", error=<message or
// "Internal error">).
func (b *Builder) BuildProtect(ctx context.Context, rc *karbor.RequestContext, p *Provider, plan *karbor.Plan, props CheckpointProperties) (*Operation, string, error) {
	cp, err := createCheckpoint(ctx, p, plan, props.Status, props.ExtraInfo)
	if err != nil {
		return nil, "", fmt.Errorf("providers: protect plan %s: %w: %w", plan.ID, ErrCheckpointNotCreated, err)
	}
	op, err := b.buildProtect(ctx, rc, p, plan, cp)
	return op, cp.ID, err
}

// buildProtect builds the protect flow of cp, a new checkpoint, and owns
// its failure.
func (b *Builder) buildProtect(ctx context.Context, rc *karbor.RequestContext, p *Provider, plan *karbor.Plan, cp *bank.Checkpoint) (*Operation, error) {
	ctx = opContext(ctx, OpProtect, p, cp.ID)
	if cp.Status != bank.StatusProtecting {
		return nil, fmt.Errorf("providers: protect: checkpoint %s is %s, not %s", cp.ID, cp.Status, bank.StatusProtecting)
	}
	s := checkpointSteps{op: OpProtect, cps: p.checkpoints, id: cp.ID, log: b.newLog()}
	flow, err := b.protectFlow(ctx, rc, p, plan, cp, s)
	if err != nil {
		abandonBuild(ctx, err, s.fail)
		return nil, fmt.Errorf("providers: build protect flow of plan %s: %w", plan.ID, err)
	}
	return &Operation{op: OpProtect, provider: p.id, workers: b.workers, progress: b.progress, flows: []*operationFlow{flow}}, nil
}

func (b *Builder) protectFlow(ctx context.Context, rc *karbor.RequestContext, p *Provider, plan *karbor.Plan, cp *bank.Checkpoint, s checkpointSteps) (*operationFlow, error) {
	g, err := b.graphs.BuildGraph(ctx, rc, graph.FromPlan(plan.Resources))
	if err != nil {
		return nil, err
	}
	packed, err := g.Pack()
	if err != nil {
		return nil, err
	}
	if cp, err = p.checkpoints.SetResourceGraph(ctx, cp.ID, packed); err != nil {
		return nil, err
	}
	s.log.start(ctx, checkpointLog(cp, karbor.OperationProtect))
	return newFlow(ctx, p, g, plan.Parameters, HookArgs{
		Op: OpProtect, Request: rc, OperationLogID: s.log.id,
		Checkpoint: &CheckpointRef{cps: p.checkpoints, cp: cp, writable: true},
	}, namesOf(OpProtect, plan.ID, "", ""), cp.ID, s.log, s)
}

// checkpointLog is the operation-log row of an operation on a checkpoint
// (karbor's create_operation_log): the checkpoint's project, plan, provider
// and current status, and the scheduled operation when the operation engine
// created the checkpoint.
func checkpointLog(cp *bank.Checkpoint, typ string) karbor.OperationLog {
	return karbor.OperationLog{
		ProjectID: cp.ProjectID, Type: typ, CheckpointID: cp.ID, PlanID: cp.Plan.ID,
		ProviderID: cp.Plan.ProviderID, ScheduledOperationID: scheduledOperation(cp.ExtraInfo), Status: cp.Status,
	}
}

// scheduledOperation reads extra_info (a JSON string holding a JSON object)
// for the scheduled operation that created the checkpoint.
func scheduledOperation(extra json.RawMessage) string {
	var text string
	if json.Unmarshal(extra, &text) != nil || text == "" {
		return ""
	}
	var info struct {
		CreatedBy   string `json:"created_by"`
		ScheduledOp any    `json:"scheduled_operation_id"`
	}
	if json.Unmarshal([]byte(text), &info) != nil || info.CreatedBy != karbor.CreatedByOperationEngine {
		return ""
	}
	if s, ok := info.ScheduledOp.(string); ok {
		return s
	}
	return ""
}

package providers

import (
	"context"
	"fmt"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
)

// BuildDelete is the synchronous part of the delete RPC after the manager
// moved the checkpoint to deleting ([bank.Checkpoints.BeginDelete]; step 6
// of docs/karbor-behaviour.md#delete, the flow is #delete-flow there):
// insert the operation-log row (type protect, as the Python service writes
// it, status deleting) and build the delete flow (deleteSteps) over the
// checkpoint's stored resource graph. Running the Operation lets each
// plugin delete its backups, then finishes the deletion in the bank (status
// deleted, index keys removed, index.json kept), or moves the checkpoint to
// error-deleting.
//
// A checkpoint must always be deletable: one without a stored graph (its
// protect never built a flow) has nothing to delete but its indices, and
// one whose stored graph cannot be read is deleted the same way, with a
// warning that its plugins' data may remain in the bank. An error leaves
// the checkpoint in error-deleting and its operation-log row closed with
// that status (the Python service leaves it deleting for ever); the manager
// answers KarborException("Failed to create delete checkpoint flow.").
func (b *Builder) BuildDelete(ctx context.Context, rc *karbor.RequestContext, p *Provider, cp *bank.Checkpoint) (*Operation, error) {
	ctx = opContext(ctx, OpDelete, p, cp.ID)
	if cp.Status != bank.StatusDeleting {
		return nil, fmt.Errorf("providers: delete: checkpoint %s is %s, not %s", cp.ID, cp.Status, bank.StatusDeleting)
	}
	s := checkpointSteps{op: OpDelete, cps: p.checkpoints, id: cp.ID, log: b.newLog()}
	flow, err := b.deleteFlow(ctx, rc, p, cp, s)
	if err != nil {
		abandonBuild(ctx, err, s.fail)
		return nil, fmt.Errorf("providers: build delete flow of checkpoint %s: %w", cp.ID, err)
	}
	return &Operation{op: OpDelete, provider: p.id, workers: b.workers, progress: b.progress, flows: []*operationFlow{flow}}, nil
}

func (b *Builder) deleteFlow(ctx context.Context, rc *karbor.RequestContext, p *Provider, cp *bank.Checkpoint, s checkpointSteps) (*operationFlow, error) {
	g, err := unpack(cp)
	if err != nil {
		logctx.From(ctx).WithError(err).Warn("The checkpoint's stored resource graph cannot be read: " +
			"deleting it as a checkpoint without resources; its protection plugins' data may remain in the bank")
		g = nil
	}
	s.log.start(ctx, checkpointLog(cp, karbor.OperationProtect))
	return newFlow(ctx, p, g, nil, HookArgs{
		Op: OpDelete, Request: rc, OperationLogID: s.log.id,
		Checkpoint: &CheckpointRef{cps: p.checkpoints, cp: cp, writable: true},
	}, namesOf(OpDelete, "", cp.ID, ""), cp.ID, s.log, s)
}

package providers

import (
	"context"
	"fmt"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// BuildDelete is the synchronous part of the delete RPC after the manager
// moved the checkpoint to deleting (bank.Checkpoints.BeginDelete; spec §2.5
// step 6, §7.5): insert the operation-log row (type protect, as the Python
// service writes it, status deleting) and build the delete flow over the
// checkpoint's stored resource graph. Running the Operation lets each plugin
// delete its backups, then finishes the deletion in the bank (status
// deleted, index keys removed, index.json kept), or moves the checkpoint to
// error-deleting.
//
// A checkpoint without a stored graph (its protect never built a flow) has
// nothing to delete but its indices. An error leaves the checkpoint in
// error-deleting and its operation-log row closed with that status (the
// Python service leaves it deleting for ever); the manager answers
// KarborException("Failed to create delete checkpoint flow.").
func (b *Builder) BuildDelete(ctx context.Context, rc *karbor.RequestContext, p *Provider, cp *bank.Checkpoint) (*Operation, error) {
	ctx = opContext(ctx, OpDelete, p, cp.ID)
	if cp.Status != bank.StatusDeleting {
		return nil, fmt.Errorf("providers: delete: checkpoint %s is %s, not %s", cp.ID, cp.Status, bank.StatusDeleting)
	}
	cps := p.checkpoints
	logID := ""
	flow, err := func() (*operationFlow, error) {
		g, err := unpack(cp)
		if err != nil {
			return nil, err
		}
		logID = b.startLog(ctx, checkpointLog(cp, karbor.OperationProtect))
		resources, err := resourceFlow(ctx, p, OpDelete, g, nil, HookArgs{
			Op: OpDelete, Request: rc, OperationLogID: logID,
			Checkpoint: &CheckpointRef{cps: cps, cp: cp, writable: true},
		})
		if err != nil {
			return nil, err
		}
		deleted := func(ctx context.Context) error {
			_, err := cps.Delete(ctx, cp.ID)
			return err
		}
		tr := b.checkpointSteps(cps, cp.ID, logID, bank.StatusDeleting, deleted, bank.StatusDeleted, bank.StatusErrorDeleting)
		compiled, err := b.compile("Delete_Checkpoint_"+cp.ID, "InitiateDeleteTask", "CompleteDeleteTask", resources, tr)
		if err != nil {
			return nil, err
		}
		return &operationFlow{checkpointID: cp.ID, operationLogID: logID, flow: compiled, initiate: "InitiateDeleteTask", fail: tr.fail}, nil
	}()
	if err != nil {
		b.abandon(ctx, cps, cp.ID, logID, bank.StatusErrorDeleting, err)
		return nil, fmt.Errorf("providers: build delete flow of checkpoint %s: %w", cp.ID, err)
	}
	return &Operation{op: OpDelete, provider: p.id, workers: b.workers, flows: []*operationFlow{flow}}, nil
}

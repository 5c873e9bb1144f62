package providers

import (
	"context"
	"fmt"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// BuildRestore is the synchronous part of the restore RPC after the manager
// checked the parameters, the checkpoint's project and that it is available
// (step 6 of docs/karbor-behaviour.md#restore; the flow is
// #restore-and-verify-flows there): insert the operation-log row (type
// restore, with the restore's id and status) and build the restore flow
// (targetSteps) over the checkpoint's stored resource graph. Running the
// Operation moves the restore's row in_progress → success, or → fail;
// plugins record each resource's result in it. The checkpoint is not
// modified.
//
// On an error the operation-log row, if written, is closed with status fail;
// the manager answers FlowError(flow="restore", error="Failed to create
// flow") and the API marks the restore failed.
func (b *Builder) BuildRestore(ctx context.Context, rc *karbor.RequestContext, p *Provider, restore *karbor.Restore, cp *bank.Checkpoint) (*Operation, error) {
	return b.buildTarget(ctx, rc, p, cp, target{
		op: OpRestore, names: namesOf(OpRestore, "", cp.ID, ""),
		log: karbor.OperationLog{
			ProjectID: restore.ProjectID, Type: karbor.OperationRestore, CheckpointID: restore.CheckpointID,
			ProviderID: restore.ProviderID, RestoreID: restore.ID, Status: restore.Status,
		},
		params: restore.Parameters,
		row:    targetRow{rec: b.recorder, id: restore.ID},
		args:   HookArgs{Restore: restore},
	})
}

// BuildVerify is BuildRestore for the verification RPC
// (docs/karbor-behaviour.md#verification, #restore-and-verify-flows):
// operation-log type verify, the verification's row in_progress → success
// or fail. On an error the manager answers FlowError(flow="verify",
// error="Failed to create flow").
func (b *Builder) BuildVerify(ctx context.Context, rc *karbor.RequestContext, p *Provider, v *karbor.Verification, cp *bank.Checkpoint) (*Operation, error) {
	return b.buildTarget(ctx, rc, p, cp, target{
		op: OpVerify, names: namesOf(OpVerify, "", cp.ID, ""),
		log: karbor.OperationLog{
			ProjectID: v.ProjectID, Type: karbor.OperationVerify, CheckpointID: v.CheckpointID,
			ProviderID: v.ProviderID, Status: v.Status,
		},
		params: v.Parameters,
		row:    targetRow{rec: b.recorder, id: v.ID, verification: true},
		args:   HookArgs{Verification: v},
	})
}

// target is what differs between a restore and a verification.
type target struct {
	op     Op
	names  flowNames
	log    karbor.OperationLog
	params karbor.Parameters
	row    targetRow
	args   HookArgs // the restore or verification
}

func (b *Builder) buildTarget(ctx context.Context, rc *karbor.RequestContext, p *Provider, cp *bank.Checkpoint, t target) (*Operation, error) {
	ctx = opContext(ctx, t.op, p, cp.ID)
	// The graph is read before the operation-log row is written, as in
	// Python: a checkpoint whose graph cannot be read gets no row at all.
	g, err := unpack(cp)
	if err != nil {
		return nil, fmt.Errorf("providers: build %s flow of checkpoint %s: %w", t.op, cp.ID, err)
	}
	s := targetSteps{row: t.row, log: b.newLog()}
	s.log.start(ctx, t.log)
	args := t.args
	args.Op, args.Request, args.OperationLogID = t.op, rc, s.log.id
	args.Checkpoint = &CheckpointRef{cps: p.checkpoints, cp: cp}
	args.NewResources = &NewResources{}
	args.report = t.row.report
	flow, err := newFlow(ctx, p, g, t.params, args, t.names, cp.ID, s.log, s)
	if err != nil {
		// The API marks the restore or verification failed itself; only
		// the operation-log row is closed here.
		abandonBuild(ctx, err, func(ctx context.Context) error {
			s.log.ended(ctx, karbor.RestoreStatusFailure)
			return nil
		})
		return nil, fmt.Errorf("providers: build %s flow of checkpoint %s: %w", t.op, cp.ID, err)
	}
	return &Operation{op: t.op, provider: p.id, workers: b.workers, progress: b.progress, flows: []*operationFlow{flow}}, nil
}

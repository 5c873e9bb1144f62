package providers

import (
	"context"
	"fmt"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
)

// BuildRestore is the synchronous part of the restore RPC after the manager
// checked the parameters, the checkpoint's project and that it is available
// (spec §2.3 step 6, §7.4): insert the operation-log row (type restore, with
// the restore's id and status) and build the restore flow over the
// checkpoint's stored resource graph. Running the Operation moves the
// restore's row in_progress → success, or → fail; plugins record each
// resource's result in it. The checkpoint is not modified.
//
// On an error the operation-log row, if written, is closed with status fail;
// the manager answers FlowError(flow="restore", error="Failed to create
// flow") and the API marks the restore failed.
func (b *Builder) BuildRestore(ctx context.Context, rc *karbor.RequestContext, p *Provider, restore *karbor.Restore, cp *bank.Checkpoint) (*Operation, error) {
	rec := b.recorder
	return b.buildReadOnly(ctx, rc, p, cp, readOnlyOp{
		op: OpRestore, flowName: "Restore_" + cp.ID, initiate: "InitiateRestoreTask", complete: "CompleteRestoreTask",
		log: OperationLog{
			ProjectID: restore.ProjectID, Type: karbor.OperationRestore, CheckpointID: restore.CheckpointID,
			ProviderID: restore.ProviderID, RestoreID: restore.ID, Status: restore.Status,
		},
		params: restore.Parameters,
		setStatus: func(ctx context.Context, status string) error {
			return rec.RestoreStatus(ctx, restore.ID, status)
		},
		args: HookArgs{Restore: restore, report: func(ctx context.Context, r ResourceResult) {
			if err := rec.RestoreResource(ctx, restore.ID, r); err != nil {
				logctx.From(ctx).WithError(err).Warn("Could not record a resource's restore result")
			}
		}},
	})
}

// BuildVerify is BuildRestore for the verification RPC (spec §2.4, §7.4):
// operation-log type verify, the verification's row in_progress → success or
// fail. On an error the manager answers FlowError(flow="verify",
// error="Failed to create flow").
func (b *Builder) BuildVerify(ctx context.Context, rc *karbor.RequestContext, p *Provider, v *karbor.Verification, cp *bank.Checkpoint) (*Operation, error) {
	rec := b.recorder
	return b.buildReadOnly(ctx, rc, p, cp, readOnlyOp{
		op: OpVerify, flowName: "Verify_" + cp.ID, initiate: "InitiateVerifyTask", complete: "CompleteVerifyTask",
		log: OperationLog{
			ProjectID: v.ProjectID, Type: karbor.OperationVerify, CheckpointID: v.CheckpointID,
			ProviderID: v.ProviderID, Status: v.Status,
		},
		params: v.Parameters,
		setStatus: func(ctx context.Context, status string) error {
			return rec.VerificationStatus(ctx, v.ID, status)
		},
		args: HookArgs{Verification: v, report: func(ctx context.Context, r ResourceResult) {
			if err := rec.VerificationResource(ctx, v.ID, r); err != nil {
				logctx.From(ctx).WithError(err).Warn("Could not record a resource's verification result")
			}
		}},
	})
}

// readOnlyOp is what differs between a restore and a verification.
type readOnlyOp struct {
	op                           Op
	flowName, initiate, complete string
	log                          OperationLog
	params                       karbor.Parameters
	// setStatus sets the restore's or verification's row status.
	setStatus func(ctx context.Context, status string) error
	// args carry the restore or verification and how results are reported.
	args HookArgs
}

func (b *Builder) buildReadOnly(ctx context.Context, rc *karbor.RequestContext, p *Provider, cp *bank.Checkpoint, o readOnlyOp) (*Operation, error) {
	ctx = opContext(ctx, o.op, p, cp.ID)
	// The graph is read before the operation-log row is written, as in
	// Python: a checkpoint whose graph cannot be read gets no row at all.
	g, err := unpack(cp)
	if err != nil {
		return nil, fmt.Errorf("providers: build %s flow of checkpoint %s: %w", o.op, cp.ID, err)
	}
	logID := b.startLog(ctx, o.log)
	flow, err := func() (*operationFlow, error) {
		args := o.args
		args.Op, args.Request, args.OperationLogID = o.op, rc, logID
		args.Checkpoint = &CheckpointRef{cps: p.checkpoints, cp: cp}
		args.NewResources = &NewResources{}
		resources, err := resourceFlow(ctx, p, o.op, g, o.params, args)
		if err != nil {
			return nil, err
		}
		tr := b.rowSteps(logID, o.setStatus)
		compiled, err := b.compile(o.flowName, o.initiate, o.complete, resources, tr)
		if err != nil {
			return nil, err
		}
		return &operationFlow{checkpointID: cp.ID, operationLogID: logID, flow: compiled, initiate: o.initiate, fail: tr.fail}, nil
	}()
	if err != nil {
		b.abandon(ctx, nil, cp.ID, logID, karbor.RestoreStatusFailure, err)
		return nil, fmt.Errorf("providers: build %s flow of checkpoint %s: %w", o.op, cp.ID, err)
	}
	return &Operation{op: o.op, provider: p.id, workers: b.workers, flows: []*operationFlow{flow}}, nil
}

// rowSteps are the transitions of a restore or verification: its row's
// status in_progress, then success or fail, mirrored in the operation log.
// A database failure is logged; it does not fail the operation.
func (b *Builder) rowSteps(logID string, setStatus func(ctx context.Context, status string) error) transitions {
	set := func(ctx context.Context, status string, ended bool) {
		if err := setStatus(ctx, status); err != nil {
			logctx.From(ctx).WithError(err).WithField("status", status).Warn("Could not record the status")
		}
		b.logStatus(ctx, logID, status, ended)
	}
	return transitions{
		start: func(ctx context.Context) error {
			set(ctx, karbor.RestoreStatusInProgress, false)
			return nil
		},
		complete: func(ctx context.Context) error {
			set(ctx, karbor.RestoreStatusSuccess, true)
			return nil
		},
		fail: func(ctx context.Context) error {
			logctx.From(ctx).Info("Recording the operation's failure")
			set(ctx, karbor.RestoreStatusFailure, true)
			return nil
		},
	}
}

package providers

import (
	"context"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/taskflow"
)

// Every operation's flow is karbor's: an Initiate task (the in-progress
// status), the resource graph flow (resourceFlow), a Complete task (the
// success status). When anything after Initiate fails, or the run is
// cancelled, the flow is reverted and Initiate's revert records the
// failure status. steps are what those three do for one kind of
// operation; each kind is one type below.
type steps interface {
	initiate(ctx context.Context) error
	complete(ctx context.Context) error
	fail(ctx context.Context) error
}

// flowNames are karbor's names of an operation's flow and of its Initiate
// and Complete tasks.
type flowNames struct{ flow, initiate, complete string }

// namesOf gives op's flowNames: on planID (protect, copy), checkpointID (the
// checkpoint worked on; a copy's source) and copyID (the copy being made).
func namesOf(op Op, planID, checkpointID, copyID string) flowNames {
	switch op {
	case OpProtect:
		return flowNames{"Protect_" + planID, "InitiateProtectTask", "CompleteProtectTask"}
	case OpRestore:
		return flowNames{"Restore_" + checkpointID, "InitiateRestoreTask", "CompleteRestoreTask"}
	case OpVerify:
		return flowNames{"Verify_" + checkpointID, "InitiateVerifyTask", "CompleteVerifyTask"}
	case OpDelete:
		return flowNames{"Delete_Checkpoint_" + checkpointID, "InitiateDeleteTask", "CompleteDeleteTask"}
	default: // OpCopy
		return flowNames{"Copy_" + planID + checkpointID, "InitiateCopyTask_" + copyID, "CompleteCopyTask_" + copyID}
	}
}

// newFlow builds one operation flow on checkpointID: the resource flow of
// args.Op over g (resourceFlow), between s's Initiate and Complete tasks.
func newFlow(ctx context.Context, p *Provider, g graph.Graph, params karbor.Parameters, args HookArgs,
	names flowNames, checkpointID string, log *operationLog, s steps) (*operationFlow, error) {
	resources, count, err := resourceFlow(ctx, p, args.Op, g, params, args)
	if err != nil {
		return nil, err
	}
	start := taskflow.NewTask(names.initiate,
		func(ctx context.Context) (any, error) { return nil, s.initiate(ctx) },
		taskflow.OnRevert(func(ctx context.Context, _ taskflow.Outcome) error { return s.fail(ctx) }))
	end := taskflow.NewTask(names.complete,
		func(ctx context.Context) (any, error) { return nil, s.complete(ctx) })
	compiled, err := taskflow.Compile(taskflow.NewLinear(names.flow, start, resources, end))
	if err != nil {
		return nil, err
	}
	return &operationFlow{checkpointID: checkpointID, log: log, flow: compiled, initiate: names.initiate, complete: names.complete,
		info: flowInfo(p, args, checkpointID, count), steps: s}, nil
}

// checkpointStatuses are, for each operation that changes a checkpoint, the
// status its Initiate task sets, the one its Complete task ends with, and
// its failure status (docs/karbor-behaviour.md#status-state-machine).
var checkpointStatuses = map[Op]struct{ running, done, failed string }{
	OpProtect: {bank.StatusProtecting, bank.StatusAvailable, bank.StatusError},
	OpCopy:    {bank.StatusCopying, bank.StatusAvailable, bank.StatusError},
	OpDelete:  {bank.StatusDeleting, bank.StatusDeleted, bank.StatusErrorDeleting},
}

// checkpointSteps are the steps of protect, copy (on the copy being made)
// and delete: the checkpoint's status follows checkpointStatuses, and the
// operation-log row mirrors it.
type checkpointSteps struct {
	op  Op
	cps *bank.Checkpoints
	id  string
	log *operationLog
}

func (s checkpointSteps) initiate(ctx context.Context) error {
	running := checkpointStatuses[s.op].running
	if _, err := s.cps.SetStatus(ctx, s.id, running); err != nil {
		return err
	}
	s.log.status(ctx, running)
	return nil
}

// complete is the operation's last bank write: protect sets available;
// copy sets available and extra_info's copy_status "finished"
// (markCopyFinished); delete finishes the deletion ([bank.Checkpoints.Delete]:
// status deleted, index keys removed).
func (s checkpointSteps) complete(ctx context.Context) error {
	var err error
	switch s.op {
	case OpProtect:
		_, err = s.cps.SetStatus(ctx, s.id, bank.StatusAvailable)
	case OpCopy:
		_, err = s.cps.Update(ctx, s.id, func(c *bank.Checkpoint) error {
			extra, err := markCopyFinished(c.ExtraInfo)
			c.Status, c.ExtraInfo = bank.StatusAvailable, extra
			return err
		})
	case OpDelete:
		_, err = s.cps.Delete(ctx, s.id)
	}
	if err != nil {
		return err
	}
	s.log.ended(ctx, checkpointStatuses[s.op].done)
	return nil
}

func (s checkpointSteps) fail(ctx context.Context) error {
	logctx.From(ctx).Info("Recording the operation's failure")
	failed := checkpointStatuses[s.op].failed
	_, err := s.cps.SetStatus(ctx, s.id, failed)
	s.log.ended(ctx, failed)
	return err
}

// targetSteps: a restore's or verification's row in_progress → success, or
// → fail, mirrored in the operation log. The checkpoint is not touched. A
// database failure is logged; it does not fail the operation.
type targetSteps struct {
	row targetRow
	log *operationLog
}

func (s targetSteps) set(ctx context.Context, status string, ended bool) {
	if err := s.row.setStatus(ctx, status); err != nil {
		logctx.From(ctx).WithError(err).WithField("status", status).Warn("Could not record the status")
	}
	if ended {
		s.log.ended(ctx, status)
	} else {
		s.log.status(ctx, status)
	}
}

func (s targetSteps) initiate(ctx context.Context) error {
	s.set(ctx, karbor.RestoreStatusInProgress, false)
	return nil
}

func (s targetSteps) complete(ctx context.Context) error {
	s.set(ctx, karbor.RestoreStatusSuccess, true)
	return nil
}

func (s targetSteps) fail(ctx context.Context) error {
	logctx.From(ctx).Info("Recording the operation's failure")
	s.set(ctx, karbor.RestoreStatusFailure, true)
	return nil
}

// targetRow is the restores or verifications row a restore or verification
// reports its status and each resource's result to.
type targetRow struct {
	rec          Recorder
	id           string
	verification bool
}

func (r targetRow) setStatus(ctx context.Context, status string) error {
	if r.verification {
		return r.rec.VerificationStatus(ctx, r.id, status)
	}
	return r.rec.RestoreStatus(ctx, r.id, status)
}

// report records one resource's result; a failure is logged.
func (r targetRow) report(ctx context.Context, res karbor.ResourceResult) {
	var err error
	if r.verification {
		err = r.rec.VerificationResource(ctx, r.id, res)
	} else {
		err = r.rec.RestoreResource(ctx, r.id, res)
	}
	if err != nil {
		logctx.From(ctx).WithError(err).Warn("Could not record a resource's result")
	}
}

package providers

import (
	"context"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
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

// compile wraps a resource flow as karbor does, Initiate → resources →
// Complete, under karbor's task and flow names, and compiles it.
func compile(name, initiate, complete string, resources *taskflow.Graph, s steps) (*taskflow.Compiled, error) {
	start := taskflow.NewTask(initiate,
		func(ctx context.Context, _ taskflow.Inputs) (any, error) { return nil, s.initiate(ctx) },
		taskflow.OnRevert(func(ctx context.Context, _ taskflow.Inputs, _ taskflow.Outcome) error { return s.fail(ctx) }))
	end := taskflow.NewTask(complete,
		func(ctx context.Context, _ taskflow.Inputs) (any, error) { return nil, s.complete(ctx) })
	return taskflow.Compile(taskflow.NewLinear(name, start, resources, end))
}

// checkpointStatus is what protect, copy and delete share: Initiate sets the
// checkpoint's in-progress status, the failure its failure status, and the
// operation-log row mirrors both.
type checkpointStatus struct {
	cps     *bank.Checkpoints
	id      string
	log     *operationLog
	running string // the status Initiate sets
	failed  string // the status the failure sets
}

func (s checkpointStatus) initiate(ctx context.Context) error {
	if _, err := s.cps.SetStatus(ctx, s.id, s.running); err != nil {
		return err
	}
	s.log.status(ctx, s.running)
	return nil
}

func (s checkpointStatus) fail(ctx context.Context) error {
	logctx.From(ctx).Info("Recording the operation's failure")
	_, err := s.cps.SetStatus(ctx, s.id, s.failed)
	s.log.ended(ctx, s.failed)
	return err
}

// protectSteps: the checkpoint protecting → available, or → error.
type protectSteps struct{ checkpointStatus }

func newProtectSteps(cps *bank.Checkpoints, id string, log *operationLog) protectSteps {
	return protectSteps{checkpointStatus{cps: cps, id: id, log: log, running: bank.StatusProtecting, failed: bank.StatusError}}
}

func (s protectSteps) complete(ctx context.Context) error {
	if _, err := s.cps.SetStatus(ctx, s.id, bank.StatusAvailable); err != nil {
		return err
	}
	s.log.ended(ctx, bank.StatusAvailable)
	return nil
}

// copySteps: the copy checkpoint wait_copying → copying → available, with
// extra_info copy_status "finished" (markCopyFinished), or → error.
type copySteps struct{ checkpointStatus }

func newCopySteps(cps *bank.Checkpoints, id string, log *operationLog) copySteps {
	return copySteps{checkpointStatus{cps: cps, id: id, log: log, running: bank.StatusCopying, failed: bank.StatusError}}
}

func (s copySteps) complete(ctx context.Context) error {
	_, err := s.cps.Update(ctx, s.id, func(c *bank.Checkpoint) error {
		extra, err := markCopyFinished(c.ExtraInfo)
		c.Status, c.ExtraInfo = bank.StatusAvailable, extra
		return err
	})
	if err != nil {
		return err
	}
	s.log.ended(ctx, bank.StatusAvailable)
	return nil
}

// deleteSteps: the checkpoint deleting → deleted, its index keys removed
// ([bank.Checkpoints.Delete]), or → error-deleting.
type deleteSteps struct{ checkpointStatus }

func newDeleteSteps(cps *bank.Checkpoints, id string, log *operationLog) deleteSteps {
	return deleteSteps{checkpointStatus{cps: cps, id: id, log: log, running: bank.StatusDeleting, failed: bank.StatusErrorDeleting}}
}

func (s deleteSteps) complete(ctx context.Context) error {
	if _, err := s.cps.Delete(ctx, s.id); err != nil {
		return err
	}
	s.log.ended(ctx, bank.StatusDeleted)
	return nil
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

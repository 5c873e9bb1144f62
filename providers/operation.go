package providers

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/taskflow"
)

// Operation is a built operation, ready to run: what the protect, restore,
// verification, delete and copy RPCs start in the background once they
// have replied. A copy holds one flow per copy checkpoint.
type Operation struct {
	op       Op
	provider string
	workers  int
	flows    []*operationFlow
	started  atomic.Bool
}

// operationFlow is one compiled operation flow: Initiate, the resource
// graph flow, Complete.
type operationFlow struct {
	checkpointID   string
	operationLogID string
	flow           *taskflow.Compiled
	initiate       string // the Initiate task's name
	// fail records the operation's failure (the Initiate task's revert),
	// for a flow that was stopped before Initiate ran.
	fail func(ctx context.Context) error
}

// Type is the operation's type.
func (o *Operation) Type() Op { return o.op }

// CheckpointIDs are the checkpoints the operation works on: the one
// protected, restored, verified or deleted, or the copies being made.
func (o *Operation) CheckpointIDs() []string {
	ids := make([]string, len(o.flows))
	for i, f := range o.flows {
		ids[i] = f.checkpointID
	}
	return ids
}

// Tasks is the number of tasks the operation runs.
func (o *Operation) Tasks() int {
	n := 0
	for _, f := range o.flows {
		n += f.flow.Len()
	}
	return n
}

// Run runs the operation and returns once it is over, with the checkpoint
// (or the restore, or the verification) in its final status: the success
// status, or, when a hook failed or ctx was cancelled, the failure status
// (protect and copy: error; delete: error-deleting; restore and
// verification: fail), recorded by reverting the flow as karbor does. An
// operation whose ctx is already cancelled runs nothing and records the
// failure, so draining a queue at shutdown leaves nothing in progress. The
// flows of a copy run one after the other; each succeeds or fails on its
// own.
//
// Run may be called once; the error says what failed.
func (o *Operation) Run(ctx context.Context) error {
	if !o.started.CompareAndSwap(false, true) {
		return errors.New("providers: an operation runs only once")
	}
	var errs []error
	for _, f := range o.flows {
		if err := o.runFlow(ctx, f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (o *Operation) runFlow(ctx context.Context, f *operationFlow) error {
	ctx = logctx.WithFields(ctx, logrus.Fields{
		"operation": string(o.op), "provider_id": o.provider,
		"checkpoint_id": f.checkpointID, "operation_log_id": f.operationLogID,
	})
	log := logctx.From(ctx)
	log.WithField("tasks", f.flow.Len()).Info("Operation started")
	res, err := f.flow.Run(ctx, nil, taskflow.Workers(o.workers))
	if err == nil {
		log.Info("Operation succeeded")
		return nil
	}
	if res != nil && res.TaskState(f.initiate) == taskflow.Pending {
		// Stopped before anything ran: there was nothing to revert, so the
		// failure is recorded here.
		if ferr := f.fail(context.WithoutCancel(ctx)); ferr != nil {
			err = errors.Join(err, ferr)
		}
	}
	log.WithError(err).Error("Operation failed")
	return fmt.Errorf("providers: %s of checkpoint %s failed: %w", o.op, f.checkpointID, err)
}

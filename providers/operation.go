package providers

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/pkg/progress"
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
	// progress, when set, is told how each flow goes.
	progress *progress.Tracker
}

// operationFlow is one compiled operation flow: Initiate, the resource
// graph flow, Complete.
type operationFlow struct {
	checkpointID string
	log          *operationLog
	flow         *taskflow.Compiled
	initiate     string // the Initiate task's name
	complete     string // the Complete task's name
	// info is what the progress tracker shows of the flow.
	info progress.Info
	// steps record the operation's failure (the Initiate task's revert)
	// also for a flow stopped before Initiate ran, or abandoned.
	steps steps
}

// CheckpointIDs are the checkpoints the operation works on: the one
// protected, restored, verified or deleted, or the copies being made.
func (o *Operation) CheckpointIDs() []string {
	ids := make([]string, len(o.flows))
	for i, f := range o.flows {
		ids[i] = f.checkpointID
	}
	return ids
}

// Run runs the operation and returns once it is over, with the checkpoint
// (or the restore, or the verification) in its final status: the success
// status, or, when a hook failed or ctx was cancelled, the failure status
// (protect and copy: error; delete: error-deleting; restore and
// verification: fail), recorded by reverting the flow as karbor does. An
// operation whose ctx is cancelled before one of its flows started records
// that flow's failure without running it. The flows of a copy run one after
// the other; each succeeds or fails on its own.
//
// An operation is run or abandoned, once; the error says what failed.
func (o *Operation) Run(ctx context.Context) error {
	if !o.started.CompareAndSwap(false, true) {
		return errOnce
	}
	var errs []error
	for _, f := range o.flows {
		if err := o.runFlow(ctx, f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var errOnce = errors.New("providers: an operation runs only once")

// Abandon records the failure of an operation that will not run (the
// service is stopping, or the request was cancelled while it waited for a
// free slot): every checkpoint, restore or verification it holds gets its
// failure status, as if it had run and failed at once, and reason is
// logged. It returns what could not be recorded.
func (o *Operation) Abandon(ctx context.Context, reason string) error {
	if !o.started.CompareAndSwap(false, true) {
		return errOnce
	}
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, f := range o.flows {
		fctx := o.flowContext(ctx, f)
		logctx.From(fctx).Warnf("Operation not started: %s; recording its failure", reason)
		if err := f.steps.fail(fctx); err != nil {
			errs = append(errs, fmt.Errorf("providers: record the failure of %s of checkpoint %s: %w", o.op, f.checkpointID, err))
		}
	}
	return errors.Join(errs...)
}

// flowContext adds the fields every log line of one flow carries.
func (o *Operation) flowContext(ctx context.Context, f *operationFlow) context.Context {
	return logctx.WithFields(ctx, logrus.Fields{
		"operation": string(o.op), "provider_id": o.provider,
		"checkpoint_id": f.checkpointID, "operation_log_id": f.log.id,
	})
}

func (o *Operation) runFlow(ctx context.Context, f *operationFlow) error {
	ctx = o.flowContext(ctx, f)
	log := logctx.From(ctx)
	log.WithField("tasks", f.flow.Len()).Info("Operation started")
	opts := []taskflow.RunOption{taskflow.Workers(o.workers)}
	tracked := o.progress.Start(f.info)
	if tracked != nil {
		opts = append(opts, taskflow.WithListener(newFlowProgress(tracked, o.op, f)))
	}
	res, err := f.flow.Run(ctx, opts...)
	tracked.End(finalStatus(o.op, err == nil), err)
	if err == nil {
		log.Info("Operation succeeded")
		return nil
	}
	if res != nil && res.TaskState(f.initiate) == taskflow.Pending {
		// Stopped before anything ran: there was nothing to revert, so the
		// failure is recorded here.
		if ferr := f.steps.fail(context.WithoutCancel(ctx)); ferr != nil {
			err = errors.Join(err, ferr)
		}
	}
	log.WithError(err).Error("Operation failed")
	return fmt.Errorf("providers: %s of checkpoint %s failed: %w", o.op, f.checkpointID, err)
}

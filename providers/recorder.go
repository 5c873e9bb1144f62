package providers

import (
	"context"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
)

// Recorder is where operations record what karbor keeps in its database,
// not in the bank: the operation-log rows, and the status and per-resource
// results of restores and verifications
// (docs/karbor-behaviour.md#database-rows-written-outside-the-bank).
// [db.Recorder] implements it (and writes nothing without a database);
// this package imports no database code.
//
// A recorder failure never fails an operation: errors are logged by the
// caller and the operation goes on (a flow's bank writes are what count).
type Recorder interface {
	// OperationStarted inserts an operation-log row when an operation is
	// built and returns its id.
	OperationStarted(ctx context.Context, log karbor.OperationLog) (id string, err error)
	// OperationStatus sets a row's status (the Initiate step).
	OperationStatus(ctx context.Context, id, status string) error
	// OperationEnded sets a row's status and its ended_at to now (the
	// Complete step, or the failure).
	OperationEnded(ctx context.Context, id, status string) error
	// RestoreStatus sets a restore's status: in_progress, success or fail.
	RestoreStatus(ctx context.Context, restoreID, status string) error
	// RestoreResource records one resource's result in a restore.
	RestoreResource(ctx context.Context, restoreID string, r karbor.ResourceResult) error
	// VerificationStatus and VerificationResource do the same for a
	// verification.
	VerificationStatus(ctx context.Context, verificationID, status string) error
	VerificationResource(ctx context.Context, verificationID string, r karbor.ResourceResult) error
	// CheckpointRecovered closes, when recovery failed a checkpoint a dead
	// instance left in progress, that checkpoint's open operation-log rows
	// (protect and copy) with status; if the checkpoint has no row at all,
	// missing (when not nil) is written, closed with status: the row the
	// dead instance never wrote.
	CheckpointRecovered(ctx context.Context, checkpointID, status string, missing *karbor.OperationLog) error
}

// operationLog is one operation's operation-log row. Its writes never fail
// the operation: a recorder error is logged and the operation goes on,
// without a row id if the insert failed.
type operationLog struct {
	rec Recorder
	id  string // "" until started, or when the insert failed
}

// start inserts the row, started now.
func (l *operationLog) start(ctx context.Context, row karbor.OperationLog) {
	row.StartedAt = time.Now()
	id, err := l.rec.OperationStarted(ctx, row)
	if err != nil {
		logctx.From(ctx).WithError(err).Warn("Could not record the operation log")
	}
	l.id = id
}

// status sets the row's status.
func (l *operationLog) status(ctx context.Context, status string) {
	if l.id == "" {
		return
	}
	if err := l.rec.OperationStatus(ctx, l.id, status); err != nil {
		logctx.From(ctx).WithError(err).WithField("status", status).Warn("Could not record the operation log's status")
	}
}

// ended sets the row's final status and its ended_at.
func (l *operationLog) ended(ctx context.Context, status string) {
	if l.id == "" {
		return
	}
	if err := l.rec.OperationEnded(ctx, l.id, status); err != nil {
		logctx.From(ctx).WithError(err).WithField("status", status).Warn("Could not record the operation log's status")
	}
}

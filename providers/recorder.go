package providers

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Recorder is where operations record what karbor keeps outside the bank
// (spec §9): the operation-log rows, and the status and per-resource results
// of restores and verifications. The database layer implements it; this
// package imports no database code.
//
// A recorder failure never fails an operation: errors are logged by the
// caller and the operation goes on (a flow's bank writes are what count).
type Recorder interface {
	// OperationStarted inserts an operation-log row when an operation is
	// built and returns its id.
	OperationStarted(ctx context.Context, log OperationLog) (id string, err error)
	// OperationStatus sets a row's status (the Initiate step).
	OperationStatus(ctx context.Context, id, status string) error
	// OperationEnded sets a row's status and its ended_at to now (the
	// Complete step, or the failure).
	OperationEnded(ctx context.Context, id, status string) error
	// RestoreStatus sets a restore's status: in_progress, success or fail.
	RestoreStatus(ctx context.Context, restoreID, status string) error
	// RestoreResource records one resource's result in a restore.
	RestoreResource(ctx context.Context, restoreID string, r ResourceResult) error
	// VerificationStatus and VerificationResource do the same for a
	// verification.
	VerificationStatus(ctx context.Context, verificationID, status string) error
	VerificationResource(ctx context.Context, verificationID string, r ResourceResult) error
	// CheckpointRecovered closes, when recovery failed a checkpoint a dead
	// instance left in progress, that checkpoint's open operation-log rows
	// (protect and copy) with status; if the checkpoint has no row at all,
	// missing (when not nil) is written, closed with status: the row the
	// dead instance never wrote.
	CheckpointRecovered(ctx context.Context, checkpointID, status string, missing *OperationLog) error
}

// OperationLog is a new operation-log row. Empty strings stand for NULL.
type OperationLog struct {
	ProjectID string
	// Type is the operation type as karbor writes it: protect, restore,
	// verify, copy, and protect for a delete (the Python service forgets
	// to pass the delete type, and this keeps its rows identical).
	Type                 string
	CheckpointID         string
	PlanID               string
	ProviderID           string
	RestoreID            string
	ScheduledOperationID string
	Status               string
	StartedAt            time.Time
}

// ResourceResult is one resource's outcome of a restore or verification
// (karbor's update_resource_status(type, id, status, reason)).
type ResourceResult struct {
	Type   string
	ID     string
	Status string
	// Reason goes to resources_reason; nil leaves it alone.
	Reason *string
}

// NopRecorder records nothing: for a service without a database. Its
// operation-log ids are fresh UUIDs, so logs still name each operation.
type NopRecorder struct{}

var _ Recorder = NopRecorder{}

// OperationStarted returns a new id.
func (NopRecorder) OperationStarted(context.Context, OperationLog) (string, error) {
	return uuid.NewString(), nil
}

// OperationStatus does nothing.
func (NopRecorder) OperationStatus(context.Context, string, string) error { return nil }

// OperationEnded does nothing.
func (NopRecorder) OperationEnded(context.Context, string, string) error { return nil }

// RestoreStatus does nothing.
func (NopRecorder) RestoreStatus(context.Context, string, string) error { return nil }

// RestoreResource does nothing.
func (NopRecorder) RestoreResource(context.Context, string, ResourceResult) error { return nil }

// VerificationStatus does nothing.
func (NopRecorder) VerificationStatus(context.Context, string, string) error { return nil }

// CheckpointRecovered does nothing.
func (NopRecorder) CheckpointRecovered(context.Context, string, string, *OperationLog) error {
	return nil
}

// VerificationResource does nothing.
func (NopRecorder) VerificationResource(context.Context, string, ResourceResult) error { return nil }

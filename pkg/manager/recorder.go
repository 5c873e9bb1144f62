package manager

import (
	"context"

	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/providers"
)

// DBRecorder lets the operations record through karbor's database
// (pkg/db): the two packages define the same recorder, each with its own
// record types, so that neither imports the other.
type DBRecorder struct {
	DB db.Recorder
}

var _ providers.Recorder = DBRecorder{}

// OperationStarted inserts an operation_logs row.
func (r DBRecorder) OperationStarted(ctx context.Context, l providers.OperationLog) (string, error) {
	return r.DB.OperationStarted(ctx, dbOperation(l))
}

func dbOperation(l providers.OperationLog) db.Operation {
	return db.Operation{
		ProjectID:            l.ProjectID,
		Type:                 l.Type,
		CheckpointID:         l.CheckpointID,
		PlanID:               l.PlanID,
		ProviderID:           l.ProviderID,
		RestoreID:            l.RestoreID,
		ScheduledOperationID: l.ScheduledOperationID,
		Status:               l.Status,
		StartedAt:            l.StartedAt,
	}
}

// OperationStatus sets an operation_logs row's status.
func (r DBRecorder) OperationStatus(ctx context.Context, id, status string) error {
	return r.DB.OperationStatus(ctx, id, status)
}

// OperationEnded sets an operation_logs row's final status and ended_at.
func (r DBRecorder) OperationEnded(ctx context.Context, id, status string) error {
	return r.DB.OperationEnded(ctx, id, status)
}

// CheckpointRecovered closes the operation_logs rows of a checkpoint that
// recovery failed, writing the missing one if it has none.
func (r DBRecorder) CheckpointRecovered(ctx context.Context, checkpointID, status string, missing *providers.OperationLog) error {
	var op *db.Operation
	if missing != nil {
		o := dbOperation(*missing)
		op = &o
	}
	return r.DB.CheckpointRecovered(ctx, checkpointID, status, op)
}

// RestoreStatus sets a restores row's status.
func (r DBRecorder) RestoreStatus(ctx context.Context, id, status string) error {
	return r.DB.RestoreStatus(ctx, id, status)
}

// RestoreResource records one resource's result in a restores row.
func (r DBRecorder) RestoreResource(ctx context.Context, id string, res providers.ResourceResult) error {
	return r.DB.RestoreResource(ctx, id, db.ResourceResult(res))
}

// VerificationStatus sets a verifications row's status.
func (r DBRecorder) VerificationStatus(ctx context.Context, id, status string) error {
	return r.DB.VerificationStatus(ctx, id, status)
}

// VerificationResource records one resource's result in a verifications
// row.
func (r DBRecorder) VerificationResource(ctx context.Context, id string, res providers.ResourceResult) error {
	return r.DB.VerificationResource(ctx, id, db.ResourceResult(res))
}

package db

import (
	"context"

	"github.com/google/uuid"
)

// Null is the Recorder of a service without a [database] connection: it
// checks its input as the others do and writes nothing, so callers never
// branch on whether there is a database.
type Null struct{}

var _ Recorder = Null{}

func (Null) OperationStarted(_ context.Context, op Operation) (string, error) {
	if err := op.validate(); err != nil {
		return "", err
	}
	return uuid.NewString(), nil
}

func (Null) OperationStatus(_ context.Context, id, status string) error {
	return validateStatus("operation_logs", id, status)
}

func (Null) OperationEnded(_ context.Context, id, status string) error {
	return validateStatus("operation_logs", id, status)
}

func (Null) RestoreStatus(_ context.Context, id, status string) error {
	return validateStatus(tableRestores, id, status)
}

func (Null) RestoreResource(_ context.Context, id string, r ResourceResult) error {
	return validateResource(tableRestores, id, r)
}

func (Null) VerificationStatus(_ context.Context, id, status string) error {
	return validateStatus(tableVerifications, id, status)
}

func (Null) VerificationResource(_ context.Context, id string, r ResourceResult) error {
	return validateResource(tableVerifications, id, r)
}

func (Null) CheckpointRecovered(_ context.Context, checkpointID, status string, missing *Operation) error {
	return validateRecovered(checkpointID, status, missing)
}

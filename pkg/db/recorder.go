package db

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Recorder is what the flows and the manager write to karbor's database
// through. Implementations: the SQL one behind Store, Null (no database
// configured) and Memory (other packages' unit tests).
//
// Writes are asynchronous: a method validates its input, queues the write
// and returns. A write that fails is retried and, if it cannot be done, is
// logged and dropped; it never fails an operation. The error a method
// returns is for bad input (ErrInvalid) or a recorder that cannot take more
// writes (ErrClosed, ErrBusy); it has already been logged, so callers may
// ignore it. ctx only supplies the log fields (request id, …); cancelling it
// does not cancel a queued write.
type Recorder interface {
	// OperationStarted inserts an operation_logs row when a flow is built
	// and returns its id (a new UUID), also when the write could not be
	// queued, so the flow can go on.
	OperationStarted(ctx context.Context, op Operation) (string, error)
	// OperationStatus sets the row's status (the Initiate task).
	OperationStatus(ctx context.Context, id, status string) error
	// OperationEnded sets the status and ended_at = now (the Complete task,
	// or the Initiate task's revert).
	OperationEnded(ctx context.Context, id, status string) error
	// RestoreStatus sets a restores row's status (in_progress, success,
	// fail).
	RestoreStatus(ctx context.Context, restoreID, status string) error
	// RestoreResource records one resource's result in the restores row's
	// resources_status / resources_reason.
	RestoreResource(ctx context.Context, restoreID string, r ResourceResult) error
	// VerificationStatus and VerificationResource do the same for a
	// verifications row.
	VerificationStatus(ctx context.Context, verificationID, status string) error
	VerificationResource(ctx context.Context, verificationID string, r ResourceResult) error
	// CheckpointRecovered closes what a dead service instance left open
	// for a checkpoint that recovery failed: every protect or copy
	// operation_logs row of the checkpoint without ended_at gets status
	// and ended_at = now. If the checkpoint has no operation_logs row at
	// all, missing (when not nil) is inserted with that status and ended:
	// the row of an operation whose instance was killed before its queued
	// insert was written.
	CheckpointRecovered(ctx context.Context, checkpointID, status string, missing *Operation) error
}

// Operation types as karbor's flows write them. The delete flow records
// OperationProtect: the Python service forgets to pass its type.
const (
	OperationProtect = "protect"
	OperationRestore = "restore"
	OperationVerify  = "verify"
	OperationCopy    = "copy"
)

// Statuses of restores and verifications (karbor's RESTORE_STATUS_* and
// VERIFICATION_STATUS_*).
const (
	StatusInProgress = "in_progress"
	StatusSuccess    = "success"
	StatusFail       = "fail"
)

// Operation is a new operation_logs row. Empty strings are written as NULL.
type Operation struct {
	ProjectID            string // required
	Type                 string // required: OperationProtect, …
	CheckpointID         string
	PlanID               string
	ProviderID           string
	RestoreID            string
	ScheduledOperationID string
	Status               string
	// StartedAt is when the flow was built; zero means now.
	StartedAt time.Time
}

// ResourceResult is one resource's outcome as a plugin reports it with
// karbor's update_resource_status(type, id, status, reason).
type ResourceResult struct {
	Type   string // e.g. "OS::Nova::Server"
	ID     string
	Status string
	// Reason goes to resources_reason. nil leaves that column alone, as
	// Python's reason=None does; karbor's plugin helpers pass "" by default,
	// which is recorded.
	Reason *string
}

// Reason returns a pointer to s, for ResourceResult.Reason.
func Reason(s string) *string { return &s }

func (r ResourceResult) key() string { return r.Type + "#" + r.ID }

// Errors the recorders return.
var (
	ErrInvalid = errors.New("invalid database record")
	ErrClosed  = errors.New("database recorder is stopped")
	ErrBusy    = errors.New("database write queue is full")
)

// Column sizes from karbor's schema; MySQL and PostgreSQL reject longer
// values.
const (
	uuidLen   = 36
	nameLen   = 255
	statusLen = 64
)

func checkLen(column, v string, max int, required bool) error {
	if required && v == "" {
		return fmt.Errorf("%w: %s is required", ErrInvalid, column)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return fmt.Errorf("%w: %s is %d characters long, the column holds %d", ErrInvalid, column, n, max)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, column)
	}
	return nil
}

func (op Operation) validate() error {
	for _, c := range []struct {
		column, value string
		max           int
		required      bool
	}{
		{"operation_logs.project_id", op.ProjectID, nameLen, true},
		{"operation_logs.operation_type", op.Type, nameLen, true},
		{"operation_logs.checkpoint_id", op.CheckpointID, uuidLen, false},
		{"operation_logs.plan_id", op.PlanID, uuidLen, false},
		{"operation_logs.provider_id", op.ProviderID, uuidLen, false},
		{"operation_logs.restore_id", op.RestoreID, uuidLen, false},
		{"operation_logs.scheduled_operation_id", op.ScheduledOperationID, uuidLen, false},
		{"operation_logs.status", op.Status, statusLen, false},
	} {
		if err := checkLen(c.column, c.value, c.max, c.required); err != nil {
			return err
		}
	}
	return nil
}

func validateRecovered(checkpointID, status string, missing *Operation) error {
	if err := checkLen("operation_logs.checkpoint_id", checkpointID, uuidLen, true); err != nil {
		return err
	}
	if err := checkLen("operation_logs.status", status, statusLen, true); err != nil {
		return err
	}
	if missing == nil {
		return nil
	}
	if missing.CheckpointID != checkpointID {
		return fmt.Errorf("%w: the missing operation_logs row is of checkpoint %q, not %q", ErrInvalid, missing.CheckpointID, checkpointID)
	}
	return missing.validate()
}

func validateStatus(table, id, status string) error {
	if err := checkLen(table+".id", id, uuidLen, true); err != nil {
		return err
	}
	return checkLen(table+".status", status, statusLen, false)
}

func validateResource(table, id string, r ResourceResult) error {
	if err := checkLen(table+".id", id, uuidLen, true); err != nil {
		return err
	}
	if r.Type == "" || r.ID == "" {
		return fmt.Errorf("%w: %s resource result needs a type and an id, got %q", ErrInvalid, table, r.key())
	}
	for _, s := range []string{r.Type, r.ID, r.Status} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %s resource result %q is not valid UTF-8", ErrInvalid, table, r.key())
		}
	}
	if r.Reason != nil && !utf8.ValidString(*r.Reason) {
		return fmt.Errorf("%w: %s resource reason for %q is not valid UTF-8", ErrInvalid, table, r.key())
	}
	return nil
}

// The two tables whose rows the API creates and the flows update.
const (
	tableRestores      = "restores"
	tableVerifications = "verifications"
)

// now is the naive UTC time oslo's timeutils.utcnow() gives, to the
// microsecond.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// recoverable reports whether recovery closes an operation_logs row of this
// type: the operations that change a checkpoint (protect, which a delete's
// row also says, and copy), not the restores and verifications that only
// read it.
func recoverable(typ string) bool { return typ == OperationProtect || typ == OperationCopy }

package db

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

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

func validateOperation(op karbor.OperationLog) error {
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

func validateRecovered(checkpointID, status string, missing *karbor.OperationLog) error {
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
	return validateOperation(*missing)
}

func validateStatus(table, id, status string) error {
	if err := checkLen(table+".id", id, uuidLen, true); err != nil {
		return err
	}
	return checkLen(table+".status", status, statusLen, false)
}

func validateResource(table, id string, r karbor.ResourceResult) error {
	if err := checkLen(table+".id", id, uuidLen, true); err != nil {
		return err
	}
	if r.Type == "" || r.ID == "" {
		return fmt.Errorf("%w: %s resource result needs a type and an id, got %q", ErrInvalid, table, resultKey(r))
	}
	for _, s := range []string{r.Type, r.ID, r.Status} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: %s resource result %q is not valid UTF-8", ErrInvalid, table, resultKey(r))
		}
	}
	if r.Reason != nil && !utf8.ValidString(*r.Reason) {
		return fmt.Errorf("%w: %s resource reason for %q is not valid UTF-8", ErrInvalid, table, resultKey(r))
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

// resultKey is how resources_status and resources_reason key a resource's
// result: "<type>#<id>".
func resultKey(r karbor.ResourceResult) string { return r.Type + "#" + r.ID }

// recoverable reports whether recovery closes an operation_logs row of this
// type: the operations that change a checkpoint (protect, which a delete's
// row also says, and copy), not the restores and verifications that only
// read it.
func recoverable(typ string) bool {
	return typ == karbor.OperationProtect || typ == karbor.OperationCopy
}

package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
)

// Recorder writes what the operations record in karbor's database: the
// operation_logs rows, and the status and per-resource results of the
// restores and verifications rows. Store.Recorder returns it. A Recorder
// without a database (no [database] connection; the zero Recorder too)
// checks its input as the other does and writes nothing, so callers never
// branch on whether there is a database.
//
// Writes are asynchronous: a method validates its input, queues the write
// and returns. A write that fails is retried and, if it cannot be done, is
// logged and dropped; it never fails an operation. The error a method
// returns is for bad input (ErrInvalid) or a recorder that cannot take more
// writes (ErrClosed, ErrBusy); it has already been logged, so callers may
// ignore it. ctx only supplies the log fields (request id, …); cancelling it
// does not cancel a queued write.
type Recorder struct {
	db      *sql.DB
	d       *dialect
	w       *writer // nil: no database
	log     *logrus.Entry
	targets targets
}

// jobLog is the store's logger with the caller's fields (request id, …).
func (r *Recorder) jobLog(ctx context.Context) *logrus.Entry {
	if r.log == nil {
		return logctx.From(ctx)
	}
	return r.log.WithFields(logctx.From(ctx).Data)
}

func (r *Recorder) fail(ctx context.Context, err error) error {
	r.jobLog(ctx).WithError(err).Error("database write refused")
	return err
}

// OperationStarted inserts an operation_logs row when an operation is built
// and returns its id (a new UUID), also when the write could not be queued,
// so the operation can go on.
func (r *Recorder) OperationStarted(ctx context.Context, op karbor.OperationLog) (string, error) {
	if err := validateOperation(op); err != nil {
		return "", r.fail(ctx, err)
	}
	id := uuid.NewString()
	if r.w == nil {
		return id, nil
	}
	at := now()
	if op.StartedAt.IsZero() {
		op.StartedAt = at
	}
	return id, r.w.enqueue(job{
		what: "insert operation_logs " + id,
		log:  r.jobLog(ctx),
		run:  func(ctx context.Context) error { return r.insertOperation(ctx, id, op, at) },
	})
}

// OperationStatus sets an operation_logs row's status (the Initiate task).
func (r *Recorder) OperationStatus(ctx context.Context, id, status string) error {
	return r.updateOperation(ctx, id, status, false)
}

// OperationEnded sets an operation_logs row's status and ended_at = now
// (the Complete task, or the operation's failure).
func (r *Recorder) OperationEnded(ctx context.Context, id, status string) error {
	return r.updateOperation(ctx, id, status, true)
}

func (r *Recorder) updateOperation(ctx context.Context, id, status string, ended bool) error {
	if err := validateStatus("operation_logs", id, status); err != nil {
		return r.fail(ctx, err)
	}
	if r.w == nil {
		return nil
	}
	at := now()
	return r.w.enqueue(job{
		what: fmt.Sprintf("update operation_logs %s status=%s", id, status),
		log:  r.jobLog(ctx),
		run: func(ctx context.Context) error {
			cols := []column{{"status", nullString(status)}}
			if ended {
				cols = append(cols, column{"ended_at", r.d.timeArg(at)})
			}
			return r.update(ctx, "operation_logs", id, cols, at)
		},
	})
}

// CheckpointRecovered closes what a dead service instance left open for a
// checkpoint that recovery failed: every protect or copy operation_logs row
// of the checkpoint without ended_at gets status and ended_at = now. If the
// checkpoint has no operation_logs row at all, missing (when not nil) is
// inserted with that status and ended: the row of an operation whose
// instance was killed before its queued insert was written.
func (r *Recorder) CheckpointRecovered(ctx context.Context, checkpointID, status string, missing *karbor.OperationLog) error {
	if err := validateRecovered(checkpointID, status, missing); err != nil {
		return r.fail(ctx, err)
	}
	if r.w == nil {
		return nil
	}
	at := now()
	var op *karbor.OperationLog
	if missing != nil {
		m := *missing
		m.Status = status
		if m.StartedAt.IsZero() {
			m.StartedAt = at
		}
		op = &m
	}
	id := uuid.NewString() // of the missing row, the same for every attempt
	return r.w.enqueue(job{
		what: fmt.Sprintf("close operation_logs of recovered checkpoint %s status=%s", checkpointID, status),
		log:  r.jobLog(ctx),
		run:  func(ctx context.Context) error { return r.closeRecovered(ctx, checkpointID, status, op, id, at) },
	})
}

// closeRecovered closes the open protect and copy rows of a checkpoint and
// inserts the missing row if it has none; in one transaction, so a retry
// after a lost commit finds the rows closed (or inserted) and changes
// nothing.
func (r *Recorder) closeRecovered(ctx context.Context, checkpointID, status string, missing *karbor.OperationLog, id string, at time.Time) error {
	return r.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, r.d.query(`UPDATE operation_logs SET status = ?, ended_at = ?, updated_at = ?
			WHERE checkpoint_id = ? AND ended_at IS NULL AND deleted = ? AND operation_type IN (?, ?)`),
			status, r.d.timeArg(at), r.d.timeArg(at), checkpointID, r.d.boolArg(false), karbor.OperationProtect, karbor.OperationCopy); err != nil {
			return err
		}
		if missing == nil {
			return nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, r.d.query(`SELECT COUNT(*) FROM operation_logs WHERE checkpoint_id = ?`), checkpointID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		return r.insertLog(ctx, tx, id, *missing, at, r.d.timeArg(at))
	})
}

// RestoreStatus sets a restores row's status (in_progress, success, fail).
func (r *Recorder) RestoreStatus(ctx context.Context, id, status string) error {
	return r.setStatus(ctx, tableRestores, id, status)
}

// VerificationStatus sets a verifications row's status.
func (r *Recorder) VerificationStatus(ctx context.Context, id, status string) error {
	return r.setStatus(ctx, tableVerifications, id, status)
}

// RestoreResource records one resource's result in the restores row's
// resources_status and resources_reason.
func (r *Recorder) RestoreResource(ctx context.Context, id string, res karbor.ResourceResult) error {
	return r.addResult(ctx, tableRestores, id, res)
}

// VerificationResource records one resource's result in a verifications
// row.
func (r *Recorder) VerificationResource(ctx context.Context, id string, res karbor.ResourceResult) error {
	return r.addResult(ctx, tableVerifications, id, res)
}

func (r *Recorder) setStatus(ctx context.Context, table, id, status string) error {
	if err := validateStatus(table, id, status); err != nil {
		return r.fail(ctx, err)
	}
	if r.w == nil {
		return nil
	}
	at := now()
	err := r.w.enqueue(job{
		what: fmt.Sprintf("update %s %s status=%s", table, id, status),
		log:  r.jobLog(ctx),
		run: func(ctx context.Context) error {
			return r.update(ctx, table, id, []column{{"status", nullString(status)}}, at)
		},
	})
	if finalStatus(status) {
		r.targets.drop(table, id)
	}
	return err
}

func (r *Recorder) addResult(ctx context.Context, table, id string, res karbor.ResourceResult) error {
	if err := validateResource(table, id, res); err != nil {
		return r.fail(ctx, err)
	}
	if r.w == nil {
		return nil
	}
	t := r.targets.get(table, id)
	if !t.add(res) {
		return nil // the write already queued will carry this result
	}
	err := r.w.enqueue(job{
		what: fmt.Sprintf("update %s %s resources", table, id),
		log:  r.jobLog(ctx),
		run: func(ctx context.Context) error {
			status, reason := t.take()
			cols := []column{{"resources_status", status}}
			if reason != "" {
				cols = append(cols, column{"resources_reason", reason})
			}
			return r.update(ctx, table, id, cols, now())
		},
	})
	if err != nil {
		t.unqueue()
	}
	return err
}

// column is one value to set in an UPDATE.
type column struct {
	name  string
	value any // nil, string or a dialect time value
}

// insertOperation inserts the operation_logs row as karbor's
// operation_log_create does: deleted false, the rest NULL unless given;
// created_at is when the flow asked for the row, so a write that waited in
// the queue still shows when it happened. A retry after a commit whose
// answer was lost finds the row and stops.
func (r *Recorder) insertOperation(ctx context.Context, id string, op karbor.OperationLog, created time.Time) error {
	return r.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, r.d.query(`SELECT COUNT(*) FROM operation_logs WHERE id = ?`), id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		return r.insertLog(ctx, tx, id, op, created, nil)
	})
}

// insertLog inserts an operation_logs row as karbor's create_operation_log
// does; ended is its ended_at (nil: NULL, the operation is running).
func (r *Recorder) insertLog(ctx context.Context, tx *sql.Tx, id string, op karbor.OperationLog, created time.Time, ended any) error {
	_, err := tx.ExecContext(ctx, r.d.query(`INSERT INTO operation_logs
		(created_at, updated_at, deleted_at, deleted, id, project_id, operation_type,
		 checkpoint_id, plan_id, provider_id, restore_id, scheduled_operation_id,
		 status, started_at, ended_at, error_info, extra_info)
		VALUES (?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`),
		r.d.timeArg(created), r.d.boolArg(false), id, op.ProjectID, op.Type,
		nullString(op.CheckpointID), nullString(op.PlanID), nullString(op.ProviderID),
		nullString(op.RestoreID), nullString(op.ScheduledOperationID),
		nullString(op.Status), r.d.timeArg(op.StartedAt), ended)
	return err
}

// update sets cols on a live (not soft-deleted) row as SQLAlchemy's unit of
// work does: it reads the row, and only if a value differs does it write the
// changed columns together with updated_at. Setting a status the row already
// has thus leaves updated_at alone, as in the Python service. updated is when
// the change was asked for (a status) or taken from the merged results.
func (r *Recorder) update(ctx context.Context, table, id string, cols []column, updated time.Time) error {
	return r.inTx(ctx, func(tx *sql.Tx) error {
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.name
		}
		current := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range current {
			dest[i] = &current[i]
		}
		q := fmt.Sprintf(`SELECT %s FROM %s WHERE id = ? AND deleted = ?`, strings.Join(names, ", "), table)
		err := tx.QueryRowContext(ctx, r.d.query(q), id, r.d.boolArg(false)).Scan(dest...)
		if errors.Is(err, sql.ErrNoRows) {
			return errNoRow
		}
		if err != nil {
			return err
		}
		var sets []string
		var args []any
		for i, c := range cols {
			if sameValue(current[i], c.value) {
				continue
			}
			sets = append(sets, c.name+" = ?")
			args = append(args, c.value)
		}
		if len(sets) == 0 {
			return nil
		}
		sets = append(sets, "updated_at = ?")
		args = append(args, r.d.timeArg(updated), id)
		q = fmt.Sprintf(`UPDATE %s SET %s WHERE id = ?`, table, strings.Join(sets, ", "))
		_, err = tx.ExecContext(ctx, r.d.query(q), args...)
		return err
	})
}

// sameValue compares a column as read with the value to write. Only text
// columns are compared; a time (ended_at) is always new.
func sameValue(cur sql.NullString, v any) bool {
	switch v := v.(type) {
	case nil:
		return !cur.Valid
	case string:
		return cur.Valid && cur.String == v
	default:
		return false
	}
}

func (r *Recorder) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/python"
)

// Client is karbor's database as karbor-api uses it around a restore or a
// verification: it creates the row (status in_progress) before calling the
// protection service, marks it failed when the call fails, and reads it
// back for its progress. It is for clients of the service
// (karbor-protection-ctl); the service itself only updates these rows.
type Client struct {
	db *sql.DB
	d  *dialect
}

// OpenClient opens connection ([database] connection) with opts; nothing
// is dialled until the first call.
func OpenClient(connection string, opts Options, log *logrus.Entry) (*Client, error) {
	src, err := ParseURL(connection)
	if err != nil {
		return nil, err
	}
	src.AppendQuery(opts.ConnectionParameters)
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("[database]: %w", err)
	}
	db, err := openSQL(src, opts, log)
	if err != nil {
		return nil, err
	}
	return &Client{db: db, d: newDialect(src.Dialect)}, nil
}

// Close closes the pool.
func (c *Client) Close() error { return c.db.Close() }

// Target is a restore or verification row as karbor-api creates it.
type Target struct {
	ID, ProjectID, ProviderID, CheckpointID string
	// RestoreTarget is a restore's target site ("": NULL); verifications
	// have none.
	RestoreTarget string
	// Parameters are stored as json.dumps text; nil or empty is NULL, as
	// karbor's objects store a falsy JSON field.
	Parameters map[string]any
	CreatedAt  time.Time
}

// TargetState is a restore's or verification's progress: its status and
// the per-resource statuses the protection plugins reported.
type TargetState struct {
	Status          string
	ResourcesStatus map[string]string
}

// CreateRestore inserts a restores row in status in_progress.
func (c *Client) CreateRestore(ctx context.Context, t Target) error {
	return c.create(ctx, tableRestores, t)
}

// CreateVerification inserts a verifications row in status in_progress.
func (c *Client) CreateVerification(ctx context.Context, t Target) error {
	return c.create(ctx, tableVerifications, t)
}

func (c *Client) create(ctx context.Context, table string, t Target) error {
	if t.ID == "" || t.ProjectID == "" || t.ProviderID == "" || t.CheckpointID == "" {
		return fmt.Errorf("db: a %s row needs an id, a project, a provider and a checkpoint", table)
	}
	var params any
	if len(t.Parameters) > 0 {
		text, err := python.MarshalJSON(t.Parameters)
		if err != nil {
			return fmt.Errorf("db: %s parameters: %w", table, err)
		}
		params = string(text)
	}
	cols := []string{"created_at", "deleted", "id", "project_id", "provider_id", "checkpoint_id", "parameters", "status"}
	args := []any{c.d.timeArg(t.CreatedAt), c.d.boolArg(false), t.ID, t.ProjectID, t.ProviderID, t.CheckpointID, params, karbor.RestoreStatusInProgress}
	if table == tableRestores {
		cols = append(cols, "restore_target")
		args = append(args, nullString(t.RestoreTarget))
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (?%s)", table, strings.Join(cols, ", "), strings.Repeat(", ?", len(cols)-1))
	if _, err := c.db.ExecContext(ctx, c.d.query(q), args...); err != nil {
		return fmt.Errorf("db: create %s row %s: %w", table, t.ID, err)
	}
	return nil
}

// FailRestore and FailVerification set the status fail, as karbor-api
// does when the call to the protection service fails.
func (c *Client) FailRestore(ctx context.Context, id string) error {
	return c.fail(ctx, tableRestores, id)
}

// FailVerification is FailRestore for a verification.
func (c *Client) FailVerification(ctx context.Context, id string) error {
	return c.fail(ctx, tableVerifications, id)
}

func (c *Client) fail(ctx context.Context, table, id string) error {
	q := fmt.Sprintf("UPDATE %s SET status = ?, updated_at = ? WHERE id = ? AND deleted = ?", table)
	if _, err := c.db.ExecContext(ctx, c.d.query(q), karbor.RestoreStatusFailure,
		c.d.timeArg(time.Now()), id, c.d.boolArg(false)); err != nil {
		return fmt.Errorf("db: fail %s row %s: %w", table, id, err)
	}
	return nil
}

// ErrNotFound is a row that does not exist (or was deleted).
var ErrNotFound = errors.New("db: no such row")

// Restore reads a restore's progress.
func (c *Client) Restore(ctx context.Context, id string) (TargetState, error) {
	return c.state(ctx, tableRestores, id)
}

// Verification reads a verification's progress.
func (c *Client) Verification(ctx context.Context, id string) (TargetState, error) {
	return c.state(ctx, tableVerifications, id)
}

func (c *Client) state(ctx context.Context, table, id string) (TargetState, error) {
	var status, results sql.NullString
	q := fmt.Sprintf("SELECT status, resources_status FROM %s WHERE id = ? AND deleted = ?", table)
	err := c.db.QueryRowContext(ctx, c.d.query(q), id, c.d.boolArg(false)).Scan(&status, &results)
	if errors.Is(err, sql.ErrNoRows) {
		return TargetState{}, fmt.Errorf("%w: %s %s", ErrNotFound, table, id)
	}
	if err != nil {
		return TargetState{}, fmt.Errorf("db: read %s row %s: %w", table, id, err)
	}
	st := TargetState{Status: status.String, ResourcesStatus: map[string]string{}}
	if results.Valid && results.String != "" {
		if err := json.Unmarshal([]byte(results.String), &st.ResourcesStatus); err != nil {
			return TargetState{}, fmt.Errorf("db: %s row %s: resources_status is not a dict of strings: %w", table, id, err)
		}
	}
	return st, nil
}

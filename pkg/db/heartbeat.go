package db

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// ServiceInfo is what the services row says about this process.
type ServiceInfo struct {
	Host   string // [DEFAULT] host
	Binary string // "karbor-protection" when empty
	Topic  string // "karbor-protection" when empty
	// ReportInterval is [DEFAULT] report_interval (10 s in karbor). Zero
	// turns the heartbeat off, as in oslo: the row is created and never
	// updated, so the API shows the service down.
	ReportInterval time.Duration
	// EnableNewServices is [DEFAULT] enable_new_services (true in karbor):
	// a row this process creates has disabled = !EnableNewServices.
	EnableNewServices bool
}

const protectionBinary = "karbor-protection"

func (s ServiceInfo) withDefaults() ServiceInfo {
	if s.Binary == "" {
		s.Binary = protectionBinary
	}
	if s.Topic == "" {
		s.Topic = protectionBinary
	}
	return s
}

// heartbeat keeps the services row the karbor API reads to show the service
// up (karbor/service.py: start, report_state).
type heartbeat struct {
	db             *sql.DB
	d              *dialect
	info           ServiceInfo
	health         *health
	log            *logrus.Entry
	attemptTimeout time.Duration
	retryInterval  time.Duration

	mu sync.Mutex
	id int64 // the row in use; 0 until one is found or created
}

// run reports every ReportInterval until ctx ends, the first report one
// interval after the start, as oslo's looping call does. Stopping leaves the
// row as it is (oslo's Service.stop does not touch it; only kill(), which
// the service never calls, deletes it): the API shows the service down once
// updated_at is older than service_down_time.
func (h *heartbeat) run(ctx context.Context) {
	h.attempt(ctx, h.start)
	if h.info.ReportInterval <= 0 {
		for h.serviceID() == 0 && sleep(ctx, h.retryInterval) {
			h.attempt(ctx, h.start)
		}
		<-ctx.Done()
		return
	}
	tick := time.NewTicker(h.info.ReportInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			h.attempt(ctx, h.report)
		}
	}
}

func (h *heartbeat) attempt(ctx context.Context, step func(context.Context) error) {
	actx, cancel := context.WithTimeout(ctx, h.attemptTimeout)
	defer cancel()
	err := step(actx)
	switch {
	case err == nil:
		h.health.ok()
	case ctx.Err() != nil:
		// stopping
	default:
		h.health.failed(err)
		h.log.WithError(err).Debug("services heartbeat failed")
	}
}

func (h *heartbeat) serviceID() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.id
}

func (h *heartbeat) setServiceID(id int64) {
	h.mu.Lock()
	h.id = id
	h.mu.Unlock()
}

// start uses the live row of this host and binary, or creates one
// (service_get_by_args, then _create_service_ref). An existing row is used
// as it is: its report_count goes on counting and disabled is kept.
func (h *heartbeat) start(ctx context.Context) error {
	id, err := h.find(ctx)
	if err != nil {
		return err
	}
	if id == 0 {
		return h.create(ctx)
	}
	h.setServiceID(id)
	return nil
}

// find returns the id of the first live row of this host and binary, or 0.
// The rows are closed before anything else runs: SQLite has one connection.
func (h *heartbeat) find(ctx context.Context) (int64, error) {
	rows, err := h.db.QueryContext(ctx, h.d.query(
		`SELECT id, host FROM services WHERE host = ? AND {binary} = ? AND deleted = ? ORDER BY id`),
		h.info.Host, h.info.Binary, h.d.boolArg(false))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var host string
		if err := rows.Scan(&id, &host); err != nil {
			return 0, err
		}
		// MySQL compares case-insensitively; karbor checks the exact host.
		if host == h.info.Host {
			return id, nil
		}
	}
	return 0, rows.Err()
}

// create inserts a row as service_create does.
func (h *heartbeat) create(ctx context.Context) error {
	q := `INSERT INTO services (created_at, deleted, host, {binary}, topic, report_count, disabled)
		VALUES (?, ?, ?, ?, ?, 0, ?)`
	args := []any{h.d.timeArg(now()), h.d.boolArg(false), h.info.Host, h.info.Binary,
		h.info.Topic, h.d.boolArg(!h.info.EnableNewServices)}
	var id int64
	if h.d.name == PostgreSQL {
		if err := h.db.QueryRowContext(ctx, h.d.query(q+` RETURNING id`), args...).Scan(&id); err != nil {
			return err
		}
	} else {
		res, err := h.db.ExecContext(ctx, h.d.query(q), args...)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	h.setServiceID(id)
	h.log.WithField("service_id", id).Info("created the services row")
	return nil
}

// report is report_state: report_count + 1, which bumps updated_at. A row
// that disappeared (deleted or soft-deleted) is created anew and counted.
func (h *heartbeat) report(ctx context.Context) error {
	if h.serviceID() == 0 {
		if err := h.start(ctx); err != nil {
			return err
		}
	}
	n, err := h.bump(ctx)
	if err != nil || n > 0 {
		return err
	}
	h.log.WithField("service_id", h.serviceID()).Info("the services row disappeared, recreating it")
	if err := h.create(ctx); err != nil {
		return err
	}
	_, err = h.bump(ctx)
	return err
}

func (h *heartbeat) bump(ctx context.Context) (int64, error) {
	res, err := h.db.ExecContext(ctx, h.d.query(
		`UPDATE services SET report_count = report_count + 1, updated_at = ? WHERE id = ? AND deleted = ?`),
		h.d.timeArg(now()), h.serviceID(), h.d.boolArg(false))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

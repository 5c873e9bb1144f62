package db

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNoDatabase is what reading the database gives when no [database]
// connection is configured.
var ErrNoDatabase = errors.New("no [database] connection is configured")

// ServiceHeartbeat is one services row's last sign of life.
type ServiceHeartbeat struct {
	Host string
	// LastSeen is updated_at, or created_at for a row that never reported
	// (naive UTC in the database, as each writer's clock gave it).
	LastSeen time.Time
}

// Up is oslo's database servicegroup rule (karbor/utils.py
// service_is_up): the last heartbeat lies within downTime of now, either
// side (a writer whose clock runs ahead still counts as up).
func (h ServiceHeartbeat) Up(now time.Time, downTime time.Duration) bool {
	elapsed := now.Sub(h.LastSeen)
	return elapsed <= downTime && -elapsed <= downTime
}

// ServiceHeartbeats reads the services rows of binary that are not
// deleted: where each service instance of that kind reports, and when it
// last did. It reads the database at once (it is not a queued write), in
// one attempt bounded by pool_timeout: a caller that cannot know now has
// to act as if it did not know.
func (s *Store) ServiceHeartbeats(ctx context.Context, binary string) ([]ServiceHeartbeat, error) {
	if s.rec.w == nil {
		return nil, ErrNoDatabase
	}
	ctx, cancel := context.WithTimeout(ctx, s.rec.w.cfg.attemptTimeout)
	defer cancel()
	return s.readHeartbeats(ctx, binary)
}

func (s *Store) readHeartbeats(ctx context.Context, binary string) ([]ServiceHeartbeat, error) {
	d := s.rec.d
	rows, err := s.db.QueryContext(ctx, d.query(
		`SELECT host, created_at, updated_at FROM services WHERE {binary} = ? AND deleted = ? ORDER BY id`),
		binary, d.boolArg(false))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ServiceHeartbeat
	for rows.Next() {
		var host *string
		var created, updated any
		if err := rows.Scan(&host, &created, &updated); err != nil {
			return nil, err
		}
		if host == nil {
			continue
		}
		seen, err := parseDBTime(updated)
		if err == nil && seen.IsZero() {
			seen, err = parseDBTime(created)
		}
		if err != nil {
			return nil, fmt.Errorf("services row of host %s: %w", *host, err)
		}
		out = append(out, ServiceHeartbeat{Host: *host, LastSeen: seen})
	}
	return out, rows.Err()
}

// parseDBTime reads a naive UTC DateTime column as the drivers return it: a
// time.Time (PostgreSQL), or text (MySQL without parseTime, SQLite with
// SQLAlchemy's format). NULL is the zero time.
func parseDBTime(v any) (time.Time, error) {
	var s string
	switch v := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		return time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC), nil
	case []byte:
		s = string(v)
	case string:
		s = v
	default:
		return time.Time{}, fmt.Errorf("unexpected datetime value %T", v)
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable datetime %q", s)
}

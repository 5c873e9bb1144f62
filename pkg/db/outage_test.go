package db

import (
	"context"
	"fmt"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outage takes the test's database away from the store and returns the
// function that brings it back. MySQL and PostgreSQL: the database is
// dropped and the store's connections are killed; it comes back empty, with
// karbor's schema (as after a restore from an older dump). SQLite: another
// connection holds an exclusive lock, as a busy karbor API would.
func (tdb *testDB) outage(t *testing.T) (restore func()) {
	t.Helper()
	switch tdb.dialect {
	case MySQL:
		tdb.dropDatabase(t)
		rows, err := tdb.server.Query(`SELECT id FROM information_schema.processlist WHERE db = ?`, tdb.name)
		require.NoError(t, err)
		var ids []int64
		for rows.Next() {
			var id int64
			require.NoError(t, rows.Scan(&id))
			ids = append(ids, id)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		for _, id := range ids {
			// A connection may have ended by itself meanwhile.
			_, _ = tdb.server.Exec("KILL ?", id)
		}
		return func() { tdb.recreate(t) }
	case PostgreSQL:
		tdb.dropDatabase(t) // WITH (FORCE) terminates the connections
		return func() { tdb.recreate(t) }
	default:
		ctx := context.Background()
		conn, err := tdb.conn.Conn(ctx)
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, "BEGIN EXCLUSIVE")
		require.NoError(t, err)
		return func() {
			_, err := conn.ExecContext(ctx, "COMMIT")
			require.NoError(t, err)
			require.NoError(t, conn.Close())
		}
	}
}

// recreate brings the database back with karbor's tables in one step, so
// the store sees one outage: the tables are made in a scratch database and
// moved in (PostgreSQL renames the whole database; MySQL renames the tables
// into the re-created, empty one).
func (tdb *testDB) recreate(t *testing.T) {
	t.Helper()
	name := tdb.name
	scratch := name + "_new"
	tdb.name = scratch
	tdb.createDatabase(t)
	t.Cleanup(func() { tdb.name = scratch; tdb.dropDatabase(t); tdb.name = name })

	_ = tdb.conn.Close() // the old pool's connections were killed: closing may say so
	src, err := ParseURL(tdb.url)
	require.NoError(t, err)
	src.Database = scratch
	tdb.conn = mustOpen(t, src.render(false))
	tdb.applySchema(t)
	require.NoError(t, tdb.conn.Close())
	tdb.name = name

	switch tdb.dialect {
	case PostgreSQL:
		_, err = tdb.server.Exec("ALTER DATABASE " + scratch + " RENAME TO " + name)
		require.NoError(t, err)
	case MySQL:
		tdb.createDatabase(t)
		var renames []string
		for _, stmt := range schemaStatements(t, MySQL) {
			if f := strings.Fields(stmt); f[0] == "CREATE" && f[1] == "TABLE" {
				renames = append(renames, fmt.Sprintf("%s.%s TO %s.%s", scratch, f[2], name, f[2]))
			}
		}
		_, err = tdb.server.Exec("RENAME TABLE " + strings.Join(renames, ", "))
		require.NoError(t, err)
	}
	tdb.conn = mustOpen(t, tdb.url)
}

// A database that goes away and comes back: the heartbeat and the queued
// writes carry on once it is back, nothing is lost within the retry budget,
// and the outage is logged once.
func TestDatabaseGoesAwayAndComesBack(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		cfg := tdb.testConfig()
		if tdb.dialect == SQLite {
			// Give up on the lock quickly (pysqlite's timeout option).
			cfg.Connection += "?timeout=0.05"
		}
		s, hook := startStore(t, cfg)
		waitFor(t, "the first report", func() bool {
			rows := tdb.liveServices(t)
			return len(rows) == 1 && reportCount(rows[0]) >= 1
		})
		before := reportCount(tdb.liveServices(t)[0])

		restore := tdb.outage(t)
		waitFor(t, "the store to notice", s.health.isDown)
		id, err := s.Recorder().OperationStarted(context.Background(), karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect, Status: "protecting"})
		require.NoError(t, err, "recording during an outage queues the write")
		require.NoError(t, s.Recorder().OperationEnded(context.Background(), id, "available"))
		restore()

		waitFor(t, "the heartbeat to resume", func() bool {
			rows := tdb.liveServices(t)
			if len(rows) != 1 {
				return false
			}
			if tdb.dialect == SQLite {
				return reportCount(rows[0]) > before
			}
			return reportCount(rows[0]) >= 1 // a new row in the re-created database
		})
		flush(t, s)
		op := tdb.row(t, "operation_logs", "id = ?", id)
		assert.Equal(t, "available", op["status"])
		tdb.assertTime(t, "ended_at", op["ended_at"])
		assert.False(t, s.health.isDown())

		var wentAway, recovered int
		for _, e := range hook.AllEntries() {
			switch e.Message {
			case "karbor database unreachable; retrying":
				wentAway++
			case "karbor database connection recovered":
				recovered++
			}
		}
		assert.Equal(t, 1, wentAway, "the outage is logged once")
		assert.Equal(t, 1, recovered)
	})
}

// A database that is down when the service starts delays the services row,
// and nothing else.
func TestDatabaseDownAtStart(t *testing.T) {
	tdb := newTestDB(t, SQLite)
	ctx := context.Background()
	conn, err := tdb.conn.Conn(ctx)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "BEGIN EXCLUSIVE")
	require.NoError(t, err)

	cfg := tdb.testConfig()
	cfg.Connection += "?timeout=0.02"
	s, _ := startStore(t, cfg)
	waitFor(t, "the store to notice", s.health.isDown)
	_, err = conn.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	require.NoError(t, conn.Close())
	waitFor(t, "the services row", func() bool {
		rows := tdb.liveServices(t)
		return len(rows) == 1 && reportCount(rows[0]) >= 1
	})
}

package db

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// TestSQLiteSchemaOnFirstRun: a new SQLite file gets karbor's tables and
// the migrate_version row karbor-manage writes, so the first run already
// records the heartbeat and operation logs; a second start leaves the
// file as it is, and so does every start on a file someone else filled.
func TestSQLiteSchemaOnFirstRun(t *testing.T) {
	tests := []struct {
		name       string
		before     []string // statements run on the file before Open
		wantKarbor bool     // karbor's tables exist after Open
	}{
		{"new file", nil, true},
		{"someone else's file", []string{"CREATE TABLE other (id INTEGER)"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tdb := &testDB{dialect: SQLite, d: newDialect(SQLite)}
			tdb.path = filepath.Join(t.TempDir(), "karbor.sqlite")
			tdb.url = "sqlite:///" + tdb.path
			tdb.conn = mustOpen(t, tdb.url)
			for _, s := range tc.before {
				tdb.exec(t, s)
			}
			for run := range 2 { // the second start finds the tables made by the first
				s, hook := openStore(t, tdb.testConfig())
				created := 0
				for _, e := range hook.AllEntries() {
					if e.Message == "The SQLite database was empty: created karbor's tables in it" {
						created++
					}
				}
				assert.Equal(t, tc.wantKarbor && run == 0, created == 1, "run %d", run)
				require.NoError(t, s.Ping(context.Background()))
				require.NoError(t, s.Close())
			}
			var tables []string
			rows, err := tdb.conn.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
			require.NoError(t, err)
			for rows.Next() {
				var n string
				require.NoError(t, rows.Scan(&n))
				tables = append(tables, n)
			}
			require.NoError(t, rows.Err())
			if !tc.wantKarbor {
				assert.Equal(t, []string{"other"}, tables)
				return
			}
			assert.Subset(t, tables, []string{"services", "operation_logs", "restores", "verifications", "migrate_version"})
			var repo string
			var version int
			require.NoError(t, tdb.conn.QueryRow("SELECT repository_id, version FROM migrate_version").Scan(&repo, &version))
			assert.Equal(t, "karbor", repo)
			assert.Equal(t, 3, version)

			s, _ := startStore(t, tdb.testConfig())
			ctx := context.Background()
			id, err := s.Recorder().OperationStarted(ctx, karbor.OperationLog{ProjectID: "p", Type: karbor.OperationProtect, Status: "protecting"})
			require.NoError(t, err)
			flush(t, s)
			assert.Equal(t, "protecting", tdb.row(t, "operation_logs", "id = ?", id)["status"])
			waitFor(t, "the heartbeat row", func() bool { return len(tdb.liveServices(t)) == 1 })
		})
	}
}

func TestPingWithoutDatabase(t *testing.T) {
	s, _ := openStore(t, Config{})
	assert.NoError(t, s.Ping(context.Background()), "no database: nothing to be unreachable")
}

// TestSQLiteSchemaLockedFile: a SQLite file another process holds locked
// at start is an outage, not a failure to start: Open logs that the tables
// could not be checked and goes on.
func TestSQLiteSchemaLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "karbor.sqlite")
	holder := mustOpen(t, "sqlite:///"+path)
	ctx := context.Background()
	conn, err := holder.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "BEGIN EXCLUSIVE")
	require.NoError(t, err)

	cfg := (&testDB{url: "sqlite:///" + path + "?timeout=0.02"}).testConfig()
	s, hook := openStore(t, cfg)
	require.NoError(t, s.Close())
	var logged bool
	for _, e := range hook.AllEntries() {
		logged = logged || e.Message == "Could not give the empty SQLite database karbor's tables; writes fail until karbor-manage db sync (or a restart) creates them"
	}
	assert.True(t, logged)
	_, err = conn.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
}

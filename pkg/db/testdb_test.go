package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"github.com/gokarbor/karbor-protection/providers"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	dbschema "github.com/gokarbor/karbor-protection/pkg/db/schema"
)

// The servers the integration tests use; each test gets a database of its
// own, created with karbor's schema and dropped afterwards.
const (
	defaultMySQLURL      = "mysql+pymysql://root@127.0.0.1:3306/"
	defaultPostgreSQLURL = "postgresql://postgres@127.0.0.1:5432/postgres"
)

var engines = []Dialect{SQLite, MySQL, PostgreSQL}

// testDB is one test's database.
type testDB struct {
	dialect Dialect
	d       *dialect
	url     string  // what a Store opens
	conn    *sql.DB // for the test's own reads and writes
	name    string  // database name (MySQL, PostgreSQL)
	server  *sql.DB // server-wide connection (MySQL, PostgreSQL)
	path    string  // database file (SQLite)
}

// forEachEngine runs fn once per engine, in parallel subtests.
func forEachEngine(t *testing.T, fn func(t *testing.T, tdb *testDB)) {
	t.Helper()
	for _, d := range engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, newTestDB(t, d))
		})
	}
}

// unavailable skips the test, or fails it under CI, where every server must
// be there.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: integration servers are required; see scripts/ensure-databases.sh)", msg)
	}
	t.Skip(msg)
}

func newTestDB(t *testing.T, d Dialect) *testDB {
	t.Helper()
	tdb := &testDB{dialect: d, d: newDialect(d)}
	switch d {
	case SQLite:
		tdb.path = filepath.Join(t.TempDir(), "karbor.sqlite")
		tdb.url = "sqlite:///" + tdb.path
		tdb.conn = mustOpen(t, tdb.url)
	case MySQL, PostgreSQL:
		tdb.createServerDB(t)
	}
	tdb.applySchema(t)
	return tdb
}

func serverURL(d Dialect) string {
	env, def := "KARBOR_TEST_MYSQL_URL", defaultMySQLURL
	if d == PostgreSQL {
		env, def = "KARBOR_TEST_POSTGRESQL_URL", defaultPostgreSQLURL
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return def
}

func (tdb *testDB) createServerDB(t *testing.T) {
	t.Helper()
	admin := serverURL(tdb.dialect)
	tdb.server = mustOpen(t, admin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tdb.server.PingContext(ctx); err != nil {
		unavailable(t, "%s server %s unreachable: %v", tdb.dialect, redactRaw(admin), err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	tdb.name = "karbor_test_" + hex.EncodeToString(b)
	tdb.createDatabase(t)
	t.Cleanup(func() { tdb.dropDatabase(t) })

	src, err := ParseURL(admin)
	require.NoError(t, err)
	src.Database = tdb.name
	tdb.url = src.render(false)
	tdb.conn = mustOpen(t, tdb.url)
}

func (tdb *testDB) createDatabase(t *testing.T) {
	t.Helper()
	q := "CREATE DATABASE " + tdb.name
	if tdb.dialect == MySQL {
		q += " CHARACTER SET utf8" // as karbor's migration 001 leaves it
	}
	_, err := tdb.server.Exec(q)
	require.NoError(t, err)
}

func (tdb *testDB) dropDatabase(t *testing.T) {
	t.Helper()
	q := "DROP DATABASE IF EXISTS " + tdb.name
	if tdb.dialect == PostgreSQL {
		q += " WITH (FORCE)"
	}
	_, err := tdb.server.Exec(q)
	require.NoError(t, err)
}

// applySchema creates karbor's tables with the engine's schema file.
func (tdb *testDB) applySchema(t *testing.T) {
	t.Helper()
	for _, stmt := range schemaStatements(t, tdb.dialect) {
		_, err := tdb.conn.Exec(stmt)
		require.NoError(t, err, stmt)
	}
}

func schemaStatements(t *testing.T, d Dialect) []string {
	t.Helper()
	stmts, err := dbschema.Statements(string(d))
	require.NoError(t, err)
	return stmts
}

func mustOpen(t *testing.T, url string) *sql.DB {
	t.Helper()
	src, err := ParseURL(url)
	require.NoError(t, err)
	db, err := openSQL(src, DefaultOptions(), logrus.NewEntry(logrus.New()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// testConfig is a Store configuration with short intervals, so tests wait
// milliseconds for what takes seconds in production.
func (tdb *testDB) testConfig() Config {
	opts := DefaultOptions()
	opts.PoolTimeout = 3 * time.Second
	opts.RetryInterval = 50 * time.Millisecond
	opts.MaxRetries = -1
	return Config{
		Connection: tdb.url,
		Options:    opts,
		Service: ServiceInfo{
			Host:              "protection-host",
			ReportInterval:    100 * time.Millisecond,
			EnableNewServices: true,
		},
		EnqueueTimeout: time.Second,
	}
}

// startStore opens a Store and runs it until the test ends.
func startStore(t *testing.T, cfg Config) (*Store, *logtest.Hook) {
	t.Helper()
	s, hook := openStore(t, cfg)
	runStore(t, s)
	return s, hook
}

func openStore(t *testing.T, cfg Config) (*Store, *logtest.Hook) {
	t.Helper()
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	s, err := Open(cfg, logrus.NewEntry(logger))
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			for _, e := range hook.AllEntries() {
				msg, _ := e.String()
				t.Log(strings.TrimSpace(msg))
			}
		}
	})
	return s, hook
}

// runStore runs s in the background; the returned stop cancels Run, waits
// for it and closes s. It also runs when the test ends.
func runStore(t *testing.T, s *Store) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, s.Close())
	}
	t.Cleanup(stop)
	return stop
}

func flush(t *testing.T, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.Flush(ctx))
}

// row reads one row as a map, values normalised to what the fixture rows
// look like: strings for text and datetimes (SQLAlchemy's SQLite text form
// for a PostgreSQL timestamp), int64 for integers and booleans, nil for NULL.
func (tdb *testDB) row(t *testing.T, table, where string, args ...any) map[string]any {
	t.Helper()
	rows := tdb.rows(t, table, where, args...)
	require.Len(t, rows, 1, "rows of %s where %s %v", table, where, args)
	return rows[0]
}

func (tdb *testDB) rows(t *testing.T, table, where string, args ...any) []map[string]any {
	t.Helper()
	q := tdb.d.query(fmt.Sprintf("SELECT * FROM %s WHERE %s ORDER BY id", table, where))
	rs, err := tdb.conn.Query(q, args...)
	require.NoError(t, err)
	defer rs.Close()
	cols, err := rs.Columns()
	require.NoError(t, err)
	var out []map[string]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rs.Scan(ptrs...))
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = normalise(vals[i])
		}
		out = append(out, m)
	}
	require.NoError(t, rs.Err())
	return out
}

func normalise(v any) any {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case time.Time:
		return v.Format(sqliteTimeFormat)
	case bool:
		if v {
			return int64(1)
		}
		return int64(0)
	case int32:
		return int64(v)
	default:
		return v
	}
}

// exec runs a statement written with ? placeholders on the test database.
func (tdb *testDB) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	_, err := tdb.conn.Exec(tdb.d.query(q), args...)
	require.NoError(t, err, q)
}

// waitFor checks cond every 20 ms until it holds, failing the test after
// 15 s. Unlike require.Eventually, cond runs on the test's goroutine, so it
// may use require.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// never checks cond every 20 ms for d and fails the test if it ever holds.
// Like waitFor, cond runs on the test's goroutine.
func never(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	end := time.NewTimer(d)
	defer end.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			t.Fatalf("%s", what)
		}
		select {
		case <-end.C:
			return
		case <-tick.C:
		}
	}
}

// recorder is what the tests call on every recorder: the interface the
// operations record through, which Recorder (with or without a database)
// and Memory implement.
type recorder = providers.Recorder

var (
	_ recorder = (*Recorder)(nil)
	_ recorder = (*Memory)(nil)
)

// reason returns a pointer to s, for karbor.ResourceResult.Reason.
func reason(s string) *string { return &s }

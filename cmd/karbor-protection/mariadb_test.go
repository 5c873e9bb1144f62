package main_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/db"
	"github.com/gokarbor/karbor-protection/pkg/db/schema"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// The database end-to-end tests run the service against MariaDB: the
// shared test server (KARBOR_TEST_MYSQL_URL, a database of its own per
// test), or a private server a test may stop and start.

const defaultMySQLURL = "mysql+pymysql://root@127.0.0.1:3306/"

// mariaDB is where a MariaDB server listens and how to log in.
type mariaDB struct {
	user, password string
	addr           string // host:port
}

// sharedMariaDB is the test server of KARBOR_TEST_MYSQL_URL; the test is
// skipped (failed under CI=true) when it does not answer.
func sharedMariaDB(t testing.TB) mariaDB {
	t.Helper()
	raw := os.Getenv("KARBOR_TEST_MYSQL_URL")
	if raw == "" {
		raw = defaultMySQLURL
	}
	src, err := db.ParseURL(raw)
	require.NoError(t, err, "KARBOR_TEST_MYSQL_URL")
	host, port := src.Host, src.Port
	if host == "" {
		host = "127.0.0.1"
	}
	if port == 0 {
		port = 3306
	}
	m := mariaDB{user: src.Username, password: src.Password, addr: net.JoinHostPort(host, strconv.Itoa(port))}
	if err := m.ping(m.open(t, ""), 5*time.Second); err != nil {
		rpctest.Unavailable(t, "MariaDB %s unreachable: %v (scripts/ensure-databases.sh starts one)", m.addr, err)
	}
	return m
}

// url is the [database] connection the service gets: SQLAlchemy's URL with
// PyMySQL, as karbor's installation guide writes it.
func (m mariaDB) url(database string) string {
	u := url.URL{Scheme: "mysql+pymysql", User: url.User(m.user), Host: m.addr, Path: "/" + database}
	if m.password != "" {
		u.User = url.UserPassword(m.user, m.password)
	}
	return u.String()
}

// open is the test's own connection pool, closed when the test ends.
func (m mariaDB) open(t testing.TB, database string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = m.user, m.password, "tcp", m.addr, database
	cfg.Timeout = 5 * time.Second
	conn, err := mysql.NewConnector(cfg)
	require.NoError(t, err)
	pool := sql.OpenDB(conn)
	t.Cleanup(func() { _ = pool.Close() })
	return pool
}

func (m mariaDB) ping(pool *sql.DB, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return pool.PingContext(ctx)
}

// createDatabase makes a database of the test's own with karbor's tables,
// as karbor-manage db sync creates them, and drops it when the test ends.
// It returns the database's name and a pool on it.
func (m mariaDB) createDatabase(t testing.TB) (string, *sql.DB) {
	t.Helper()
	admin := m.open(t, "")
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "karbor_e2e_" + hex.EncodeToString(b)
	// utf8, as karbor's migration 001 leaves the database.
	_, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec("DROP DATABASE IF EXISTS " + name)
		require.NoError(t, err)
	})
	pool := m.open(t, name)
	applySchema(t, pool)
	return name, pool
}

// applySchema creates karbor's tables in the pool's database.
func applySchema(t testing.TB, pool *sql.DB) {
	t.Helper()
	for _, stmt := range schemaStatements(t) {
		_, err := pool.Exec(stmt)
		require.NoError(t, err, stmt)
	}
}

// schemaStatements are karbor's MySQL schema.
func schemaStatements(t testing.TB) []string {
	t.Helper()
	stmts, err := schema.Statements("mysql")
	require.NoError(t, err)
	return stmts
}

// privateMariaDB is a MariaDB server of the test's own, in a temporary data
// directory, which the test may kill and start again without disturbing
// anyone else's tests. Creating and starting one takes about a second.
type privateMariaDB struct {
	mariaDB
	t      testing.TB
	server string // mariadbd
	dir    string
	port   int
	cmd    *exec.Cmd
	done   chan struct{}
}

// newPrivateMariaDB initialises a data directory and starts the server on
// a free port of 127.0.0.1, root without a password. The server is killed
// when the test ends.
func newPrivateMariaDB(t testing.TB) *privateMariaDB {
	t.Helper()
	install := lookPath(t, "mariadb-install-db")
	p := &privateMariaDB{t: t, server: lookPath(t, "mariadbd"), dir: t.TempDir(), port: freePort(t)}
	p.mariaDB = mariaDB{user: "root", addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))}
	args := append([]string{"--no-defaults", "--datadir=" + p.dataDir(), "--auth-root-authentication-method=normal",
		"--skip-test-db", "--innodb-log-file-size=4M"}, runAs()...)
	out, err := exec.Command(install, args...).CombinedOutput()
	if err != nil {
		rpctest.Unavailable(t, "mariadb-install-db failed: %v\n%s", err, out)
	}
	p.start()
	return p
}

func (p *privateMariaDB) dataDir() string { return filepath.Join(p.dir, "data") }

// runAs is the --user option mariadbd needs to run as root (it refuses
// otherwise); any other user runs the server as itself.
func runAs() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

// start starts the server on its data directory and port and waits until
// it answers.
func (p *privateMariaDB) start() {
	t := p.t
	t.Helper()
	args := append([]string{"--no-defaults", "--datadir=" + p.dataDir(), "--port=" + strconv.Itoa(p.port),
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(p.dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(p.dir, "mysqld.pid"), "--log-error=" + p.errorLog(),
		"--skip-name-resolve", "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=4M"}, runAs()...)
	p.cmd = exec.Command(p.server, args...)
	p.done = make(chan struct{})
	require.NoError(t, p.cmd.Start())
	cmd, done := p.cmd, p.done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	// Registered after TempDir, so it runs before the directory is removed.
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	pool := p.open(t, "")
	deadline := time.Now().Add(30 * time.Second)
	for p.ping(pool, time.Second) != nil {
		select {
		case <-p.done:
			t.Fatalf("mariadbd exited at start:\n%s", p.tail())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd did not answer within 30 s:\n%s", p.tail())
		}
	}
	require.NoError(t, pool.Close())
}

// kill kills the server (SIGKILL: a crash, or a host that went away) and
// waits for it to be gone.
func (p *privateMariaDB) kill() {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
}

func (p *privateMariaDB) errorLog() string { return filepath.Join(p.dir, "error.log") }

func (p *privateMariaDB) tail() string {
	b, _ := os.ReadFile(p.errorLog())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func lookPath(t testing.TB, prog string) string {
	t.Helper()
	if p, err := exec.LookPath(prog); err == nil {
		return p
	}
	// /usr/sbin is not on every user's PATH.
	if p := filepath.Join("/usr/sbin", prog); fileExists(p) {
		return p
	}
	rpctest.Unavailable(t, "%s not found: a private MariaDB server needs mariadb-server installed", prog)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// freePort is a TCP port of 127.0.0.1 nobody listens on now, below the
// kernel's ephemeral range: while the server is down the service keeps
// dialling the port, and a dial from an ephemeral port can land on that
// very port (a TCP self-connect) and keep the server from binding it again.
func freePort(t testing.TB) int {
	t.Helper()
	low := 32768 // Linux's default ip_local_port_range starts here
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	require.Greater(t, low, 11000, "ip_local_port_range leaves no room below it")
	for range 100 {
		port := 10000 + mrand.IntN(low-10000)
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			require.NoError(t, l.Close())
			return port
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}

// tableRows reads rows of a table, each as a map of column to value: nil
// for NULL, int64 for integers and booleans, string for the rest
// (DATETIME as "2006-01-02 15:04:05").
func tableRows(t testing.TB, pool *sql.DB, table, where string, args ...any) []map[string]any {
	t.Helper()
	rs, err := pool.Query(fmt.Sprintf("SELECT * FROM %s WHERE %s", table, where), args...)
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
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			row[c] = vals[i]
		}
		out = append(out, row)
	}
	require.NoError(t, rs.Err())
	return out
}

package db

import (
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"fmt"
	"math"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/sirupsen/logrus"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Options are the [database] pool and retry options, named and defaulted as
// oslo.db names and defaults them. The config loader fills them; use
// DefaultOptions for what an empty [database] section means.
type Options struct {
	// MaxPoolSize (max_pool_size, 5) is the number of idle connections kept
	// open; 0 means no limit.
	MaxPoolSize int
	// MaxOverflow (max_overflow, 50) is how many more connections may be open
	// at once beyond MaxPoolSize; -1 means no limit.
	MaxOverflow int
	// PoolTimeout (pool_timeout; SQLAlchemy's 30 s when unset) bounds one
	// attempt at a write: waiting for a connection and running the statements.
	PoolTimeout time.Duration
	// ConnectionRecycleTime (connection_recycle_time, formerly idle_timeout,
	// 3600 s) is the age after which a connection is replaced.
	ConnectionRecycleTime time.Duration
	// MaxRetries (max_retries, 10) is how often a failed write is retried
	// before it is dropped and logged; -1 retries for ever. oslo.db uses it
	// for the first connection only; here every write gets that budget, so a
	// database that goes away for less than MaxRetries×RetryInterval loses
	// nothing.
	MaxRetries int
	// RetryInterval (retry_interval, 10 s) is the wait between retries, and
	// between attempts to reach the database for the heartbeat.
	RetryInterval time.Duration
	// MySQLSQLMode (mysql_sql_mode, "TRADITIONAL") is set on every MySQL
	// session. Empty sets the empty mode, as oslo.db does with an empty
	// mysql_sql_mode (its help text promises the server's mode instead).
	MySQLSQLMode string
	// ConnectionParameters (connection_parameters) is appended to the URL's
	// query, "a=1&b=2".
	ConnectionParameters string
}

// DefaultOptions returns oslo.db's defaults.
func DefaultOptions() Options {
	return Options{
		MaxPoolSize:           5,
		MaxOverflow:           50,
		PoolTimeout:           30 * time.Second,
		ConnectionRecycleTime: time.Hour,
		MaxRetries:            10,
		RetryInterval:         10 * time.Second,
		MySQLSQLMode:          "TRADITIONAL",
	}
}

func (o Options) validate() error {
	switch {
	case o.MaxPoolSize < 0:
		return fmt.Errorf("max_pool_size %d is negative", o.MaxPoolSize)
	case o.MaxOverflow < -1:
		return fmt.Errorf("max_overflow %d is below -1", o.MaxOverflow)
	case o.PoolTimeout <= 0:
		return fmt.Errorf("pool_timeout %v is not positive", o.PoolTimeout)
	case o.ConnectionRecycleTime < 0:
		return fmt.Errorf("connection_recycle_time %v is negative", o.ConnectionRecycleTime)
	case o.MaxRetries < -1:
		return fmt.Errorf("max_retries %d is below -1", o.MaxRetries)
	case o.RetryInterval < 0:
		return fmt.Errorf("retry_interval %v is negative", o.RetryInterval)
	case !sqlModePattern.MatchString(o.MySQLSQLMode):
		return fmt.Errorf("mysql_sql_mode %q is not a comma-separated list of mode names", o.MySQLSQLMode)
	}
	return nil
}

var sqlModePattern = regexp.MustCompile(`^[A-Za-z0-9_,]*$`)

// Query options each engine's Go driver understands; any other option is
// reported as ignored (Python drivers accept many that mean nothing here,
// such as check_same_thread or oslo.db's plugin).
var usedParams = map[Dialect][]string{
	MySQL: {"charset", "unix_socket", "connect_timeout", "read_timeout", "write_timeout",
		"ssl_ca", "ssl_cert", "ssl_key"},
	PostgreSQL: {"host", "port", "dbname", "user", "password", "passfile", "connect_timeout",
		"sslmode", "sslkey", "sslcert", "sslrootcert", "sslpassword", "sslsni",
		"krbsrvname", "krbspn", "target_session_attrs", "service", "servicefile",
		"application_name", "client_encoding", "options"},
	SQLite: {"timeout"},
}

// Ignored lists the query options (and, for SQLite, a host) that the Go
// drivers have no use for. Open logs them once.
func (s *Source) Ignored() []string {
	var out []string
	for _, p := range s.Query {
		used := false
		for _, name := range usedParams[s.Dialect] {
			used = used || p.Name == name
		}
		if !used {
			out = append(out, p.Name)
		}
	}
	if s.Dialect == SQLite && (s.Host != "" || s.Port != 0 || s.Username != "" || s.HasPassword) {
		out = append(out, "host, port and credentials (SQLite has none)")
	}
	return out
}

// openSQL returns a pool for src configured from opts. Nothing is dialled
// yet: a database that is down at start only delays the first writes.
func openSQL(src *Source, opts Options, log *logrus.Entry) (*sql.DB, error) {
	var db *sql.DB
	switch src.Dialect {
	case MySQL:
		cfg, err := mysqlConfig(src, opts, log)
		if err != nil {
			return nil, err
		}
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
		}
		db = sql.OpenDB(conn)
	case PostgreSQL:
		cfg, err := pgxConfig(src)
		if err != nil {
			return nil, err
		}
		db = stdlib.OpenDB(*cfg)
	case SQLite:
		dsn, err := sqliteDSN(src)
		if err != nil {
			return nil, err
		}
		db, err = sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
		}
	default:
		return nil, fmt.Errorf("%w: unsupported dialect %q", ErrBadURL, src.Dialect)
	}
	setPool(db, src.Dialect, opts)
	return db, nil
}

// setPool maps SQLAlchemy's QueuePool sizes onto database/sql: pool_size
// idle connections plus max_overflow more at once.
func setPool(db *sql.DB, d Dialect, opts Options) {
	db.SetConnMaxLifetime(opts.ConnectionRecycleTime)
	if d == SQLite {
		// One connection: writes to one file are serialised by SQLite anyway,
		// and an in-memory database lives only as long as its connection.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		return
	}
	maxOpen := 0
	if opts.MaxPoolSize > 0 && opts.MaxOverflow >= 0 {
		maxOpen = opts.MaxPoolSize + opts.MaxOverflow
	}
	db.SetMaxOpenConns(maxOpen)
	if opts.MaxPoolSize == 0 {
		db.SetMaxIdleConns(math.MaxInt32)
	} else {
		db.SetMaxIdleConns(opts.MaxPoolSize)
	}
}

// debianMySQLSocket is where libmysqlclient (MySQLdb) looks on Debian.
const debianMySQLSocket = "/run/mysqld/mysqld.sock"

func mysqlConfig(src *Source, opts Options, log *logrus.Entry) (*mysql.Config, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = src.Username, src.Password, src.Database
	cfg.Loc = time.UTC
	cfg.Timeout = 10 * time.Second // PyMySQL's connect_timeout
	cfg.Logger = mysqlLogger{log}
	net, addr, err := mysqlAddr(src)
	if err != nil {
		return nil, err
	}
	cfg.Net, cfg.Addr = net, addr
	charset, ok, err := src.Param("charset")
	if err != nil {
		return nil, err
	}
	if !ok {
		charset = "utf8" // oslo.db's default, the charset karbor's tables use
	}
	if err := cfg.Apply(mysql.Charset(charset, "")); err != nil {
		return nil, fmt.Errorf("%w: charset: %w", ErrBadURL, err)
	}
	for name, dst := range map[string]*time.Duration{
		"connect_timeout": &cfg.Timeout, "read_timeout": &cfg.ReadTimeout, "write_timeout": &cfg.WriteTimeout,
	} {
		if err := secondsParam(src, name, dst); err != nil {
			return nil, err
		}
	}
	if cfg.TLS, err = mysqlTLS(src, cfg.Addr); err != nil {
		return nil, err
	}
	cfg.Params = map[string]string{"sql_mode": "'" + opts.MySQLSQLMode + "'"}
	return cfg, nil
}

// mysqlAddr picks where to connect. PyMySQL always uses TCP unless
// unix_socket is given; MySQLdb (the driver of a bare mysql:// URL) uses the
// local socket for "localhost", as libmysqlclient does.
func mysqlAddr(src *Source) (network, addr string, err error) {
	socket, ok, err := src.Param("unix_socket")
	if err != nil || ok {
		return "unix", socket, err
	}
	host := src.Host
	if host == "" {
		host = "localhost"
	}
	if (src.Driver == "" || src.Driver == "mysqldb") && host == "localhost" {
		return "unix", debianMySQLSocket, nil
	}
	port := src.Port
	if port == 0 {
		port = 3306
	}
	return "tcp", net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// mysqlTLS builds the TLS configuration PyMySQL builds from ssl_ca, ssl_cert
// and ssl_key; nil when none is given.
func mysqlTLS(src *Source, addr string) (*tls.Config, error) {
	ca, hasCA, err := src.Param("ssl_ca")
	if err != nil {
		return nil, err
	}
	cert, hasCert, err := src.Param("ssl_cert")
	if err != nil {
		return nil, err
	}
	key, hasKey, err := src.Param("ssl_key")
	if err != nil {
		return nil, err
	}
	if !hasCA && !hasCert && !hasKey {
		return nil, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = src.Host
	}
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if hasCA {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("%w: ssl_ca: %w", ErrBadURL, err)
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ssl_ca %s holds no PEM certificate", ErrBadURL, ca)
		}
	}
	if hasCert != hasKey {
		return nil, fmt.Errorf("%w: ssl_cert and ssl_key must be given together", ErrBadURL)
	}
	if hasCert {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%w: ssl_cert/ssl_key: %w", ErrBadURL, err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, nil
}

func secondsParam(src *Source, name string, dst *time.Duration) error {
	v, ok, err := src.Param(name)
	if err != nil || !ok {
		return err
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f > 1e6 {
		return fmt.Errorf("%w: %s %q is not a number of seconds", ErrBadURL, name, v)
	}
	*dst = time.Duration(f * float64(time.Second))
	return nil
}

// pgxConfig turns the URL into libpq keyword=value settings, which pgx reads
// as libpq and psycopg2 do (including PG* environment variables and
// ~/.pgpass for what the URL leaves out).
func pgxConfig(src *Source) (*pgx.ConnConfig, error) {
	var kv []string
	add := func(k, v string) { kv = append(kv, k+"="+libpqQuote(v)) }
	if src.Host != "" {
		add("host", src.Host)
	}
	if src.Port != 0 {
		add("port", strconv.Itoa(src.Port))
	}
	if src.Database != "" {
		add("dbname", src.Database)
	}
	if src.Username != "" {
		add("user", src.Username)
	}
	if src.HasPassword {
		add("password", src.Password)
	}
	for _, name := range usedParams[PostgreSQL] {
		v, ok, err := src.Param(name)
		if err != nil {
			return nil, err
		}
		if ok {
			add(name, v)
		}
	}
	cfg, err := pgx.ParseConfig(strings.Join(kv, " "))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	return cfg, nil
}

func libpqQuote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// sqliteDSN returns the modernc.org/sqlite name for the file. pysqlite waits
// 5 s for a lock by default (its timeout option); BEGIN IMMEDIATE takes the
// write lock up front so a read-then-write transaction cannot deadlock with
// another process, such as the karbor API, that writes the same file.
func sqliteDSN(src *Source) (string, error) {
	timeout := 5 * time.Second
	if err := secondsParam(src, "timeout", &timeout); err != nil {
		return "", err
	}
	path := src.Database
	switch {
	case path == "" || path == ":memory:":
		path = ":memory:"
	case strings.HasPrefix(path, "file:"):
		// A plain path, not a SQLite URI (pysqlite only reads URIs with uri=true).
		path = "./" + path
	}
	return fmt.Sprintf("%s?_busy_timeout=%d&_txlock=immediate", path, timeout.Milliseconds()), nil
}

// mysqlLogger sends the MySQL driver's messages ("closing bad idle
// connection") to our log at debug level; the writer reports what matters.
type mysqlLogger struct{ log *logrus.Entry }

func (l mysqlLogger) Print(v ...any) { l.log.Debug(append([]any{"mysql driver: "}, v...)...) }

package db

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		url  string
		want Source
	}{
		{"mysql+pymysql://karbor:secret@db.example.org:3307/karbor?charset=utf8", Source{
			Dialect: MySQL, Backend: "mysql", Driver: "pymysql", Username: "karbor", Password: "secret", HasPassword: true,
			Host: "db.example.org", Port: 3307, Database: "karbor", Query: []QueryParam{{"charset", "utf8"}}}},
		{"mysql://root@127.0.0.1/karbor", Source{
			Dialect: MySQL, Backend: "mysql", Username: "root", Host: "127.0.0.1", Database: "karbor"}},
		{"mariadb+pymysql://u:@[::1]:3306/k", Source{
			Dialect: MySQL, Backend: "mariadb", Driver: "pymysql", Username: "u", HasPassword: true, Host: "::1", Port: 3306, Database: "k"}},
		{"MySQL+PyMySQL://u:p%40ss%3Aw%2Fd@h/db", Source{
			Dialect: MySQL, Backend: "mysql", Driver: "pymysql", Username: "u", Password: "p@ss:w/d", HasPassword: true, Host: "h", Database: "db"}},
		{"postgresql://karbor:pw@pg:5432/karbor?sslmode=require&application_name=karbor+protection", Source{
			Dialect: PostgreSQL, Backend: "postgresql", Username: "karbor", Password: "pw", HasPassword: true, Host: "pg", Port: 5432,
			Database: "karbor", Query: []QueryParam{{"sslmode", "require"}, {"application_name", "karbor protection"}}}},
		{"postgresql+psycopg2://karbor@/karbor?host=/var/run/postgresql", Source{
			Dialect: PostgreSQL, Backend: "postgresql", Driver: "psycopg2", Username: "karbor", Database: "karbor",
			Query: []QueryParam{{"host", "/var/run/postgresql"}}}},
		{"sqlite:///karbor.sqlite", Source{Dialect: SQLite, Backend: "sqlite", Database: "karbor.sqlite"}},
		{"sqlite:////var/lib/karbor/karbor.sqlite", Source{Dialect: SQLite, Backend: "sqlite", Database: "/var/lib/karbor/karbor.sqlite"}},
		{"sqlite:////tmp/a@b.db", Source{Dialect: SQLite, Backend: "sqlite", Database: "/tmp/a@b.db"}},
		{"sqlite://", Source{Dialect: SQLite, Backend: "sqlite"}},
		{"sqlite+pysqlite:///:memory:?timeout=2.5", Source{Dialect: SQLite, Backend: "sqlite", Driver: "pysqlite",
			Database: ":memory:", Query: []QueryParam{{"timeout", "2.5"}}}},
		// parse_qsl drops fields without "=" or with a blank value; bad
		// escapes stay; "+" is a space.
		{"mysql+pymysql://h/d?flag&empty=&charset=utf8&x=%zz+1&x=2", Source{
			Dialect: MySQL, Backend: "mysql", Driver: "pymysql", Host: "h", Database: "d",
			Query: []QueryParam{{"charset", "utf8"}, {"x", "%zz 1"}, {"x", "2"}}}},
		// The database part is not %-decoded, as in SQLAlchemy.
		{"mysql+pymysql://h/kar%62or", Source{Dialect: MySQL, Backend: "mysql", Driver: "pymysql", Host: "h", Database: "kar%62or"}},
		{"mysql+pymysql://h:/d", Source{Dialect: MySQL, Backend: "mysql", Driver: "pymysql", Host: "h", Database: "d"}},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			got, err := ParseURL(tc.url)
			require.NoError(t, err)
			assert.Equal(t, tc.want, *got)
			again, err := ParseURL(got.render(false))
			require.NoError(t, err)
			assert.Equal(t, got, again, "rendering and parsing again gives the same source")
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	cases := []struct{ url, want string }{
		{"", "does not have the form"},
		{"karbor.sqlite", "does not have the form"},
		{"oracle://u:p@h/d", `unsupported database "oracle"`},
		{"postgres://u@h/d", `unsupported database "postgres"`},
		{"mysql+mysqlx://u@h/d", `unknown mysql driver "mysqlx"`},
		{"mysql://u@h:port/d", `port "port" is not a number`},
		{"mysql://u@h:0/d", `port "0"`},
		{"mysql://u@h:70000/d", `port "70000"`},
		{"mysql://u:p@h/d\n", "control character"},
		{"mysql://u:p@h/d\x00", "control character"},
		{"mysql://u:p@h/\xff", "not valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			_, err := ParseURL(tc.url)
			require.ErrorIs(t, err, ErrBadURL)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestURLNeverShowsPassword(t *testing.T) {
	src, err := ParseURL("mysql+pymysql://karbor:s3cr%2Fet@db/karbor")
	require.NoError(t, err)
	assert.Equal(t, "mysql+pymysql://karbor:***@db/karbor", src.String())
	_, err = ParseURL("oracle://karbor:s3cret@db/karbor")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
	_, err = ParseURL("mysql://karbor:s3cret@db:port/karbor")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestParamRepeated(t *testing.T) {
	src, err := ParseURL("mysql+pymysql://h/d?charset=utf8&charset=latin1")
	require.NoError(t, err)
	_, err = mysqlConfig(src, DefaultOptions(), logrus.NewEntry(logrus.New()))
	require.ErrorIs(t, err, ErrBadURL)
	assert.Contains(t, err.Error(), `option "charset" is given more than once`)
}

func TestMySQLConfig(t *testing.T) {
	log := logrus.NewEntry(logrus.New())
	cases := []struct {
		url, net, addr, db, user, pass string
		timeout, read                  time.Duration
	}{
		{"mysql+pymysql://karbor:pw@db:3307/karbor", "tcp", "db:3307", "karbor", "karbor", "pw", 10 * time.Second, 0},
		{"mysql+pymysql://root@/karbor", "tcp", "localhost:3306", "karbor", "root", "", 10 * time.Second, 0},
		{"mysql+pymysql://root@[::1]/karbor", "tcp", "[::1]:3306", "karbor", "root", "", 10 * time.Second, 0},
		// MySQLdb, the driver of a bare mysql:// URL, uses the socket for localhost.
		{"mysql://root@localhost/karbor", "unix", debianMySQLSocket, "karbor", "root", "", 10 * time.Second, 0},
		{"mysql+mysqldb://root@/karbor", "unix", debianMySQLSocket, "karbor", "root", "", 10 * time.Second, 0},
		{"mysql+pymysql://root@/karbor?unix_socket=/tmp/my.sock&connect_timeout=2&read_timeout=1.5",
			"unix", "/tmp/my.sock", "karbor", "root", "", 2 * time.Second, 1500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			src, err := ParseURL(tc.url)
			require.NoError(t, err)
			cfg, err := mysqlConfig(src, DefaultOptions(), log)
			require.NoError(t, err)
			assert.Equal(t, tc.net, cfg.Net)
			assert.Equal(t, tc.addr, cfg.Addr)
			assert.Equal(t, tc.db, cfg.DBName)
			assert.Equal(t, tc.user, cfg.User)
			assert.Equal(t, tc.pass, cfg.Passwd)
			assert.Equal(t, tc.timeout, cfg.Timeout)
			assert.Equal(t, tc.read, cfg.ReadTimeout)
			assert.Equal(t, time.UTC, cfg.Loc)
			assert.Equal(t, map[string]string{"sql_mode": "'TRADITIONAL'"}, cfg.Params)
			assert.Contains(t, cfg.FormatDSN(), "charset=utf8")
		})
	}

	t.Run("bad values", func(t *testing.T) {
		for _, u := range []string{
			"mysql+pymysql://h/d?connect_timeout=soon",
			"mysql+pymysql://h/d?read_timeout=-1",
			"mysql+pymysql://h/d?ssl_ca=/nonexistent/ca.pem",
			"mysql+pymysql://h/d?ssl_cert=/nonexistent/cert.pem",
		} {
			src, err := ParseURL(u)
			require.NoError(t, err)
			_, err = mysqlConfig(src, DefaultOptions(), log)
			assert.ErrorIs(t, err, ErrBadURL, u)
		}
	})

	t.Run("empty sql mode clears the mode, as in oslo.db", func(t *testing.T) {
		src, err := ParseURL("mysql+pymysql://h/d?charset=utf8mb4")
		require.NoError(t, err)
		opts := DefaultOptions()
		opts.MySQLSQLMode = ""
		cfg, err := mysqlConfig(src, opts, log)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"sql_mode": "''"}, cfg.Params)
		assert.Contains(t, cfg.FormatDSN(), "charset=utf8mb4")
	})

	t.Run("tls", func(t *testing.T) {
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, []byte("not a certificate"), 0o600))
		src, err := ParseURL("mysql+pymysql://h/d?ssl_ca=" + ca)
		require.NoError(t, err)
		_, err = mysqlConfig(src, DefaultOptions(), log)
		require.ErrorIs(t, err, ErrBadURL)
		assert.Contains(t, err.Error(), "holds no PEM certificate")
	})
}

func TestPgxConfig(t *testing.T) {
	src, err := ParseURL("postgresql+psycopg2://karbor:p%27w%5Cd@pg.example.org:5433/karbor?sslmode=disable&application_name=karbor&connect_timeout=3&plugin=dbcounter")
	require.NoError(t, err)
	cfg, err := pgxConfig(src)
	require.NoError(t, err)
	assert.Equal(t, "pg.example.org", cfg.Host)
	assert.Equal(t, uint16(5433), cfg.Port)
	assert.Equal(t, "karbor", cfg.Database)
	assert.Equal(t, "karbor", cfg.User)
	assert.Equal(t, `p'w\d`, cfg.Password)
	assert.Nil(t, cfg.TLSConfig)
	assert.Equal(t, 3*time.Second, cfg.ConnectTimeout)
	assert.Equal(t, map[string]string{"application_name": "karbor"}, cfg.RuntimeParams)
	assert.Equal(t, []string{"plugin"}, src.Ignored())

	src, err = ParseURL("postgresql://karbor@/karbor?host=/var/run/postgresql")
	require.NoError(t, err)
	cfg, err = pgxConfig(src)
	require.NoError(t, err)
	assert.Equal(t, "/var/run/postgresql", cfg.Host)

	src, err = ParseURL("postgresql://h/d?sslmode=sometimes")
	require.NoError(t, err)
	_, err = pgxConfig(src)
	assert.ErrorIs(t, err, ErrBadURL)
}

func TestSQLiteDSN(t *testing.T) {
	cases := []struct{ url, dsn string }{
		{"sqlite:///karbor.sqlite", "karbor.sqlite?_busy_timeout=5000&_txlock=immediate"},
		{"sqlite:////var/lib/karbor/karbor.sqlite", "/var/lib/karbor/karbor.sqlite?_busy_timeout=5000&_txlock=immediate"},
		{"sqlite://", ":memory:?_busy_timeout=5000&_txlock=immediate"},
		{"sqlite:///:memory:?timeout=0.25", ":memory:?_busy_timeout=250&_txlock=immediate"},
		{"sqlite:///file:x.db", "./file:x.db?_busy_timeout=5000&_txlock=immediate"},
	}
	for _, tc := range cases {
		src, err := ParseURL(tc.url)
		require.NoError(t, err)
		dsn, err := sqliteDSN(src)
		require.NoError(t, err)
		assert.Equal(t, tc.dsn, dsn, tc.url)
	}
	src, err := ParseURL("sqlite:///k.db?timeout=never")
	require.NoError(t, err)
	_, err = sqliteDSN(src)
	assert.ErrorIs(t, err, ErrBadURL)
}

func TestIgnored(t *testing.T) {
	cases := []struct {
		url  string
		want []string
	}{
		{"mysql+pymysql://h/d?charset=utf8&plugin=dbcounter&read_default_file=/etc/my.cnf", []string{"plugin", "read_default_file"}},
		{"postgresql://h/d?sslmode=require", nil},
		{"sqlite:///k.db?check_same_thread=false&timeout=1", []string{"check_same_thread"}},
		{"sqlite://user@host/k.db", []string{"host, port and credentials (SQLite has none)"}},
	}
	for _, tc := range cases {
		src, err := ParseURL(tc.url)
		require.NoError(t, err)
		assert.Equal(t, tc.want, src.Ignored(), tc.url)
	}
}

func TestConnectionParametersAppended(t *testing.T) {
	src, err := ParseURL("mysql+pymysql://h/d?charset=utf8")
	require.NoError(t, err)
	src.AppendQuery("read_timeout=5&write_timeout=6")
	cfg, err := mysqlConfig(src, DefaultOptions(), logrus.NewEntry(logrus.New()))
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, cfg.ReadTimeout)
	assert.Equal(t, 6*time.Second, cfg.WriteTimeout)
}

func TestOptionsValidate(t *testing.T) {
	require.NoError(t, DefaultOptions().validate())
	cases := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"pool", func(o *Options) { o.MaxPoolSize = -1 }, "max_pool_size"},
		{"overflow", func(o *Options) { o.MaxOverflow = -2 }, "max_overflow"},
		{"timeout", func(o *Options) { o.PoolTimeout = 0 }, "pool_timeout"},
		{"recycle", func(o *Options) { o.ConnectionRecycleTime = -time.Second }, "connection_recycle_time"},
		{"retries", func(o *Options) { o.MaxRetries = -2 }, "max_retries"},
		{"interval", func(o *Options) { o.RetryInterval = -time.Second }, "retry_interval"},
		{"sql mode", func(o *Options) { o.MySQLSQLMode = "TRADITIONAL'; DROP TABLE x; --" }, "mysql_sql_mode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			tc.mod(&o)
			err := o.validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// FuzzParseURL: any string either parses or is refused with ErrBadURL; a
// parsed URL renders and parses back to itself, never shows its password,
// and maps onto its driver's configuration without panicking.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"mysql+pymysql://karbor:secret@db:3306/karbor?charset=utf8",
		"mysql://root@localhost/karbor?unix_socket=/run/mysqld/mysqld.sock",
		"mariadb+pymysql://u:@[::1]:3306/k",
		"postgresql+psycopg2://karbor:pw@pg/karbor?sslmode=require&application_name=a+b",
		"postgresql://karbor@/karbor?host=/var/run/postgresql",
		"sqlite:///karbor.sqlite", "sqlite:////var/lib/karbor/karbor.sqlite", "sqlite://",
		"sqlite:///:memory:?timeout=0.5", "mysql://u:p%40%zz@h:1/d?x=%41&y", "oracle://x",
	} {
		f.Add(s)
	}
	log := logrus.NewEntry(logrus.New())
	f.Fuzz(func(t *testing.T, raw string) {
		src, err := ParseURL(raw)
		if err != nil {
			if !strings.Contains(err.Error(), ErrBadURL.Error()) {
				t.Fatalf("error without ErrBadURL: %v", err)
			}
			return
		}
		again, err := ParseURL(src.render(false))
		if err != nil {
			t.Fatalf("rendered %q does not parse: %v", src.render(false), err)
		}
		assert.Equal(t, src, again)
		if src.HasPassword && !strings.Contains(src.String(), ":***@") {
			t.Fatalf("String() %q does not mask the password", src.String())
		}
		_ = src.Ignored()
		for _, p := range src.Query {
			// These make the drivers read files; nothing to learn from that here.
			if strings.HasPrefix(p.Name, "ssl") || strings.Contains(p.Name, "file") || p.Name == "service" {
				return
			}
		}
		switch src.Dialect {
		case MySQL:
			_, _ = mysqlConfig(src, DefaultOptions(), log)
		case PostgreSQL:
			_, _ = pgxConfig(src)
		case SQLite:
			_, _ = sqliteDSN(src)
		}
	})
}

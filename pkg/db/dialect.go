package db

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteTimeFormat is how SQLAlchemy stores a DateTime in SQLite: text with
// exactly six fraction digits ("2026-11-22 01:57:31.917492").
const sqliteTimeFormat = "2006-01-02 15:04:05.000000"

// dialect holds what differs between the engines in the statements we run.
type dialect struct {
	name Dialect
	sql  *strings.Replacer
}

func newDialect(d Dialect) *dialect {
	// Statements are written with "?" placeholders and {binary} for the
	// services column whose name is a reserved word in MySQL and PostgreSQL.
	quoted := `"binary"`
	if d == MySQL {
		quoted = "`binary`"
	}
	return &dialect{name: d, sql: strings.NewReplacer("{binary}", quoted)}
}

// query rewrites a statement for the engine.
func (d *dialect) query(q string) string {
	q = d.sql.Replace(q)
	if d.name != PostgreSQL {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// timeArg is how a naive UTC DateTime is bound: SQLite gets SQLAlchemy's
// text form; MySQL and PostgreSQL get the value with microseconds, as PyMySQL
// and psycopg2 send it, and store it in their DATETIME / TIMESTAMP WITHOUT
// TIME ZONE precision (whole seconds on MySQL's DATETIME).
func (d *dialect) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if d.name == SQLite {
		return t.Format(sqliteTimeFormat)
	}
	return t
}

// boolArg is a Boolean column value: an integer 0/1 where SQLAlchemy stores
// Boolean as an integer (SQLite, MySQL's BOOL), a boolean on PostgreSQL.
func (d *dialect) boolArg(b bool) any {
	if d.name == PostgreSQL {
		return b
	}
	if b {
		return 1
	}
	return 0
}

// nullString binds "" as NULL: karbor's optional columns are NULL when the
// Python service has no value for them.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// permanent reports errors that retrying cannot cure: the database refused
// the values themselves. Everything else (no connection, lock timeouts, a
// database or table that is being re-created) is worth a retry.
func permanent(err error) bool {
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		switch my.Number {
		case 1048, 1054, 1062, 1064, 1136, 1264, 1292, 1364, 1366, 1406, 1451, 1452:
			return true
		}
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		class := pg.Code[:min(2, len(pg.Code))]
		return class == "22" || class == "23" || pg.Code == "42601" || pg.Code == "42703"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		switch lite.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_RANGE:
			return true
		}
	}
	return false
}

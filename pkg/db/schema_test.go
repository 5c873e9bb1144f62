package db

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// schemaColumn is a column reduced to what must agree across engines.
type schemaColumn struct {
	Name, Type    string // type normalised: datetime, bool, int, text, varchar(n)
	NotNull       bool
	AutoIncrement bool // MySQL AUTO_INCREMENT, PostgreSQL SERIAL, SQLite INTEGER PRIMARY KEY
}

type schemaTable struct {
	Columns     []schemaColumn
	Constraints []string // PRIMARY KEY and FOREIGN KEY clauses, identifiers unquoted
}

type schema struct {
	Tables  map[string]schemaTable
	Indexes []string
}

var (
	columnLine = regexp.MustCompile("^([`\"]?)(\\w+)([`\"]?) (DATETIME|TIMESTAMP WITHOUT TIME ZONE|BOOLEAN|BOOL|INTEGER|SERIAL|TEXT|VARCHAR\\(\\d+\\))( NOT NULL)?( AUTO_INCREMENT)?$")
	tableStart = regexp.MustCompile(`^CREATE TABLE (\w+) \($`)
	tableEnd   = regexp.MustCompile(`^\)(ENGINE=InnoDB DEFAULT CHARSET=utf8)?$`)
)

var normalTypes = map[string]string{
	"DATETIME": "datetime", "TIMESTAMP WITHOUT TIME ZONE": "datetime",
	"BOOLEAN": "bool", "BOOL": "bool", "INTEGER": "int", "SERIAL": "int", "TEXT": "text",
}

// parseSchema reads one of the testdata schema files. It knows only the
// layout SQLAlchemy's DDL compiler writes, and fails on anything else (a
// DEFAULT clause, say), so a hand edit cannot slip past the comparison.
func parseSchema(t *testing.T, d Dialect) schema {
	t.Helper()
	s := schema{Tables: map[string]schemaTable{}}
	for _, stmt := range schemaStatements(t, d) {
		lines := strings.Split(stmt, "\n")
		if !strings.HasPrefix(lines[0], "CREATE TABLE") {
			require.Len(t, lines, 1, stmt)
			require.Regexp(t, `^CREATE (UNIQUE )?INDEX \w+ ON \w+ \(\w+\)$`, stmt)
			s.Indexes = append(s.Indexes, stmt)
			continue
		}
		m := tableStart.FindStringSubmatch(lines[0])
		require.NotNil(t, m, lines[0])
		require.Regexp(t, tableEnd, lines[len(lines)-1], "%s: table options", d)
		var tbl schemaTable
		for _, l := range lines[1 : len(lines)-1] {
			l = strings.TrimSuffix(strings.TrimSpace(l), ",")
			if strings.HasPrefix(l, "PRIMARY KEY") || strings.HasPrefix(l, "FOREIGN KEY") {
				tbl.Constraints = append(tbl.Constraints, strings.NewReplacer("`", "", `"`, "").Replace(l))
				continue
			}
			c := columnLine.FindStringSubmatch(l)
			require.NotNil(t, c, "%s %s: cannot read column %q", d, m[1], l)
			typ := normalTypes[c[4]]
			if typ == "" {
				typ = strings.ToLower(c[4])
			}
			tbl.Columns = append(tbl.Columns, schemaColumn{
				Name: c[2], Type: typ, NotNull: c[5] != "" || c[4] == "SERIAL",
				AutoIncrement: c[6] != "" || c[4] == "SERIAL",
			})
		}
		s.Tables[m[1]] = tbl
	}
	// SQLite: an INTEGER PRIMARY KEY column is the auto-incrementing rowid.
	if d == SQLite {
		for name, tbl := range s.Tables {
			for i, c := range tbl.Columns {
				if c.Type == "int" && slices.Contains(tbl.Constraints, "PRIMARY KEY ("+c.Name+")") {
					tbl.Columns[i].AutoIncrement = true
				}
			}
			s.Tables[name] = tbl
		}
	}
	slices.Sort(s.Indexes)
	return s
}

// The three schema files define the same tables, columns (types,
// nullability, no defaults), keys and indexes.
func TestSchemasDefineTheSameTables(t *testing.T) {
	want := parseSchema(t, SQLite)
	require.Len(t, want.Tables, 17, "karbor's 16 tables and migrate_version")
	for _, table := range []string{"services", "operation_logs", "restores", "verifications"} {
		require.Contains(t, want.Tables, table)
	}
	for _, d := range []Dialect{MySQL, PostgreSQL} {
		t.Run(string(d), func(t *testing.T) {
			got := parseSchema(t, d)
			assert.Equal(t, want.Indexes, got.Indexes)
			assert.ElementsMatch(t, keys2(want.Tables), keys2(got.Tables))
			for name, tbl := range want.Tables {
				assert.Equal(t, tbl, got.Tables[name], name)
			}
		})
	}
}

func keys2(m map[string]schemaTable) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Each engine takes its schema file: the integration tests create it for
// every test database, this checks the result once per engine, including
// what the server made of it.
func TestSchemaLoadsOnEveryEngine(t *testing.T) {
	forEachEngine(t, func(t *testing.T, tdb *testDB) {
		var q string
		switch tdb.dialect {
		case SQLite:
			q = `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'`
		case MySQL:
			q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()`
		case PostgreSQL:
			q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'`
		}
		var n int
		require.NoError(t, tdb.conn.QueryRow(q).Scan(&n))
		assert.Equal(t, 17, n)
		if tdb.dialect == MySQL {
			var charset string
			require.NoError(t, tdb.conn.QueryRow(`SELECT character_set_name FROM information_schema.columns
				WHERE table_schema = DATABASE() AND table_name = 'restores' AND column_name = 'resources_status'`).Scan(&charset))
			assert.Contains(t, []string{"utf8", "utf8mb3"}, charset)
			// The session as oslo.db sets it up: mysql_sql_mode and charset utf8.
			var mode, connCharset string
			require.NoError(t, tdb.conn.QueryRow(`SELECT @@SESSION.sql_mode, @@SESSION.character_set_connection`).Scan(&mode, &connCharset))
			assert.Contains(t, mode, "TRADITIONAL")
			assert.Contains(t, []string{"utf8", "utf8mb3"}, connCharset)
		}
	})
}

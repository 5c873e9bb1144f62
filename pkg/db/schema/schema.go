// Package schema holds karbor's database schema, as karbor-manage db sync
// creates it for each engine: for the tests that need karbor's tables, and
// for a new SQLite file, which the service fills with them itself (on
// MySQL and PostgreSQL karbor-manage creates them).
//
// It depends on nothing of pkg/db, so pkg/db and its tests can use it.
package schema

import (
	"embed"
	"fmt"
	"strings"
)

//go:embed *.sql
var schemas embed.FS

// Statements are the DDL statements of karbor's schema for engine (mysql,
// postgresql or sqlite), in order, without their terminating semicolons.
func Statements(engine string) ([]string, error) {
	raw, err := schemas.ReadFile(engine + ".sql")
	if err != nil {
		return nil, fmt.Errorf("schema: no schema for engine %q: %w", engine, err)
	}
	var lines []string
	for l := range strings.SplitSeq(string(raw), "\n") {
		if !strings.HasPrefix(l, "--") {
			lines = append(lines, l)
		}
	}
	var out []string
	for s := range strings.SplitSeq(strings.Join(lines, "\n"), ";\n") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, strings.TrimSuffix(s, ";"))
		}
	}
	return out, nil
}

package schema

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatements(t *testing.T) {
	for _, engine := range []string{"mysql", "postgresql", "sqlite"} {
		stmts, err := Statements(engine)
		require.NoError(t, err, engine)
		var tables []string
		for _, s := range stmts {
			assert.NotContains(t, s, "--", "%s: comments are dropped", engine)
			assert.False(t, strings.HasSuffix(s, ";"), "%s: %q", engine, s)
			if name, ok := strings.CutPrefix(strings.SplitN(s, "\n", 2)[0], "CREATE TABLE "); ok {
				tables = append(tables, strings.Trim(strings.Fields(name)[0], "`\""))
			}
		}
		assert.Subset(t, tables, []string{"services", "operation_logs", "restores", "verifications"}, engine)
	}
	_, err := Statements("oracle")
	assert.ErrorContains(t, err, `no schema for engine "oracle"`)
}

package python_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// truthJSONCases: bool(json.loads(raw)); "" is an absent value (None).
var truthJSONCases = map[string]bool{
	``: false, `null`: false, `false`: false, `0`: false, `-0`: false, `0.0`: false, `1e-400`: false,
	`""`: false, `[]`: false, `{}`: false, `{ }`: false, ` [ ] `: false,
	`true`: true, `1`: true, `2`: true, `-2.5`: true, `1e400`: true, `"x"`: true, `"a"`: true, `"\u0000"`: true,
	`[0]`: true, `{"a":1}`: true, `{"a": null}`: true,
}

func TestTruthJSON(t *testing.T) {
	for raw, want := range truthJSONCases {
		assert.Equal(t, want, python.TruthJSON([]byte(raw)), raw)
	}
	for _, bad := range []string{`[`, `{`, `"`} {
		assert.NotPanics(t, func() { python.TruthJSON([]byte(bad)) }, bad)
	}
}

func TestTruth(t *testing.T) {
	for raw, want := range truthJSONCases {
		var v any
		if raw != "" {
			dec := json.NewDecoder(strings.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
		}
		assert.Equal(t, want, python.Truth(v), raw)
	}
	for v, want := range map[any]bool{0.0: false, 0.5: true, 0: false, uint8(3): true, float32(0): false} {
		assert.Equal(t, want, python.Truth(v), "%#v", v)
	}
	assert.False(t, python.Truth([]string{}))
	assert.True(t, python.Truth([]string{""}))
	assert.True(t, python.Truth(struct{}{}), "an object is true")
}

// typeCases are type(json.loads(raw)).__name__, and the type name of a Go
// value standing for the same.
var typeCases = []struct {
	raw  string
	v    any
	want string
}{
	{``, nil, "NoneType"},
	{`null`, nil, "NoneType"},
	{`true`, true, "bool"},
	{`false`, false, "bool"},
	{`"s"`, "s", "str"},
	{`12`, json.Number("12"), "int"},
	{`-1`, 7, "int"},
	{`1.5`, json.Number("1.5"), "float"},
	{`1E5`, json.Number("1E5"), "float"},
	{`2e-3`, 0.002, "float"},
	{`[1]`, []any{1}, "list"},
	{` [] `, []string{}, "list"},
	{`{"a": 1}`, map[string]any{"a": 1}, "dict"},
}

func TestTypeName(t *testing.T) {
	for _, tt := range typeCases {
		assert.Equal(t, tt.want, python.TypeNameJSON([]byte(tt.raw)), "%s", tt.raw)
		assert.Equal(t, tt.want, python.TypeName(tt.v), "%#v", tt.v)
	}
	assert.Equal(t, "struct {}", python.TypeName(struct{}{}), "no Python type: the Go one")
}

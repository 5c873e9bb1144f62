package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		msg        string
	}{
		{"assignment before any section", "a = 1\n", 1, "section must be started before assignment"},
		{"no delimiter", "[DEFAULT]\nnovalue\n", 2, "no ':' or '=' found"},
		{"empty key", "[DEFAULT]\n= x\n", 2, "key cannot be empty"},
		{"section with trailing text", "[DEFAULT] # c\n", 1, "invalid section"},
		{"unclosed section", "[DEFAULT\n", 1, "invalid section"},
		{"empty section name", "[]\n", 1, "empty section name"},
		{"continuation without key", "[DEFAULT]\n  x = 1\n", 2, "unexpected continuation line"},
		{"continuation after comment", "[DEFAULT]\na = 1\n# c\n  more\n", 4, "unexpected continuation line"},
		{"continuation after blank line", "[DEFAULT]\na = 1\n\n  more\n", 4, "unexpected continuation line"},
		{"invalid UTF-8", "[DEFAULT]\na = \xff\n", 2, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile("/etc/karbor/karbor.conf", []byte(tt.text))
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "/etc/karbor/karbor.conf", pe.Path)
			assert.Equal(t, tt.line, pe.Line)
			assert.Contains(t, pe.Error(), tt.msg)
			assert.Contains(t, pe.Error(), "/etc/karbor/karbor.conf:")
		})
	}
}

func TestParseFileStructure(t *testing.T) {
	text := "\ufeff[DEFAULT]\nb = 1\na = 2\nb = 3\n[Provider]\nplugin = x\n[other]\n[provider]\nplugin = y\nplugin: z\n"
	f, err := ParseFile("p.conf", []byte(text))
	require.NoError(t, err)
	assert.Equal(t, []string{"DEFAULT", "provider", "other"}, f.Sections())
	assert.Equal(t, []string{"b", "a"}, f.Keys("DEFAULT"))
	assert.Equal(t, []string{"1", "3"}, f.Values("DEFAULT", "b"))
	assert.Equal(t, []string{"x", "y", "z"}, f.Values("PROVIDER", "plugin"))
	assert.Empty(t, f.Keys("other"))
	assert.Nil(t, f.Values("missing", "x"))
	assert.Nil(t, f.Keys("missing"))
}

func TestStripQuotes(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"x"`, "x"}, {`'x'`, "x"}, {`"`, ""}, {`'`, ""}, {`""`, ""}, {`"a"b"`, `a"b`},
		{`'"`, `'"`}, {"`x`", "`x`"}, {`x"`, `x"`}, {"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, stripQuotes(tt.in), tt.in)
	}
}

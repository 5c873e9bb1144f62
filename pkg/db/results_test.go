package db

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// jsonCases are dicts (as ordered key/value pairs) whose text must be what
// Python's json.dumps writes.
var jsonCases = [][][2]string{
	{{"OS::Nova::Server#1", "available"}},
	{{"OS::Nova::Server#b", "restoring"}, {"OS::Cinder::Volume#a", "error"}, {"OS::Glance::Image#c", ""}},
	{{"k", `quote " backslash \ slash /`}},
	{{"k", "\n\r\t\b\f\x00\x01\x1f\x7f"}},
	{{"k", "<script>&amp;</script>"}},
	{{"k", "é ü ß — ☃ \u2028 \u2029 \ufeff"}},
	{{"k", "😀 𝄞 \U0010ffff"}},
	{{"ключ", "значение"}, {"键", "值"}},
}

func pairsDict(pairs [][2]string) *resultDict {
	var d resultDict
	for _, p := range pairs {
		d.set(p[0], p[1])
	}
	return &d
}

func TestResultsJSONGolden(t *testing.T) {
	var got bytes.Buffer
	for _, c := range jsonCases {
		got.WriteString(pairsDict(c).json() + "\n")
	}
	golden := filepath.Join("testdata", "results-json.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, got.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got.String())
}

// The same dicts through the real Python json module, when there is one
// (always under CI: KARBOR_TEST_PYTHON).
func TestResultsJSONMatchesPython(t *testing.T) {
	python := os.Getenv("KARBOR_TEST_PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
	}
	if _, err := exec.LookPath(python); err != nil {
		unavailable(t, "no Python at %s: %v", python, err)
	}
	input, err := json.Marshal(jsonCases)
	require.NoError(t, err)
	cmd := exec.Command(python, "-c", `import json, sys
for pairs in json.load(sys.stdin):
    print(json.dumps(dict(pairs)))`)
	cmd.Stdin = bytes.NewReader(input)
	out, err := cmd.Output()
	require.NoError(t, err)
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, want, len(jsonCases))
	for i, c := range jsonCases {
		assert.Equal(t, want[i], pairsDict(c).json(), "case %d", i)
	}
}

func TestResultsJSONOrderAndEmpty(t *testing.T) {
	var d resultDict
	assert.Empty(t, d.json(), "an empty dict is not written")
	d.set("b", "1")
	d.set("a", "2")
	d.set("b", "3")
	assert.Equal(t, `{"b": "3", "a": "2"}`, d.json(), "first insertion order, last value")
	assert.Equal(t, `{"k": "\ufffd"}`, pairsDict([][2]string{{"k", "\xff"}}).json())
}

// FuzzResultsJSON: the text is JSON that decodes back to the dict.
func FuzzResultsJSON(f *testing.F) {
	for _, c := range jsonCases {
		for _, p := range c {
			f.Add(p[0], p[1])
		}
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		text := pairsDict([][2]string{{k, v}, {"fixed", k}}).json()
		for i := 0; i < len(text); i++ {
			if text[i] < 0x20 || text[i] > 0x7e {
				t.Fatalf("non-ASCII or control byte %#x in %q", text[i], text)
			}
		}
		var back map[string]string
		if err := json.Unmarshal([]byte(text), &back); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		assert.Equal(t, map[string]string{validRunes(k): validRunes(v), "fixed": validRunes(k)}, back)
	})
}

// validRunes is s with each byte that is not UTF-8 replaced by U+FFFD.
func validRunes(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

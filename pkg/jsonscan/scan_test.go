package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encoding/json refuses text nested deeper than 10000 levels; so does
// Valid, which must give json.Valid's verdict on every input.
func TestValidDepth(t *testing.T) {
	nested := func(depth int, open, inner, close string) []byte {
		return []byte(strings.Repeat(open, depth) + inner + strings.Repeat(close, depth))
	}
	for _, tc := range []struct {
		name string
		data []byte
		want bool
	}{
		{"arrays at the limit", nested(maxDepth, "[", "", "]"), true},
		{"arrays beyond", nested(maxDepth+1, "[", "", "]"), false},
		{"objects at the limit", nested(maxDepth-1, `{"a":`, "{}", "}"), true},
		{"objects beyond", nested(maxDepth, `{"a":`, "{}", "}"), false},
		{"unclosed", []byte(strings.Repeat("[", maxDepth+1)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, json.Valid(tc.data), "encoding/json's verdict")
			assert.Equal(t, tc.want, Valid(tc.data))
		})
	}
}

// Members gives an object's top-level members as written, keys with their
// quotes, in order and repeated keys included; none for a valid text that
// is not an object; Valid's verdict on everything.
func TestMembers(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want []string // key, value, key, value...
		ok   bool
	}{
		{"empty object", ` {} `, nil, true},
		{"nested and repeated", `{"a": [1, {"b": "}"}], "k\"é": null ,"a":2}`, []string{`"a"`, `[1, {"b": "}"}]`, `"k\"é"`, `null`, `"a"`, `2`}, true},
		{"an index document", `{"version": "0.9", "id": "x", "timestamp": 1588291200, "extra_info": null}`,
			[]string{`"version"`, `"0.9"`, `"id"`, `"x"`, `"timestamp"`, `1588291200`, `"extra_info"`, `null`}, true},
		{"an array", `[{"a": 1}]`, nil, true},
		{"a string", `"{\"a\": 1}"`, nil, true},
		{"trailing text", `{"a": 1} x`, nil, false},
		{"missing value", `{"a": }`, nil, false},
		{"unclosed", `{"a": 1`, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			members, ok := Members([]byte(tc.data), nil)
			require.Equal(t, tc.ok, ok)
			var got []string
			for _, m := range members {
				got = append(got, string(m.Key), string(m.Value))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// FuzzValid: Valid's verdict is encoding/json's (the nesting limit is in
// TestValidDepth: such inputs slow the fuzzer down), and Members splits
// every valid object into members that encoding/json reads back as its
// own.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, ` {"a": [1, -0.5e+3, true, false, null, "\u00e9\n"]} `, `01`, `-`, `1.`, `1e`, `.5`,
		`{"a" 1}`, `{"a":1,}`, `[1,]`, `"\x"`, `"\u12"`, "\"\x01\"", `tru`, `nul`, `{"a":1}}`, `[1] [2]`, ``, ` `,
		`{"oslo.version": "2.0", "oslo.message": "{\"method\": \"echo\", \"args\": {\"a\": 1}, \"_context_roles\": [\"member\"]}"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := json.Valid(data)
		if got := Valid(data); got != valid {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", data, got, valid)
		}
		members, ok := Members(data, nil)
		if ok != valid {
			t.Fatalf("Members(%q) ok = %v, json.Valid says %v", data, ok, valid)
		}
		var want map[string]json.RawMessage
		if !valid || json.Unmarshal(data, &want) != nil {
			if len(members) != 0 {
				t.Fatalf("%d members of %q, which is not an object", len(members), data)
			}
			return
		}
		got := map[string]json.RawMessage{}
		for _, m := range members {
			var key string
			if err := json.Unmarshal(m.Key, &key); err != nil {
				t.Fatalf("key %q: %v", m.Key, err)
			}
			got[key] = m.Value
		}
		if len(got) != len(want) {
			t.Fatalf("%d distinct keys, encoding/json has %d", len(got), len(want))
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || !json.Valid(g) || compact(g) != compact(w) {
				t.Fatalf("value of %q: %s, want %s", k, g, w)
			}
		}
	})
}

// compact is raw as encoding/json writes what it reads from it.
func compact(raw []byte) string {
	var v any
	_ = json.Unmarshal(raw, &v)
	out, _ := json.Marshal(v)
	return string(out)
}

package python_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// jsonStringCases are json.dumps(s) as Python 3 writes it.
var jsonStringCases = []struct{ s, want string }{
	{"", `""`},
	{"OS::Nova::Server#1", `"OS::Nova::Server#1"`},
	{`quote " backslash \ slash /`, `"quote \" backslash \\ slash /"`},
	{"\n\r\t\b\f\x00\x01\x1f\x7f", `"\n\r\t\b\f\u0000\u0001\u001f\u007f"`},
	{"<script>&amp;</script>", `"<script>&amp;</script>"`},
	{"é ü ß — ☃ \u2028 \u2029 \ufeff", `"\u00e9 \u00fc \u00df \u2014 \u2603 \u2028 \u2029 \ufeff"`},
	{"😀 𝄞 \U0010ffff", `"\ud83d\ude00 \ud834\udd1e \udbff\udfff"`},
	{"ключ 键", `"\u043a\u043b\u044e\u0447 \u952e"`},
	{"\xff", `"\ufffd"`},
	{"a\xed\xa0\x80b", `"a\ufffd\ufffd\ufffdb"`}, // an encoded surrogate is not UTF-8
}

func TestAppendJSONString(t *testing.T) {
	for _, tt := range jsonStringCases {
		assert.Equal(t, tt.want, string(python.AppendJSONString(nil, tt.s)), "%q", tt.s)
		assert.Equal(t, "x"+tt.want, string(python.AppendJSONString([]byte("x"), tt.s)), "appends")
	}
}

// jsonCases are data and json.dumps(json.loads(data)) as Python 3 writes
// it, but for numbers, which keep their text (asWritten: Python would write
// another text).
var jsonCases = []struct {
	name, in, want string
	asWritten      bool
}{
	{"containers", `{"a":[1,2.5,true,false,null],"b":{},"c":[]}`, `{"a": [1, 2.5, true, false, null], "b": {}, "c": []}`, false},
	{"string", `"caf\u00e9 \u2028 😀 \u007f \u0001 \n\t\r\b\f \"q\" \\ / <>&"`, `"caf\u00e9 \u2028 \ud83d\ude00 \u007f \u0001 \n\t\r\b\f \"q\" \\ / <>&"`, false},
	{"string with space around", " \n\"x\" \t", `"x"`, false},
	{"nested", `{ "nested" : {"x":[{"y":"z"}]}, "num":1e+21, "neg":-0.5, "big":12345678901234567890 }`, `{"nested": {"x": [{"y": "z"}]}, "num": 1e+21, "neg": -0.5, "big": 12345678901234567890}`, false},
	{"key order kept", `{"z": 1, "a": 2}`, `{"z": 1, "a": 2}`, false},
	{"non-ASCII key", `{"ключ":"значение"}`, `{"\u043a\u043b\u044e\u0447": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435"}`, false},
	{"scalar", ` null `, `null`, false},
	{"number kept as written", `1E5`, `1E5`, true},
}

func TestAppendJSON(t *testing.T) {
	for _, tt := range jsonCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := python.AppendJSON([]byte("x"), []byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, "x"+tt.want, string(got))
		})
	}
	for _, bad := range []string{``, ` `, `{`, `{"a":1}x`, `[1,]`, `{"a" 1}`, `"x" "y"`, `"x`, `"x"]`, `nul`, `[1] [2]`} {
		_, err := python.AppendJSON(nil, []byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

func TestMarshalJSON(t *testing.T) {
	type plan struct {
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		Resources json.RawMessage `json:"resources"`
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"struct fields in order", plan{"p1", "nom é", json.RawMessage(`[{"b":1,"a":2}]`)}, `{"id": "p1", "name": "nom \u00e9", "resources": [{"b": 1, "a": 2}]}`},
		{"map keys sorted", map[string]any{"z": []int{1}, "a": "<&>"}, `{"a": "<&>", "z": [1]}`},
		{"string", "x\u2028", `"x\u2028"`},
		{"nil", nil, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := python.MarshalJSON(tt.v)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
	_, err := python.MarshalJSON(func() {})
	assert.Error(t, err, "what encoding/json refuses")
}

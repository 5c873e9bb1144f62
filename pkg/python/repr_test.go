package python_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// exception stands for a Python exception: an error that knows its repr.
type exception struct{ class, msg string }

func (e exception) Error() string      { return e.msg }
func (e exception) PythonRepr() string { return e.class + "(" + python.ReprString(e.msg) + ")" }

// object is a Reprer that is not an error: str() falls back to repr().
type object struct{}

func (object) PythonRepr() string { return "<object>" }

// stringer has no Python counterpart: it stands for a str of its text.
type stringer struct{}

func (stringer) String() string { return "text of a stringer" }

// Expectations printed by Python 3.11 (repr() of the value Python would
// hold; TestMatchesPython checks the JSON-expressible ones live).
var reprCases = []struct {
	name string
	v    any
	want string
}{
	{"None", nil, "None"},
	{"True", true, "True"},
	{"False", false, "False"},
	{"int", 42, "42"},
	{"int64", int64(-7), "-7"},
	{"int8", int8(-8), "-8"},
	{"uint64", uint64(math.MaxUint64), "18446744073709551615"},

	{"float 0", 0.0, "0.0"},
	{"float -0", math.Copysign(0, -1), "-0.0"},
	{"float 1", 1.0, "1.0"},
	{"float 0.1", 0.1, "0.1"},
	{"float 1.5", 1.5, "1.5"},
	{"float 3", 3.0, "3.0"},
	{"float 100", 100.0, "100.0"},
	{"float 1e15", 1e15, "1000000000000000.0"},
	{"float 1e16", 1e16, "1e+16"},
	{"float 1e22", 1e22, "1e+22"},
	{"float 1e100", 1e100, "1e+100"},
	{"float 2.5e300", 2.5e300, "2.5e+300"},
	{"float 123456789.125", 123456789.125, "123456789.125"},
	{"float 1e-4", 1e-4, "0.0001"},
	{"float 1e-5", 1e-5, "1e-05"},
	{"float 1.5e-7", 1.5e-7, "1.5e-07"},
	{"float min subnormal", 5e-324, "5e-324"},
	{"float 1/3", 1.0 / 3, "0.3333333333333333"},
	{"float 2^53+1", 9007199254740993.0, "9007199254740992.0"},
	{"float inf", math.Inf(1), "inf"},
	{"float -inf", math.Inf(-1), "-inf"},
	{"float nan", math.NaN(), "nan"},
	{"float32", float32(0.5), "0.5"},

	{"json int", json.Number("12"), "12"},
	{"json -0", json.Number("-0"), "0"},
	{"json big int", json.Number("123456789012345678901234567890"), "123456789012345678901234567890"},
	{"json float", json.Number("2.50"), "2.5"},
	{"json exponent", json.Number("1E5"), "100000.0"},
	{"json overflow", json.Number("1e400"), "inf"},
	{"json underflow", json.Number("-1e-400"), "-0.0"},

	{"str", "a", `'a'`},
	{"str empty", "", `''`},
	{"str single quote", "it's", `"it's"`},
	{"str single quote 2", "a'b", `"a'b"`},
	{"str double quotes", `say "hi"`, `'say "hi"'`},
	{"str both quotes", `both ' and "`, `'both \' and "'`},
	{"str both quotes 2", `a"b'c`, `'a"b\'c'`},
	{"str tab", "tab\there", `'tab\there'`},
	{"str newline", "nl\n", `'nl\n'`},
	{"str cr", "a\rb", `'a\rb'`},
	{"str backslash", `back\slash`, `'back\\slash'`},
	{"str controls", "\x00\x7f\u0080", `'\x00\x7f\x80'`},
	{"str mixed", "x\n\x01\x7fé\u2028😀", `'x\n\x01\x7fé\u2028😀'`},
	{"str printable non-ASCII", "é\u2028\U0001F600\ufffd", "'é\\u2028\U0001F600\ufffd'"},
	{"str nbsp", "\u00a0", `'\xa0'`},
	{"str zero width space", "\u200b", `'\u200b'`},
	{"str unassigned", "\u0378", `'\u0378'`},
	{"str tag character", "\U000e0001", `'\U000e0001'`},
	{"str invalid UTF-8", "a\xffb", "'a\ufffdb'"},

	{"list", []any{"a", int64(1), nil}, "['a', 1, None]"},
	{"list 2", []any{1, "b"}, "[1, 'b']"},
	{"list of str", []string{"x"}, "['x']"},
	{"list of int", []int{1, 2}, "[1, 2]"},
	{"empty list", []any{}, "[]"},
	{"nested", []any{[]any{true}, map[string]any{}}, "[[True], {}]"},
	{"dict sorted", map[string]any{"k": 1.0, "a": nil}, "{'a': None, 'k': 1.0}"},
	{"dict nested", map[string]any{"b": []any{"it's"}, "a": map[string]any{"x": json.Number("1")}}, `{'a': {'x': 1}, 'b': ["it's"]}`},

	{"Reprer", exception{"KeyError", "k"}, "KeyError('k')"},
	{"Reprer in a list", []any{exception{"ValueError", "x"}}, "[ValueError('x')]"},
	{"error without repr", errors.New("boom"), "'boom'"},
	{"stringer", stringer{}, "'text of a stringer'"},
	{"struct", struct{ A int }{1}, "'{1}'"},
}

func TestRepr(t *testing.T) {
	for _, tt := range reprCases {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, python.Repr(tt.v), "%#v", tt.v)
		})
	}
}

var strCases = []struct {
	name string
	v    any
	want string
}{
	{"str", "abc", "abc"},
	{"str with quote", "it's", "it's"},
	{"None", nil, "None"},
	{"False", false, "False"},
	{"int", 5, "5"},
	{"float", 1e22, "1e+22"},
	{"json number", json.Number("1E5"), "100000.0"},
	{"list", []any{1, "a", nil, true}, "[1, 'a', None, True]"},
	{"dict", map[string]any{"k": "v"}, "{'k': 'v'}"},
	{"error", errors.New("boom"), "boom"},
	{"exception", exception{"KeyError", "k"}, "k"},
	{"Reprer", object{}, "<object>"},
	{"stringer", stringer{}, "text of a stringer"},
}

func TestStr(t *testing.T) {
	for _, tt := range strCases {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, python.Str(tt.v), "%#v", tt.v)
		})
	}
}

func TestStrAndReprJSON(t *testing.T) {
	tests := []struct{ raw, str, repr string }{
		{`"abc"`, "abc", `'abc'`},
		{`5`, "5", "5"},
		{`1e5`, "100000.0", "100000.0"},
		{`true`, "True", "True"},
		{`null`, "None", "None"},
		{``, "None", "None"},
		{` [1, "a", {"k": 2.0}] `, "[1, 'a', {'k': 2.0}]", "[1, 'a', {'k': 2.0}]"},
		{`"2" x`, "2", "'2'"}, // json.loads would refuse the trailing text; only the value is shown
		{`{x`, "{x", "'{x'"},  // not JSON: stands for a str of the text
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			assert.Equal(t, tt.str, python.StrJSON([]byte(tt.raw)))
			assert.Equal(t, tt.repr, python.ReprJSON([]byte(tt.raw)))
		})
	}
}

// tupleCases are repr(tuple(args)) and str(Exception(*args)).
var tupleCases = []struct {
	name       string
	args       []any
	tuple, str string
}{
	{"no args", nil, "()", ""},
	{"one arg", []any{"x"}, "('x',)", "x"},
	{"one number", []any{42}, "(42,)", "42"},
	{"two args", []any{"bad value", 42}, "('bad value', 42)", "('bad value', 42)"},
	{"None", []any{nil, nil}, "(None, None)", "(None, None)"},
}

func TestReprTupleAndExceptionStr(t *testing.T) {
	for _, tt := range tupleCases {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.tuple, python.ReprTuple(tt.args))
			assert.Equal(t, tt.str, python.ExceptionStr(tt.args))
		})
	}
}

func TestReprFloat(t *testing.T) {
	for _, tt := range reprCases {
		if f, ok := tt.v.(float64); ok {
			assert.Equal(t, tt.want, python.ReprFloat(f), tt.name)
		}
	}
}

func TestReprString(t *testing.T) {
	for _, tt := range reprCases {
		if s, ok := tt.v.(string); ok {
			assert.Equal(t, tt.want, python.ReprString(s), tt.name)
		}
	}
}

package python_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// askPython is the Python side of TestMatchesPython: it rebuilds each value
// from its tagged JSON form and applies the operation.
const askPython = `import json, sys
def value(t):
    if t is None or isinstance(t, bool):
        return t
    (tag, x), = t.items()
    return {"s": lambda: x, "j": lambda: json.loads(x), "f": lambda: float.fromhex(x), "i": lambda: int(x),
            "l": lambda: [value(i) for i in x], "d": lambda: {k: value(v) for k, v in x}}[tag]()
ops = {"repr": repr, "str": str, "json": json.dumps, "truth": lambda v: str(bool(v)).lower(),
       "type": lambda v: type(v).__name__, "tuple": lambda v: repr(tuple(v)),
       "exception": lambda v: str(Exception(*v)), "keys": lambda v: json.dumps(list(v))}
json.dump([ops[q["op"]](value(q["value"])) for q in json.load(sys.stdin)], sys.stdout)
`

// pythonQuery is one question to Python: op applied to value, whose
// expected answer is want.
type pythonQuery struct {
	Op    string `json:"op"`
	Value any    `json:"value"`
	want  string
	name  string
}

// TestMatchesPython puts every frozen expectation whose value Python can
// hold to the real Python (KARBOR_TEST_PYTHON, else /usr/bin/python3; under
// CI=true a missing Python fails the test).
func TestMatchesPython(t *testing.T) {
	interpreter := os.Getenv("KARBOR_TEST_PYTHON")
	if interpreter == "" {
		interpreter = "/usr/bin/python3"
	}
	if _, err := exec.LookPath(interpreter); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Python at %s (CI=true: it is required): %v", interpreter, err)
		}
		t.Skipf("no Python at %s: %v", interpreter, err)
	}
	queries := pythonQueries()
	input, err := json.Marshal(queries)
	require.NoError(t, err)
	cmd := exec.Command(interpreter, "-c", askPython)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var answers []string
	require.NoError(t, json.Unmarshal(out, &answers))
	require.Len(t, answers, len(queries))
	t.Logf("%d questions put to %s", len(queries), interpreter)
	for i, q := range queries {
		assert.Equal(t, answers[i], q.want, "%s(%s): Python and the frozen expectation differ", q.Op, q.name)
	}
}

func pythonQueries() []pythonQuery {
	var qs []pythonQuery
	add := func(op, name string, v any, want string) {
		if tagged, ok := pythonValue(v); ok {
			qs = append(qs, pythonQuery{Op: op, Value: tagged, want: want, name: name})
		}
	}
	for _, c := range reprCases {
		add("repr", c.name, c.v, c.want)
	}
	for _, c := range strCases {
		add("str", c.name, c.v, c.want)
	}
	for _, c := range tupleCases {
		add("tuple", c.name, c.args, c.tuple)
		add("exception", c.name, c.args, c.str)
	}
	for raw, want := range truthJSONCases {
		if raw != "" {
			add("truth", raw, json.Number(raw), strconv.FormatBool(want))
		}
	}
	for _, c := range typeCases {
		if c.raw != "" {
			add("type", c.raw, json.Number(c.raw), c.want)
		}
	}
	for _, c := range jsonStringCases {
		add("json", strconv.Quote(c.s), c.s, c.want)
	}
	for _, c := range jsonCases {
		if !c.asWritten {
			add("json", c.name, json.Number(c.in), c.want)
		}
	}
	for _, c := range membersCases {
		keys := []string{}
		for _, m := range c.want {
			keys = append(keys, m.Key)
		}
		want, _ := json.Marshal(keys)
		add("keys", c.name, json.Number(c.text), strings.ReplaceAll(string(want), `","`, `", "`))
	}
	return qs
}

// pythonValue is v in the tagged form askPython rebuilds; a json.Number is
// any JSON text, for json.loads. Values Python has no counterpart for are
// not asked about.
func pythonValue(v any) (any, bool) {
	switch v := v.(type) {
	case nil, bool:
		return v, true
	case string:
		return map[string]any{"s": v}, true
	case json.Number:
		return map[string]any{"j": string(v)}, true
	case float64:
		return map[string]any{"f": strconv.FormatFloat(v, 'x', -1, 64)}, true
	case int, int8, int64, uint64:
		return map[string]any{"i": fmt.Sprint(v)}, true
	case []string:
		return pythonList(len(v), func(i int) any { return v[i] })
	case []int:
		return pythonList(len(v), func(i int) any { return v[i] })
	case []any:
		return pythonList(len(v), func(i int) any { return v[i] })
	case map[string]any:
		items := [][2]any{}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			item, ok := pythonValue(v[k])
			if !ok {
				return nil, false
			}
			items = append(items, [2]any{k, item})
		}
		return map[string]any{"d": items}, true
	}
	return nil, false
}

func pythonList(n int, at func(int) any) (any, bool) {
	items := make([]any, n)
	for i := range items {
		var ok bool
		if items[i], ok = pythonValue(at(i)); !ok {
			return nil, false
		}
	}
	return map[string]any{"l": items}, true
}

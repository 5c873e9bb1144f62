package rpc

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The client's encoder writes, byte for byte, what encoding/json writes
// for the Go values callers build contexts and arguments from (the fuzzer
// covers decoded JSON), and refuses the rest, leaving them to
// encoding/json.
func TestAppendJSONValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		ok   bool
	}{
		{"nil slice", []any(nil), true},
		{"nil strings", []string(nil), true},
		{"nil map", map[string]any(nil), true},
		{"nil string map", map[string]string(nil), true},
		{"ints", []any{0, -7, int64(math.MaxInt64), math.MinInt}, true},
		{"floats", []any{0.0, math.Copysign(0, -1), 1e21, 1e20, 1e-6, 1e-7, 123456789.125, 5e-324, math.MaxFloat64}, true},
		{"strings", []string{"", "é", "\u2028\u2029", "<&>", "\x00\x1f\"\\", "\xff"}, true},
		{"nested", map[string]any{"b": []any{map[string]string{"y": "1", "x": "2"}}, "a": true, "c": nil}, true},
		{"more members than held on the stack", bigMap(3 * maxHeldMembers), true},
		{"NaN", []any{math.NaN()}, false},
		{"infinity", map[string]any{"x": math.Inf(-1)}, false},
		{"struct", []any{struct{ A int }{1}}, false},
		{"int32", []any{int32(1)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fast, ok := appendJSONValue(nil, tc.v)
			assert.Equal(t, tc.ok, ok)
			if !ok {
				return
			}
			slow, err := EncodeJSON(tc.v)
			assert.NoError(t, err)
			assert.Equal(t, string(slow), string(fast), "byte for byte")
		})
	}
}

// bigMap has n members, inserted in an order other than the sorted one.
func bigMap(n int) map[string]any {
	m := map[string]any{}
	for i := n - 1; i >= 0; i-- {
		m[strconv.Itoa(i*7919%n)] = i
	}
	return m
}

// A result already encoded is sent as it is: an Encoded one unchecked, a
// json.RawMessage one only when it is valid JSON.
func TestEncodeJSONEncodedResults(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
		err  bool
	}{
		{"encoded", Encoded(`{"a": [1, 2]}`), `{"a": [1, 2]}`, false},
		{"nil encoded", Encoded(nil), "null", false},
		{"raw", json.RawMessage(`[1, "x"]`), `[1, "x"]`, false},
		{"nil raw", json.RawMessage(nil), "null", false},
		{"invalid raw", json.RawMessage(`{"a": `), "", true},
		{"value", map[string]any{"a": "<&>"}, `{"a":"<&>"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeJSON(tc.v)
			if tc.err {
				assert.Error(t, err)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

// The flattened context follows each context's own members whatever the
// layout kept from the one before: the same members, the same number of
// other members, fewer, more, and a value only encoding/json takes (which
// appendContext then encodes the slow way).
func TestContextMembersFollowEachContext(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  map[string]any
		ok   bool
	}{
		{"first", map[string]any{"user_id": "u", "roles": []any{"a"}, "is_admin": false}, true},
		{"same members, other values", map[string]any{"user_id": "v", "roles": nil, "is_admin": true}, true},
		{"as many members, one other", map[string]any{"user_id": "u", "roles": []any{"a"}, "project_id": "p"}, true},
		{"fewer", map[string]any{"user_id": "u"}, true},
		{"more, a key to escape", map[string]any{"user_id": "u", "é\"k": 1, "a": 2.5, "z": "<&>"}, true},
		{"a value for encoding/json", map[string]any{"user_id": "u", "é\"k": struct{ A int }{1}, "a": 2.5, "z": "<&>"}, false},
		{"empty", map[string]any{}, true},
		{"after empty", map[string]any{"user_id": "u"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := appendContextMembers([]byte("{"), tc.ctx)
			assert.Equal(t, tc.ok, ok)
			if !ok {
				return
			}
			want := []byte("{")
			for _, k := range slices.Sorted(maps.Keys(tc.ctx)) {
				v, err := EncodeJSON(tc.ctx[k])
				assert.NoError(t, err)
				want = append(append(appendJSONString(append(want, ", "...), contextPrefix+k), ": "...), v...)
			}
			assert.Equal(t, string(want), string(got))
		})
	}
}

// Callers that send contexts of different members at once each get their
// own members (run with -race: the layout is shared).
func TestContextMembersConcurrently(t *testing.T) {
	contexts := []map[string]any{{"a": 1, "b": 2}, {"a": 1, "c": 3}, {"b": 2, "c": 3, "d": 4}}
	want := []string{`, "_context_a": 1, "_context_b": 2`, `, "_context_a": 1, "_context_c": 3`, `, "_context_b": 2, "_context_c": 3, "_context_d": 4`}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				n := (g + i) % len(contexts)
				got, ok := appendContextMembers(nil, contexts[n])
				if !ok || string(got) != want[n] {
					t.Errorf("context %d: %s, want %s", n, got, want[n])
					return
				}
			}
		})
	}
	wg.Wait()
}

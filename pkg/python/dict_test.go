package python_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// membersCases are list(json.loads(text).items()) as Python makes them.
var membersCases = []struct {
	name, text string
	want       []python.Member
}{
	{"order kept", `{"b": 1, "a": 2}`, []python.Member{{"b", json.RawMessage("1")}, {"a", json.RawMessage("2")}}},
	{"repeated key: first place, last value", `{"b": 1, "a": 2, "b": 3}`, []python.Member{{"b", json.RawMessage("3")}, {"a", json.RawMessage("2")}}},
	{"values as written", ` {"x" : [1, {"y":"\u00e9"}] } `, []python.Member{{"x", json.RawMessage(`[1, {"y":"\u00e9"}]`)}}},
	{"empty", `{}`, nil},
}

func TestMembers(t *testing.T) {
	for _, tt := range membersCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := python.Members([]byte(tt.text))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for _, bad := range []string{`[1]`, `"{}"`, `null`} {
		_, err := python.Members([]byte(bad))
		assert.ErrorIs(t, err, python.ErrNotObject, bad)
	}
	for _, bad := range []string{``, `{`, `{} x`, `{}{}`, `{"a"}`, `{"a": }`, `{"a": 1,}`} {
		_, err := python.Members([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestDict(t *testing.T) {
	d, err := python.LoadDict([]byte(`{"version": "0.9", "status":"protecting", "extra_info": {"b": 1, "a": [1,2]}, "status": "x"}`))
	require.NoError(t, err)
	v, ok := d.Get("status")
	require.True(t, ok)
	assert.Equal(t, `"x"`, string(v), "the last value of a repeated key")
	_, ok = d.Get("missing")
	assert.False(t, ok)

	before := d.Clone()
	d.Set("status", json.RawMessage(`"available"`))
	d.Set("owner_id", json.RawMessage(`"\u00e9"`))
	got, err := d.AppendJSON([]byte("x"))
	require.NoError(t, err)
	// Python: d = json.loads(text); d["status"] = "available"; d["owner_id"] = "é"; json.dumps(d)
	assert.Equal(t, `x{"version": "0.9", "status": "available", "extra_info": {"b": 1, "a": [1, 2]}, "owner_id": "\u00e9"}`, string(got))

	got, err = before.AppendJSON(nil)
	require.NoError(t, err)
	assert.Equal(t, `{"version": "0.9", "status": "x", "extra_info": {"b": 1, "a": [1, 2]}}`, string(got), "a clone is not changed")

	var zero python.Dict
	got, err = zero.AppendJSON(nil)
	require.NoError(t, err)
	assert.Equal(t, `{}`, string(got))
	zero.Set("k", json.RawMessage(`not JSON`))
	_, err = zero.AppendJSON(nil)
	assert.ErrorContains(t, err, `field "k"`)

	_, err = python.LoadDict([]byte(`[]`))
	assert.ErrorIs(t, err, python.ErrNotObject)
}

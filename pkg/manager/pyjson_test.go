package manager

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsUUIDLike(t *testing.T) {
	for s, want := range map[string]bool{
		"6918fc8a-7ee8-4164-b48b-ad47bd058dc3":          true,
		"6918FC8A7EE84164B48BAD47BD058DC3":              true,
		"{6918fc8a-7ee8-4164-b48b-ad47bd058dc3}":        true,
		"urn:uuid:6918fc8a-7ee8-4164-b48b-ad47bd058dc3": true,
		"6918fc8a-7ee8-4164-b48b-ad47bd058dc":           false,
		"6918fc8a-7ee8-4164-b48b-ad47bd058dcg":          false,
		"+918fc8a-7ee8-4164-b48b-ad47bd058dc3":          false,
		" 6918fc8a-7ee8-4164-b48b-ad47bd058dc3":         false,
		"6918fc8a_7ee8_4164_b48b_ad47bd058dc3":          false,
		"":                                              false,
	} {
		assert.Equal(t, want, isUUIDLike(s), s)
	}
}

func TestFirstSortDir(t *testing.T) {
	for _, tc := range []struct{ raw, want, class string }{
		{`null`, "", ""}, {`["desc", "asc"]`, "desc", ""}, {`[5]`, "", ""}, {`"desc"`, "d", ""},
		{`[]`, "", "IndexError"}, {`""`, "", "IndexError"}, {`5`, "", "TypeError"},
	} {
		got, err := firstSortDir(json.RawMessage(tc.raw))
		if tc.class != "" {
			require.Error(t, err, tc.raw)
			assert.Equal(t, tc.class, err.(interface{ PythonClass() string }).PythonClass())
			continue
		}
		require.NoError(t, err, tc.raw)
		assert.Equal(t, tc.want, got, tc.raw)
	}
}

package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A substituted option is Python's str() of its value, but None, which
// oslo.config substitutes as "" (the value tables are pkg/python's).
func TestSubstitutedStr(t *testing.T) {
	reg := NewRegistry()
	reg.Register(DefaultGroup,
		Opt{Name: "none", Type: Int{}},
		Opt{Name: "flag", Type: Bool{}, Default: false},
		Opt{Name: "ratio", Type: Float{}, Default: 1e16},
		Opt{Name: "names", Type: List{}, Default: []string{"a", "it's"}},
		Opt{Name: "text", Type: String{}, Default: "[$none|$flag|$ratio|$names]"},
	)
	v, err := New(reg, nil, nil).Value(DefaultGroup, "text")
	require.NoError(t, err)
	assert.Equal(t, `[|False|1e+16|['a', "it's"]]`, v)
}

func TestPyDigit(t *testing.T) {
	for r, want := range map[rune]int{'7': 7, '٣': 3, '०': 0, '९': 9, '𝟗': 9, '𝟘': 0, '𝟬': 0, '１': 1} {
		d, ok := pyDigit(r)
		assert.True(t, ok, "%q", r)
		assert.Equal(t, want, d, "%q", r)
	}
	for _, r := range []rune{'a', '½', '²', '_', 'Ⅷ'} {
		_, ok := pyDigit(r)
		assert.False(t, ok, "%q", r)
	}
}

package registry_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/registry"
)

type factory func() string

func constant(s string) factory { return func() string { return s } }

func TestRegisterAndLookup(t *testing.T) {
	r := registry.New[factory]("things", "thing plugin")
	r.Register("b", constant("B"))
	r.Register("a", constant("A"))

	f, ok := r.Lookup("a")
	require.True(t, ok)
	assert.Equal(t, "A", f())
	_, ok = r.Lookup("c")
	assert.False(t, ok)
	assert.EqualError(t, r.Unknown("c"), `unknown thing plugin "c" (forgotten import?)`)

	assert.Equal(t, []string{"a", "b"}, r.Names())
	var order []string
	for name, f := range r.All() {
		order = append(order, name+"="+f())
	}
	assert.Equal(t, []string{"a=A", "b=B"}, order)
	for range r.All() {
		break // stopping early is allowed
	}
}

func TestEmptyRegistry(t *testing.T) {
	r := registry.New[factory]("things", "thing plugin")
	assert.Empty(t, r.Names())
	_, ok := r.Lookup("")
	assert.False(t, ok)
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name    string
		factory factory
		want    string
	}{
		{"", constant("x"), "things: Register with an empty name"},
		{"nil", nil, "things: Register factory is nil for nil"},
		{"taken", constant("again"), "things: Register called twice for thing plugin taken"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			r := registry.New[factory]("things", "thing plugin")
			r.Register("taken", constant("first"))
			assert.PanicsWithValue(t, tt.want, func() { r.Register(tt.name, tt.factory) })
			f, ok := r.Lookup("taken")
			require.True(t, ok)
			assert.Equal(t, "first", f(), "a refused registration changes nothing")
		})
	}
	t.Run("nil interface factory", func(t *testing.T) {
		r := registry.New[fmt.Stringer]("things", "thing")
		assert.Panics(t, func() { r.Register("x", nil) })
	})
}

func TestConcurrentUse(t *testing.T) {
	r := registry.New[factory]("things", "thing plugin")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := fmt.Sprint(i)
			r.Register(name, constant(name))
			_, _ = r.Lookup(name)
			_ = r.Names()
			for range r.All() {
			}
		})
	}
	wg.Wait()
	assert.Len(t, r.Names(), 8)
}

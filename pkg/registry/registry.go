// Package registry holds named factories in the manner of database/sql's
// drivers: a plugin package registers its factory from init() under the
// name configuration files use, the program brings it in with a blank
// import, and a name nothing registered is an "unknown … (forgotten
// import?)" error.
package registry

import (
	"fmt"
	"iter"
	"maps"
	"reflect"
	"slices"
	"sync"
)

// Registry is a set of factories of type F by name, safe for concurrent
// use. Make one with New.
type Registry[F any] struct {
	owner string // the registering package, which Register's panics name
	kind  string // what a factory builds, e.g. "bank plugin"

	mu        sync.RWMutex
	factories map[string]F
}

// New returns an empty registry. owner names the package whose Register
// panics ("bank: Register …"); kind is what the factories build, as errors
// name it ("unknown bank plugin …").
func New[F any](owner, kind string) *Registry[F] {
	return &Registry[F]{owner: owner, kind: kind, factories: make(map[string]F)}
}

// Register makes factory available under name. It panics on an empty name,
// a nil factory or a name registered before, all programmer errors.
func (r *Registry[F]) Register(name string, factory F) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "" {
		panic(r.owner + ": Register with an empty name")
	}
	if isNil(factory) {
		panic(r.owner + ": Register factory is nil for " + name)
	}
	if _, dup := r.factories[name]; dup {
		panic(r.owner + ": Register called twice for " + r.kind + " " + name)
	}
	r.factories[name] = factory
}

// isNil reports whether f is nil: F is a func (or interface, pointer, …)
// type, whose nil a comparison with nil through any does not catch.
func isNil(f any) bool {
	v := reflect.ValueOf(f)
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Func, reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Chan:
		return v.IsNil()
	}
	return false
}

// Lookup returns the factory registered as name.
func (r *Registry[F]) Lookup(name string) (F, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.factories[name]
	return f, ok
}

// Unknown is the error for a name nothing registered, naming it as the
// caller knows it: unknown <kind> "<name>" (forgotten import?).
func (r *Registry[F]) Unknown(name string) error {
	return fmt.Errorf("unknown %s %q (forgotten import?)", r.kind, name)
}

// Names returns the registered names, sorted.
func (r *Registry[F]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.factories))
}

// All yields the registered names and factories in name order, as they were
// when All was called.
func (r *Registry[F]) All() iter.Seq2[string, F] {
	r.mu.RLock()
	snapshot := maps.Clone(r.factories)
	r.mu.RUnlock()
	return func(yield func(string, F) bool) {
		for _, name := range slices.Sorted(maps.Keys(snapshot)) {
			if !yield(name, snapshot[name]) {
				return
			}
		}
	}
}

package config

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Name identifies an option by group (section) and name.
type Name struct {
	Group string
	Name  string
}

func (n Name) String() string { return "[" + normalizeGroup(n.Group) + "] " + n.Name }

// Opt declares one option, as an oslo.config Opt does.
type Opt struct {
	Name string
	Type Type
	// Default is nil (Python None), a string (substituted and converted by
	// Type when read, exactly like a value from a file) or the typed value:
	// bool, int or int64, float64, []string.
	Default any
	Help    string
	// Multi options collect every value of every source, in order; their
	// value is a []string for String items, a []any otherwise.
	Multi bool
	// Deprecated names are still read, after the current name in each
	// source. An empty Group means the option's own group.
	Deprecated []Name
	// Secret values are not shown in logs.
	Secret bool
}

// Registry declares options by group, as oslo.config's register_opts does.
// It is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	groups map[string]*optGroup // by normalized name
	order  []string
}

type optGroup struct {
	name  string
	opts  map[string]*Opt
	order []string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{groups: map[string]*optGroup{}}
}

// Register declares opts in group ("" or DefaultGroup for [DEFAULT]). It
// panics on a programming error: an empty name, a nil type, a default the
// type rejects, or a second, different declaration of the same option (the
// same declaration twice is allowed, as in oslo.config).
func (r *Registry) Register(group string, opts ...Opt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	norm := normalizeGroup(group)
	g := r.groups[norm]
	if g == nil {
		g = &optGroup{name: norm, opts: map[string]*Opt{}}
		r.groups[norm] = g
		r.order = append(r.order, norm)
	}
	for _, o := range opts {
		o = normalizeOpt(norm, o)
		if old, ok := g.opts[o.Name]; ok {
			if !reflect.DeepEqual(*old, o) {
				panic(fmt.Sprintf("config: duplicate option %s with a different definition", Name{norm, o.Name}))
			}
			continue
		}
		g.opts[o.Name] = &o
		g.order = append(g.order, o.Name)
	}
}

func normalizeOpt(group string, o Opt) Opt {
	where := Name{group, o.Name}
	if o.Name == "" {
		panic("config: option without a name in group " + group)
	}
	if o.Type == nil {
		panic(fmt.Sprintf("config: option %s has no type", where))
	}
	o.Deprecated = append([]Name(nil), o.Deprecated...)
	for i, d := range o.Deprecated {
		if d.Group == "" {
			d.Group = group
		}
		o.Deprecated[i] = Name{normalizeGroup(d.Group), d.Name}
	}
	def, err := normalizeDefault(o)
	if err != nil {
		panic(fmt.Sprintf("config: option %s: bad default %#v: %v", where, o.Default, err))
	}
	o.Default = def
	return o
}

// normalizeDefault checks a default against the option's type and gives
// integers one Go type. String defaults that use substitution are checked
// when read, since they depend on other options.
func normalizeDefault(o Opt) (any, error) {
	switch d := o.Default.(type) {
	case nil:
		return nil, nil
	case string:
		if !strings.Contains(d, "$") && !o.Multi {
			if _, err := o.Type.Parse(d); err != nil {
				return nil, err
			}
		}
		return d, nil
	case []string:
		if !o.Multi {
			if _, isList := o.Type.(List); !isList {
				return nil, fmt.Errorf("a list default for a %s", o.Type.Name())
			}
		}
		return append([]string{}, d...), nil
	case int:
		return checkTyped(o, int64(d))
	case int64, bool, float64:
		return checkTyped(o, d)
	}
	return nil, fmt.Errorf("unsupported default type %T", o.Default)
}

func checkTyped(o Opt, v any) (any, error) {
	ok := false
	switch t := o.Type.(type) {
	case Bool:
		_, ok = v.(bool)
	case Float:
		_, ok = v.(float64)
	case Int:
		var n int64
		n, ok = v.(int64)
		if ok && t.Bounded && (n < t.Min || n > t.Max) {
			return nil, fmt.Errorf("%d is outside [%d, %d]", n, t.Min, t.Max)
		}
	}
	if !ok || o.Multi {
		return nil, fmt.Errorf("a %T default for a %s", v, o.Type.Name())
	}
	return v, nil
}

// Lookup returns the declaration of an option.
func (r *Registry) Lookup(group, name string) (Opt, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if g := r.groups[normalizeGroup(group)]; g != nil {
		if o := g.opts[name]; o != nil {
			return *o, true
		}
	}
	return Opt{}, false
}

// HasGroup reports whether any option was declared in group.
func (r *Registry) HasGroup(group string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.groups[normalizeGroup(group)] != nil
}

// Groups returns the normalized group names in declaration order.
func (r *Registry) Groups() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.order...)
}

// Opts returns the options of a group in declaration order.
func (r *Registry) Opts(group string) []Opt {
	r.mu.RLock()
	defer r.mu.RUnlock()
	g := r.groups[normalizeGroup(group)]
	if g == nil {
		return nil
	}
	out := make([]Opt, len(g.order))
	for i, n := range g.order {
		out[i] = *g.opts[n]
	}
	return out
}

package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Config is a loaded set of configuration files plus the environment and
// command-line values, read through a Registry. It is immutable and safe for
// concurrent use.
//
// Precedence for one option, as in oslo.config: a command-line Override,
// then the OS_<GROUP>__<OPTION> environment variable, then the last source
// (file) that sets it, then its default. Within one file the last occurrence
// of a key wins; a multi-valued option collects every occurrence of every
// file in order.
type Config struct {
	reg   *Registry
	files []*File
	env   map[string]string
	cli   map[Name][]string
}

// Override is a value given on the command line, as text (it is converted
// like a value from a file).
type Override struct {
	Group, Name, Value string
}

// KeyValue is one key of a section with its value.
type KeyValue struct {
	Key, Value string
}

// New builds a Config from already parsed files, in the order they apply.
// environ is in the form of os.Environ() (nil: the environment is not
// consulted); only OS_* variables are kept.
func New(reg *Registry, files []*File, environ []string, overrides ...Override) *Config {
	c := &Config{reg: reg, files: slices.Clone(files), env: map[string]string{}, cli: map[Name][]string{}}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "OS_") {
			c.env[k] = v
		}
	}
	for _, o := range overrides {
		n := Name{normalizeGroup(o.Group), o.Name}
		c.cli[n] = append(c.cli[n], o.Value)
	}
	return c
}

// Registry returns the registry the config was built with.
func (c *Config) Registry() *Registry { return c.reg }

// Files returns the paths of the files read, in the order they apply.
func (c *Config) Files() []string {
	out := make([]string, len(c.files))
	for i, f := range c.files {
		out[i] = f.Path
	}
	return out
}

// ValueError is an option value that cannot be used: it names where the
// value came from (a file path, an environment variable, the command line or
// the default), the section and key, and the value as written.
type ValueError struct {
	Source  string
	Section string
	Key     string
	Value   string
	Err     error
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%s: [%s] %s = %q: %v", e.Source, e.Section, e.Key, e.Value, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// ErrNoSuchOption is wrapped by errors about options that are not
// registered (Value) or referenced by a "$name" that does not resolve.
var ErrNoSuchOption = errors.New("no such option")

// raw is one value as written, with where it came from.
type raw struct {
	text   string
	source string
	name   Name // the name it was found under (a deprecated one, maybe)
}

func envName(n Name) string {
	return "OS_" + strings.ToUpper(n.Group) + "__" + strings.ToUpper(n.Name)
}

// single finds the value of the first of names that is set, by precedence.
func (c *Config) single(names []Name) (raw, bool) {
	if vs := c.cli[names[0]]; len(vs) > 0 {
		return raw{vs[len(vs)-1], "command line", names[0]}, true
	}
	if v, ok := c.env[envName(names[0])]; ok {
		return raw{v, "environment variable " + envName(names[0]), names[0]}, true
	}
	for i := len(c.files) - 1; i >= 0; i-- {
		for _, n := range names {
			if vs := c.files[i].Values(n.Group, n.Name); len(vs) > 0 {
				return raw{vs[len(vs)-1], c.files[i].Path, n}, true
			}
		}
	}
	return raw{}, false
}

// multi collects every value of names, by precedence: the command line
// replaces everything else, then the environment (one value), then all files.
func (c *Config) multi(names []Name) []raw {
	if vs := c.cli[names[0]]; len(vs) > 0 {
		out := make([]raw, len(vs))
		for i, v := range vs {
			out[i] = raw{v, "command line", names[0]}
		}
		return out
	}
	if v, ok := c.env[envName(names[0])]; ok {
		return []raw{{v, "environment variable " + envName(names[0]), names[0]}}
	}
	var out []raw
	for i := len(c.files) - 1; i >= 0; i-- {
		// oslo.config prepends per name, so within one file the values of a
		// later (deprecated) name come first.
		for _, n := range names {
			vs := c.files[i].Values(n.Group, n.Name)
			add := make([]raw, len(vs))
			for j, v := range vs {
				add[j] = raw{v, c.files[i].Path, n}
			}
			out = append(add, out...)
		}
	}
	return out
}

// IsSet reports whether a registered option has a value from any source
// other than its default.
func (c *Config) IsSet(group, name string) bool {
	n := Name{normalizeGroup(group), name}
	opt, ok := c.reg.Lookup(n.Group, n.Name)
	if !ok {
		return false
	}
	names := append([]Name{n}, opt.Deprecated...)
	if opt.Multi {
		return len(c.multi(names)) > 0
	}
	_, set := c.single(names)
	return set
}

// Value returns the converted value of a registered option (see Type for the
// Go types). Errors are a *ValueError, or wrap ErrNoSuchOption.
func (c *Config) Value(group, name string) (any, error) {
	return c.value(Name{normalizeGroup(group), name}, map[Name]bool{})
}

func (c *Config) value(n Name, visiting map[Name]bool) (any, error) {
	opt, ok := c.reg.Lookup(n.Group, n.Name)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchOption, n)
	}
	if visiting[n] {
		return nil, fmt.Errorf("option %s refers to itself through $ substitution", n)
	}
	visiting[n] = true
	defer delete(visiting, n)
	names := append([]Name{n}, opt.Deprecated...)
	if opt.Multi {
		return c.multiValue(n, opt, names, visiting)
	}
	r, set := c.single(names)
	if !set {
		return c.defaultValue(n, opt, visiting)
	}
	return c.convert(opt.Type, r, n.Group, visiting)
}

func (c *Config) multiValue(n Name, opt Opt, names []Name, visiting map[Name]bool) (any, error) {
	raws := c.multi(names)
	if len(raws) == 0 {
		return c.defaultValue(n, opt, visiting)
	}
	vals := make([]any, len(raws))
	for i, r := range raws {
		v, err := c.convert(opt.Type, r, n.Group, visiting)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return multiResult(opt, vals), nil
}

// convert substitutes and converts one value; "$name" is looked up from
// group, the option's own (even when the value was found under a deprecated
// name of another group), as oslo.config does.
func (c *Config) convert(t Type, r raw, group string, visiting map[Name]bool) (any, error) {
	text, err := c.substitute(r.text, group, visiting, true)
	if err == nil {
		var v any
		if v, err = t.Parse(text); err == nil {
			return v, nil
		}
	}
	return nil, &ValueError{Source: r.source, Section: r.name.Group, Key: r.name.Name, Value: r.text, Err: err}
}

func (c *Config) defaultValue(n Name, opt Opt, visiting map[Name]bool) (any, error) {
	def, ok := opt.Default.(string)
	if !ok {
		if l, isList := opt.Default.([]string); isList {
			if opt.Multi {
				vals := make([]any, len(l))
				for i, s := range l {
					vals[i] = s
				}
				return multiResult(opt, vals), nil
			}
			return slices.Clone(l), nil
		}
		return opt.Default, nil
	}
	r := raw{def, "default", n}
	if !opt.Multi {
		return c.convert(opt.Type, r, n.Group, visiting)
	}
	// oslo.config converts a multi option's string default item by item,
	// i.e. character by character: the usual default '' gives no values.
	text, err := c.substitute(def, n.Group, visiting, true)
	if err != nil {
		return nil, &ValueError{Source: "default", Section: n.Group, Key: n.Name, Value: def, Err: err}
	}
	var vals []any
	for _, ch := range text {
		v, err := c.convert(opt.Type, raw{string(ch), "default", n}, n.Group, visiting)
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	return multiResult(opt, vals), nil
}

func multiResult(opt Opt, vals []any) any {
	if _, isString := opt.Type.(String); !isString {
		return vals
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i], _ = v.(string)
	}
	return out
}

// rawValue is the value of any key, registered or not, as written: command
// line, environment, then the files.
func (c *Config) rawValue(section, key string) (raw, bool) {
	return c.single([]Name{{normalizeGroup(section), key}})
}

// Get returns the value of key in section as written, the last one winning,
// with "$name" references expanded where they resolve (those that do not are
// left as written; the typed getters report them). Defaults of registered
// options are not applied: ok is false when no source sets the key. This is
// the view bank and protection plugins read their own sections through.
func (c *Config) Get(section, key string) (string, bool) {
	r, ok := c.rawValue(section, key)
	if !ok {
		return "", false
	}
	text, _ := c.substitute(r.text, r.name.Group, map[Name]bool{}, false)
	return text, true
}

// GetAll returns every value of key in section across all sources, in order
// (the multi-valued reading oslo.config gives a MultiStrOpt such as a
// provider's "plugin"), with "$name" references expanded as Get does.
func (c *Config) GetAll(section, key string) []string {
	raws := c.multi([]Name{{normalizeGroup(section), key}})
	out := make([]string, len(raws))
	for i, r := range raws {
		out[i], _ = c.substitute(r.text, r.name.Group, map[Name]bool{}, false)
	}
	return out
}

// typed reads key with t; present is false when no source sets it.
func (c *Config) typed(section, key string, t Type) (v any, present bool, err error) {
	r, ok := c.rawValue(section, key)
	if !ok {
		return nil, false, nil
	}
	v, err = c.convert(t, r, r.name.Group, map[Name]bool{})
	if err == nil && v == nil {
		err = &ValueError{Source: r.source, Section: r.name.Group, Key: r.name.Name, Value: r.text,
			Err: errors.New("empty value (oslo.config would give None)")}
	}
	return v, true, err
}

// String returns key of section, def when no source sets it. Unlike Get, a
// "$name" that does not resolve is an error.
func (c *Config) String(section, key, def string) (string, error) {
	v, ok, err := c.typed(section, key, String{})
	if !ok || err != nil {
		return def, err
	}
	return v.(string), nil
}

// Bool returns key of section as an oslo.config boolean, def when unset.
func (c *Config) Bool(section, key string, def bool) (bool, error) {
	v, ok, err := c.typed(section, key, Bool{})
	if !ok || err != nil {
		return def, err
	}
	return v.(bool), nil
}

// Int returns key of section as an oslo.config integer, def when unset. A
// blank value is an error (oslo.config would give None).
func (c *Config) Int(section, key string, def int) (int, error) {
	v, ok, err := c.typed(section, key, Int{Min: minInt, Max: maxInt, Bounded: true})
	if !ok || err != nil {
		return def, err
	}
	return int(v.(int64)), nil
}

const (
	maxInt = int64(^uint(0) >> 1)
	minInt = -maxInt - 1
)

// Float returns key of section as an oslo.config float, def when unset. A
// blank value is an error (oslo.config would give None).
func (c *Config) Float(section, key string, def float64) (float64, error) {
	v, ok, err := c.typed(section, key, Float{})
	if !ok || err != nil {
		return def, err
	}
	return v.(float64), nil
}

// List returns key of section as an oslo.config list, def when unset.
func (c *Config) List(section, key string, def []string) ([]string, error) {
	v, ok, err := c.typed(section, key, List{})
	if !ok || err != nil {
		return def, err
	}
	return v.([]string), nil
}

// Sections returns the normalized names of every section of every file, in
// order of first appearance.
func (c *Config) Sections() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range c.files {
		for _, s := range f.order {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// Section returns every key set in section (by a file, an OS_<SECTION>__*
// environment variable or the command line) with its value, sorted by key,
// "$name" references expanded. It is how a whole section that another
// package interprets, such as [oslo_messaging_rabbit], is handed over.
func (c *Config) Section(sectionName string) ([]KeyValue, error) {
	norm := normalizeGroup(sectionName)
	keys := map[string]bool{}
	for _, f := range c.files {
		for _, k := range f.Keys(norm) {
			keys[k] = true
		}
	}
	prefix := "OS_" + strings.ToUpper(norm) + "__"
	for k := range c.env {
		if name, ok := strings.CutPrefix(k, prefix); ok && name != "" {
			keys[strings.ToLower(name)] = true
		}
	}
	for n := range c.cli {
		if n.Group == norm {
			keys[n.Name] = true
		}
	}
	out := make([]KeyValue, 0, len(keys))
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		v, err := c.String(norm, k, "")
		if err != nil {
			return nil, err
		}
		out = append(out, KeyValue{k, v})
	}
	return out, nil
}

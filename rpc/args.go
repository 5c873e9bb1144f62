package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// Binding keyword arguments into Go structs, with the TypeError texts of
// Python 3.11 calling endpoint.method(ctxt, **args).
//
// The struct's fields are the method's parameters, in signature order: the
// json tag names the keyword (an untagged exported field uses its Go name),
// `json:"-"` skips a field, and the tag `rpc:"optional"` marks a parameter
// with a Python default.

// Bind decodes the call's kwargs into dst, a pointer to a struct. It fails
// as Python would: builtins.TypeError "<Class>.<method>() got an unexpected
// keyword argument 'x'", "... got multiple values for argument 'context'" or
// "... missing 2 required positional arguments: 'a' and 'b'". A value that
// does not fit its field is a TypeError naming the argument.
func (c *Call) Bind(dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("rpc: Bind needs a non-nil pointer to a struct, got %T", dst)
	}
	spec := paramsOf(rv.Elem().Type())
	// Each parameter's value, the last one given as in a Python dict; held
	// on the stack for the usual handful of parameters.
	var held [8]json.RawMessage
	values := held[:0]
	if n := len(spec.params); n <= len(held) {
		values = held[:n]
	} else {
		values = make([]json.RawMessage, n)
	}
	// Keys are checked in order, so the first bad one is the one Python
	// reports first.
	var bad []byte // the first bad key, quoted
	badIsContext := false
	err := splitMembers(c.Args, func(quoted, v []byte) {
		if bad != nil {
			return
		}
		i, isContext := spec.lookup(quoted, c.contextParam)
		switch {
		case isContext:
			bad, badIsContext = quoted, true
		case i < 0:
			bad = quoted
		default:
			values[i] = v
		}
	})
	if err != nil {
		return NewAttributeError(fmt.Sprintf("'%s' object has no attribute 'items'", python.TypeNameJSON(c.Args)))
	}
	qual := func() string { return c.Class + "." + c.Method + "()" }
	if bad != nil {
		if badIsContext {
			return NewTypeError(fmt.Sprintf("%s got multiple values for argument '%s'", qual(), unquoteKey(bad)))
		}
		return NewTypeError(fmt.Sprintf("%s got an unexpected keyword argument '%s'", qual(), unquoteKey(bad)))
	}
	var missing []string
	rawBytes := 0
	for i, p := range spec.params {
		switch {
		case values[i] == nil && !p.optional:
			missing = append(missing, p.name)
		case p.raw:
			rawBytes += len(values[i])
		}
	}
	if len(missing) > 0 {
		return NewTypeError(missingArgsText(qual(), missing))
	}
	// The json.RawMessage parameters are copies, as json.Unmarshal makes
	// them, all in one allocation.
	rawBuf := make([]byte, 0, rawBytes)
	for i, p := range spec.params {
		raw := values[i]
		if raw == nil {
			continue
		}
		field := rv.Elem().FieldByIndex(p.index)
		if p.raw {
			from := len(rawBuf)
			rawBuf = append(rawBuf, raw...)
			field.SetBytes(rawBuf[from:len(rawBuf):len(rawBuf)])
			continue
		}
		if bindString(field, raw) {
			continue
		}
		if err := json.Unmarshal(raw, field.Addr().Interface()); err != nil {
			return NewTypeError(fmt.Sprintf("%s argument '%s': %s", qual(), p.name, bindErrorText(err)))
		}
	}
	return nil
}

// bindString sets a string parameter sent as a string without
// encoding/json's reflection, with the value json.Unmarshal would give. It
// reports whether it did.
func bindString(field reflect.Value, raw json.RawMessage) bool {
	f, ok := field.Addr().Interface().(*string)
	if !ok {
		return false
	}
	s, ok := unquoteJSON(raw)
	if ok {
		*f = string(s)
	}
	return ok
}

// missingArgsText is CPython's format_missing: 'a', 'a' and 'b',
// 'a', 'b', and 'c'.
func missingArgsText(qual string, names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + n + "'"
	}
	var list string
	switch len(quoted) {
	case 1:
		list = quoted[0]
	case 2:
		list = quoted[0] + " and " + quoted[1]
	default:
		list = strings.Join(quoted[:len(quoted)-1], ", ") + ", and " + quoted[len(quoted)-1]
	}
	plural := "s"
	if len(names) == 1 {
		plural = ""
	}
	return fmt.Sprintf("%s missing %d required positional argument%s: %s", qual, len(names), plural, list)
}

func bindErrorText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("expected %s, got a JSON %s", te.Type, te.Value)
	}
	return err.Error()
}

type param struct {
	name     string
	index    []int
	optional bool
	raw      bool // a json.RawMessage, bound as a copy of the value
}

type params struct {
	params []param
	byName map[string]int // index in params
}

// lookup finds the parameter a quoted key names: its index, -1 for none;
// isContext when the key is the method's context parameter.
func (p *params) lookup(quoted []byte, contextParam string) (i int, isContext bool) {
	inner := quoted[1 : len(quoted)-1]
	key := ""
	if bytes.IndexByte(inner, '\\') >= 0 {
		key = unquoteKey(quoted)
		inner = nil
	}
	if contextParam != "" && (string(inner) == contextParam || (inner == nil && key == contextParam)) {
		return -1, true
	}
	var ok bool
	if inner != nil {
		i, ok = p.byName[string(inner)] // no allocation
	} else {
		i, ok = p.byName[key]
	}
	if !ok {
		return -1, false
	}
	return i, false
}

var paramCache sync.Map // reflect.Type -> *params

func paramsOf(t reflect.Type) *params {
	if p, ok := paramCache.Load(t); ok {
		return p.(*params)
	}
	p := &params{byName: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		pr := param{name: name, index: f.Index, optional: hasTagOption(f.Tag.Get("rpc"), "optional"),
			raw: f.Type == reflect.TypeFor[json.RawMessage]()}
		p.byName[name] = len(p.params)
		p.params = append(p.params, pr)
	}
	paramCache.Store(t, p)
	return p
}

func hasTagOption(tag, opt string) bool {
	for _, o := range strings.Split(tag, ",") {
		if strings.TrimSpace(o) == opt {
			return true
		}
	}
	return false
}

// objectMembers decodes a JSON object keeping its key order, which decides
// which bad keyword Python reports first.
func objectMembers(raw json.RawMessage) ([]string, map[string]json.RawMessage, error) {
	var keys []string
	values := map[string]json.RawMessage{}
	err := splitObject(raw, func(k string, v []byte) {
		if _, seen := values[k]; !seen {
			keys = append(keys, k)
		}
		values[k] = v
	})
	if err != nil {
		return nil, nil, err
	}
	return keys, values, nil
}

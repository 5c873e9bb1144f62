package rpc

import (
	"context"
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

// Handle adapts a handler that takes its arguments as a struct T (see Bind).
func Handle[T any](fn func(ctx context.Context, call *Call, args T) (any, error)) HandlerFunc {
	return func(ctx context.Context, call *Call) (any, error) {
		var args T
		if err := call.Bind(&args); err != nil {
			return nil, err
		}
		return fn(ctx, call, args)
	}
}

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
	keys, values, err := objectMembers(c.Args)
	if err != nil {
		return NewAttributeError(fmt.Sprintf("'%s' object has no attribute 'items'", python.TypeNameJSON(c.Args)))
	}
	qual := c.Class + "." + c.Method + "()"
	for _, k := range keys {
		if k == c.contextParam && c.contextParam != "" {
			return NewTypeError(fmt.Sprintf("%s got multiple values for argument '%s'", qual, k))
		}
		if _, ok := spec.byName[k]; !ok {
			return NewTypeError(fmt.Sprintf("%s got an unexpected keyword argument '%s'", qual, k))
		}
	}
	var missing []string
	for _, p := range spec.params {
		if _, ok := values[p.name]; !ok && !p.optional {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		return NewTypeError(missingArgsText(qual, missing))
	}
	for _, p := range spec.params {
		raw, ok := values[p.name]
		if !ok {
			continue
		}
		field := rv.Elem().FieldByIndex(p.index)
		if bindDirect(field, raw) {
			continue
		}
		if err := json.Unmarshal(raw, field.Addr().Interface()); err != nil {
			return NewTypeError(fmt.Sprintf("%s argument '%s': %s", qual, p.name, bindErrorText(err)))
		}
	}
	return nil
}

// bindDirect sets the two commonest kinds of parameter without
// encoding/json's reflection, with the value json.Unmarshal would give: a
// json.RawMessage (raw is valid JSON, checked with the whole message) and a
// string sent as one. It reports whether it did.
func bindDirect(field reflect.Value, raw json.RawMessage) bool {
	switch f := field.Addr().Interface().(type) {
	case *json.RawMessage:
		*f = append(json.RawMessage(nil), raw...)
		return true
	case *string:
		s, ok := unquoteJSON(raw)
		if ok {
			*f = string(s)
		}
		return ok
	}
	return false
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
}

type params struct {
	params []param
	byName map[string]param
}

var paramCache sync.Map // reflect.Type -> *params

func paramsOf(t reflect.Type) *params {
	if p, ok := paramCache.Load(t); ok {
		return p.(*params)
	}
	p := &params{byName: map[string]param{}}
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
		pr := param{name: name, index: f.Index, optional: hasTagOption(f.Tag.Get("rpc"), "optional")}
		p.params = append(p.params, pr)
		p.byName[name] = pr
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

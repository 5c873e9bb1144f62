package karbor

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// Field decoding with oslo.versionedobjects' coercion rules, on values
// decoded with json.Number. Every function names the field in its errors.

var errNull = errors.New("cannot be None")

// pyString is the String field's coerce: str() of a number, boolean or
// string; lists and dicts are refused.
func pyString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool, json.Number:
		return python.Str(v), nil
	}
	return "", fmt.Errorf("a string is required, not a %s", python.TypeName(v))
}

type fieldReader struct {
	object string
	data   map[string]any
	err    error
}

func (r *fieldReader) fail(field string, err error) {
	if r.err == nil {
		r.err = &ObjectError{Object: r.object, Field: field, Err: err}
	}
}

// str reads a String or UUID field. Absent reads as "".
func (r *fieldReader) str(field string, nullable bool) string {
	v, ok := r.data[field]
	if !ok {
		return ""
	}
	if v == nil {
		if !nullable {
			r.fail(field, errNull)
		}
		return ""
	}
	s, err := pyString(v)
	if err != nil {
		r.fail(field, err)
	}
	return s
}

// datetime reads a nullable DateTime field ("YYYY-MM-DDTHH:MM:SSZ").
func (r *fieldReader) datetime(field string) *time.Time {
	v, ok := r.data[field]
	if !ok || v == nil {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		r.fail(field, fmt.Errorf("a datetime string is required, not a %s", python.TypeName(v)))
		return nil
	}
	t, err := ParseISOTime(s)
	if err != nil {
		r.fail(field, err)
		return nil
	}
	return &t
}

// boolean reads a Boolean field: Python truthiness, null is the default
// false.
func (r *fieldReader) boolean(field string) bool {
	return python.Truth(r.data[field])
}

// dictOfStrings reads a DictOfStringsField: an object of non-null strings.
func (r *fieldReader) dictOfStrings(field string, nullable bool) map[string]string {
	v, ok := r.data[field]
	if !ok {
		return nil
	}
	m, err := stringDict(v, false)
	if err == errNull && nullable {
		return nil
	}
	if err != nil {
		r.fail(field, err)
	}
	return stringsOnly(m)
}

// parameters reads a DictOfDictOfStringsField: resource type (or
// "type#id") → object of strings (or null) whose leaves are coerced with
// str(), so true arrives as "True" and 5 as "5".
func (r *fieldReader) parameters(field string, nullable bool) Parameters {
	v, ok := r.data[field]
	if !ok {
		return nil
	}
	outer, isDict := v.(map[string]any)
	switch {
	case v == nil && nullable:
		return nil
	case v == nil:
		r.fail(field, errNull)
		return nil
	case !isDict:
		r.fail(field, fmt.Errorf("a dict is required, not a %s", python.TypeName(v)))
		return nil
	}
	out := make(Parameters, len(outer))
	for k, inner := range outer {
		if inner == nil {
			out[k] = nil
			continue
		}
		m, err := stringDict(inner, false)
		if err != nil {
			r.fail(fmt.Sprintf("%s[%q]", field, k), err)
			return nil
		}
		out[k] = stringsOnly(m)
	}
	return out
}

// stringDict coerces an object's values to strings; with nullable values,
// null stays nil.
func stringDict(v any, nullableValues bool) (map[string]*string, error) {
	if v == nil {
		return nil, errNull
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a dict is required, not a %s", python.TypeName(v))
	}
	out := make(map[string]*string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] == nil {
			if !nullableValues {
				return nil, fmt.Errorf("[%q] %w", k, errNull)
			}
			out[k] = nil
			continue
		}
		s, err := pyString(m[k])
		if err != nil {
			return nil, fmt.Errorf("[%q]: %w", k, err)
		}
		out[k] = &s
	}
	return out, nil
}

func stringsOnly(m map[string]*string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = *v
	}
	return out
}

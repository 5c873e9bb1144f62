package karbor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// Primitive is a versioned object as oslo.versionedobjects serializes it:
//
//	{"karbor_object.name": "Plan", "karbor_object.namespace": "karbor",
//	 "karbor_object.version": "1.0", "karbor_object.data": {...},
//	 "karbor_object.changes": [...]}
type Primitive struct {
	Name      string
	Namespace string
	Version   string
	// Data holds the fields that are set, decoded with json.Number for
	// numbers.
	Data map[string]any
	// Changes lists the fields the sender had modified; informative only.
	Changes []string
}

// ObjectError is a primitive that cannot be decoded: not an object of the
// expected class, an unsupported version, or a field of the wrong type.
type ObjectError struct {
	Object string // the expected class, e.g. "Plan"
	Field  string // "" for the envelope
	Err    error
}

func (e *ObjectError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s primitive: %v", e.Object, e.Err)
	}
	return fmt.Sprintf("%s primitive: field %q: %v", e.Object, e.Field, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }

// IsPrimitive reports whether a decoded JSON value looks like a versioned
// object (the test oslo.versionedobjects' serializer applies to arguments).
func IsPrimitive(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[ObjectSerialNamespace+".name"]
	return ok
}

// DecodePrimitive decodes the envelope of a versioned object of class want
// (in karbor's namespace, at a version compatible with 1.0, the only version
// of karbor's objects).
func DecodePrimitive(raw json.RawMessage, want string) (*Primitive, error) {
	fail := func(format string, args ...any) (*Primitive, error) {
		return nil, &ObjectError{Object: want, Err: fmt.Errorf(format, args...)}
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return fail("%v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fail("not a JSON object but %s", python.TypeName(v))
	}
	field := func(name string) (string, error) {
		s, ok := m[ObjectSerialNamespace+"."+name].(string)
		if !ok {
			return "", fmt.Errorf("%q is missing or not a string", ObjectSerialNamespace+"."+name)
		}
		return s, nil
	}
	p := &Primitive{}
	for _, f := range []struct {
		name string
		into *string
	}{{"name", &p.Name}, {"namespace", &p.Namespace}, {"version", &p.Version}} {
		if *f.into, err = field(f.name); err != nil {
			return fail("%v", err)
		}
	}
	if p.Namespace != ObjectProjectNamespace {
		return fail("unsupported object type %s.%s", p.Namespace, p.Name)
	}
	if p.Name != want {
		return fail("got a %s object", p.Name)
	}
	if !compatibleVersion(p.Version) {
		return fail("version %s of %s is not compatible with 1.0", p.Version, p.Name)
	}
	if p.Data, ok = m[ObjectSerialNamespace+".data"].(map[string]any); !ok {
		return fail("%q is missing or not an object", ObjectSerialNamespace+".data")
	}
	if changes, present := m[ObjectSerialNamespace+".changes"]; present {
		list, ok := changes.([]any)
		if !ok {
			return fail("%q is not a list", ObjectSerialNamespace+".changes")
		}
		for _, c := range list {
			s, ok := c.(string)
			if !ok {
				return fail("%q holds a %s", ObjectSerialNamespace+".changes", python.TypeName(c))
			}
			p.Changes = append(p.Changes, s)
		}
	}
	return p, nil
}

// compatibleVersion is oslo's is_compatible(version, "1.0"): same major,
// not newer.
func compatibleVersion(v string) bool {
	parts := strings.Split(v, ".")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || strings.HasPrefix(p, "+") {
			return false
		}
		nums[i] = n
	}
	if nums[0] != 1 {
		return false
	}
	for _, n := range nums[1:] {
		if n != 0 {
			return false
		}
	}
	return len(nums) <= 2
}

func decodeJSON(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

package python

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// Truth is Python's bool(v) of a JSON-like value: None, False, zero, "", []
// and {} are false; anything else is true.
func Truth(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0 // too big for a float64 is not zero
	case float64:
		return v != 0
	case float32:
		return v != 0
	case []any:
		return len(v) > 0
	case []string:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return !rv.IsZero()
	}
	return true
}

// TruthJSON is Python's bool(json.loads(raw)) for raw holding one JSON value
// (as a json.RawMessage does once decoded); absent (no bytes) is None, so
// false. It reads no further than it needs to.
func TruthJSON(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return false
	}
	switch raw[0] {
	case 'n', 'f':
		return false
	case 't':
		return true
	case '"':
		return len(raw) > 2
	case '[', '{':
		return len(raw) > 2 && len(bytes.TrimSpace(raw[1:len(raw)-1])) > 0
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return err != nil || f != 0 // too big for a float64 is not zero
}

// TypeName is the name of the Python type of a JSON-like value, as error
// texts show it ("NoneType", "bool", "int", "float", "str", "list",
// "dict"); a Go value with no Python counterpart gives its Go type.
func TypeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case json.Number:
		return numberTypeName(v)
	case float64, float32:
		return "float"
	case []any, []string:
		return "list"
	case map[string]any:
		return "dict"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "int"
	}
	return fmt.Sprintf("%T", v)
}

// TypeNameJSON is TypeName(json.loads(raw)) for raw holding one JSON value;
// absent (no bytes) is None.
func TypeNameJSON(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "NoneType"
	}
	switch raw[0] {
	case 'n':
		return "NoneType"
	case 't', 'f':
		return "bool"
	case '"':
		return "str"
	case '[':
		return "list"
	case '{':
		return "dict"
	}
	return numberTypeName(raw)
}

// numberTypeName: json.loads makes an int of a number literal without a
// fraction or exponent, a float of any other.
func numberTypeName[T ~string | ~[]byte](literal T) string {
	if isFloatLiteral(literal) {
		return "float"
	}
	return "int"
}

func isFloatLiteral[T ~string | ~[]byte](literal T) bool {
	for i := range len(literal) {
		switch literal[i] {
		case '.', 'e', 'E':
			return true
		}
	}
	return false
}

package manager

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/python"
)

// The Python manager receives its arguments as whatever JSON decoded to and
// tests them with Python's truthiness and attribute lookups. These helpers
// (with pkg/python's TruthJSON, TypeNameJSON and StrJSON) reproduce that on
// raw JSON, so an argument of an unexpected type fails with the exception
// Python raises, not with a Go decoding error.

// isNone reports whether an argument is absent or JSON null (Python None).
func isNone(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// noAttribute is the AttributeError of calling a dict method on a value that
// is not a dict: "'NoneType' object has no attribute 'get'".
func noAttribute(raw json.RawMessage, attr string) error {
	return karbor.AttributeError(fmt.Sprintf("'%s' object has no attribute '%s'", python.TypeNameJSON(raw), attr))
}

// get returns the value of key in members (nil when absent).
func get(ms []python.Member, key string) json.RawMessage {
	for _, m := range ms {
		if m.Key == key {
			return m.Value
		}
	}
	return nil
}

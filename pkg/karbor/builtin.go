package karbor

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// BuiltinModule is the Python module of builtin exceptions.
const BuiltinModule = "builtins"

// BuiltinError is a Python builtin exception (KeyError, ValueError, …) for
// the places where the Python service raises one and the API re-creates it
// as such (a TypeError becomes HTTP 400, the others 500).
type BuiltinError struct {
	Class string
	Args  []any
}

// NewBuiltin returns the builtin exception class(*args).
func NewBuiltin(class string, args ...any) *BuiltinError {
	return &BuiltinError{Class: class, Args: args}
}

// KeyError is KeyError(key); its message is the repr of the key, as in
// Python: KeyError("properties") reads 'properties'.
func KeyError(key any) *BuiltinError { return NewBuiltin("KeyError", key) }

// ValueError is ValueError(message).
func ValueError(message string) *BuiltinError { return NewBuiltin("ValueError", message) }

// TypeError is TypeError(message).
func TypeError(message string) *BuiltinError { return NewBuiltin("TypeError", message) }

// AttributeError is AttributeError(message).
func AttributeError(message string) *BuiltinError { return NewBuiltin("AttributeError", message) }

// RuntimeError is RuntimeError(message).
func RuntimeError(message string) *BuiltinError { return NewBuiltin("RuntimeError", message) }

// NoneAttributeError is what Python raises when code calls a method on None,
// e.g. filters.get(...) with filters null: "'NoneType' object has no
// attribute 'get'".
func NoneAttributeError(attr string) *BuiltinError {
	return AttributeError("'NoneType' object has no attribute " + python.ReprString(attr))
}

// UnsupportedCheckpointVersion is the RuntimeError raised when index.json
// has a version other than 0.9.
func UnsupportedCheckpointVersion() *BuiltinError {
	return RuntimeError("Checkpoint was created in an unsupported version")
}

// Error is Python's str(exception); KeyError's is the repr of its key.
func (e *BuiltinError) Error() string {
	if len(e.Args) == 1 && e.Class == "KeyError" {
		return python.Repr(e.Args[0])
	}
	return python.ExceptionStr(e.Args)
}

// PythonRepr is Python's repr(exception), e.g. KeyError('properties').
func (e *BuiltinError) PythonRepr() string {
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = python.Repr(a)
	}
	return e.Class + "(" + strings.Join(parts, ", ") + ")"
}

// PythonModule is "builtins".
func (e *BuiltinError) PythonModule() string { return BuiltinModule }

// PythonClass is the builtin's name.
func (e *BuiltinError) PythonClass() string { return e.Class }

// PythonArgs are the exception's args.
func (e *BuiltinError) PythonArgs() []any {
	out := make([]any, len(e.Args))
	for i, a := range e.Args {
		out[i] = jsonSafe(a)
	}
	return out
}

// PythonKwargs is empty: builtins have no kwargs attribute.
func (e *BuiltinError) PythonKwargs() map[string]any { return map[string]any{} }

// Python's strptime pattern for "%Y-%m-%d".
var strptimeDate = regexp.MustCompile(`^(\d\d\d\d)-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])`)

// ParseDate is datetime.strptime(value, "%Y-%m-%d") as the manager applies
// it to the start_date/end_date filters: it accepts unpadded month and day
// (and a space-padded day) and fails with Python's ValueError messages.
func ParseDate(value string) (time.Time, error) {
	m := strptimeDate.FindStringSubmatch(value)
	if m == nil {
		return time.Time{}, ValueError("time data " + python.ReprString(value) + " does not match format '%Y-%m-%d'")
	}
	if rest := value[len(m[0]):]; rest != "" {
		return time.Time{}, ValueError("unconverted data remains: " + rest)
	}
	year, _ := strconv.Atoi(m[1])
	month, _ := strconv.Atoi(m[2])
	day, _ := strconv.Atoi(strings.TrimSpace(m[3]))
	if year < 1 {
		return time.Time{}, ValueError("year " + strconv.Itoa(year) + " is out of range")
	}
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day {
		return time.Time{}, ValueError("day is out of range for month")
	}
	return t, nil
}

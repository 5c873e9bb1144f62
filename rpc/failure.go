package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// RemoteException is implemented by errors that choose the Python exception
// the caller sees. The failure sent for it carries PythonModule and
// PythonClass, Error() as the message, PythonArgs as the exception's args and
// PythonKwargs as its kwargs, exactly as oslo's serialize_remote_exception.
// A Python client rebuilds it as cls(*args, **kwargs) when the module is in
// its allowed_remote_exmods (or is builtins), else as RemoteError.
//
// Errors are found with errors.As, so a wrapped RemoteException keeps its
// face. Any other error becomes builtins.RuntimeError with err.Error().
type RemoteException interface {
	error
	PythonModule() string
	PythonClass() string
	PythonArgs() []any
	PythonKwargs() map[string]any
}

// Module names of the exceptions oslo itself raises.
const (
	BuiltinsModule   = "builtins"
	DispatcherModule = "oslo_messaging.rpc.dispatcher"
	// kombuExceptionsModule raises the message decoding errors.
	kombuExceptionsModule = "kombu.exceptions"
)

// Exception is a Python exception built in Go: the server-side face of the
// errors oslo or the Python interpreter would raise.
type Exception struct {
	Module  string
	Class   string
	Message string // str(exc)
	Args    []any
	Kwargs  map[string]any
}

var _ RemoteException = (*Exception)(nil)

func (e *Exception) Error() string                { return e.Message }
func (e *Exception) PythonModule() string         { return e.Module }
func (e *Exception) PythonClass() string          { return e.Class }
func (e *Exception) PythonArgs() []any            { return e.Args }
func (e *Exception) PythonKwargs() map[string]any { return e.Kwargs }

// NewException builds module.class(*args) with Python's str(): "" without
// args, str(arg) with one, the tuple's repr with more.
func NewException(module, class string, args ...any) *Exception {
	return &Exception{Module: module, Class: class, Message: python.ExceptionStr(args), Args: args, Kwargs: map[string]any{}}
}

// NewBuiltinError builds a builtins exception, e.g.
// NewBuiltinError("ValueError", "bad value", 42) ("('bad value', 42)").
func NewBuiltinError(class string, args ...any) *Exception {
	return NewException(BuiltinsModule, class, args...)
}

// NewKeyError is builtins.KeyError(key), whose str() is repr(key).
func NewKeyError(key any) *Exception {
	e := NewBuiltinError("KeyError", key)
	e.Message = python.Repr(key)
	return e
}

// NewValueError is builtins.ValueError(*args).
func NewValueError(args ...any) *Exception { return NewBuiltinError("ValueError", args...) }

// NewTypeError is builtins.TypeError(*args).
func NewTypeError(args ...any) *Exception { return NewBuiltinError("TypeError", args...) }

// NewAttributeError is builtins.AttributeError(*args).
func NewAttributeError(args ...any) *Exception { return NewBuiltinError("AttributeError", args...) }

// NoSuchMethod is oslo's dispatcher error for a method no compatible
// endpoint exposes.
func NoSuchMethod(method string) *Exception {
	return NewException(DispatcherModule, "NoSuchMethod", "Endpoint does not support RPC method "+method)
}

// UnsupportedVersion is oslo's dispatcher error when no endpoint accepts the
// request's namespace and version. version and method are the raw request
// values (nil: None); a falsy method is left out of the text, as in Python.
func UnsupportedVersion(version, method json.RawMessage) *Exception {
	msg := "Endpoint does not support RPC version " + python.StrJSON(version)
	if python.TruthJSON(method) {
		msg += ". Attempted method: " + python.StrJSON(method)
	}
	return NewException(DispatcherModule, "UnsupportedVersion", msg)
}

// remoteSuffix is what a Python client appends to rebuilt exception classes.
const remoteSuffix = "_Remote"

// failure is the wire form of a Python exception (oslo's failure dict).
type failure struct {
	Class     string          `json:"class"`
	Module    string          `json:"module"`
	Message   string          `json:"message"`
	Traceback []string        `json:"tb"`
	Args      json.RawMessage `json:"args"`
	Kwargs    json.RawMessage `json:"kwargs"`
}

// exceptionClass is the class of the exception failureFor makes of err.
func exceptionClass(err error) string {
	var re RemoteException
	if !errors.As(err, &re) {
		return "RuntimeError"
	}
	if class := re.PythonClass(); strings.HasSuffix(class, remoteSuffix) && strings.HasSuffix(re.PythonModule(), remoteSuffix) {
		return strings.TrimSuffix(class, remoteSuffix)
	}
	return re.PythonClass()
}

// failureFor gives err its Python face; where names the Go handler, as the
// last frame of the synthetic traceback.
func failureFor(err error, where string) failure {
	f := failure{Module: BuiltinsModule, Class: "RuntimeError", Message: err.Error()}
	var args []any
	var kwargs map[string]any
	var re RemoteException
	if errors.As(err, &re) {
		f.Module, f.Class, f.Message = re.PythonModule(), re.PythonClass(), re.Error()
		args, kwargs = re.PythonArgs(), re.PythonKwargs()
		if strings.HasSuffix(f.Class, remoteSuffix) && strings.HasSuffix(f.Module, remoteSuffix) {
			f.Class = strings.TrimSuffix(f.Class, remoteSuffix)
			f.Module = strings.TrimSuffix(f.Module, remoteSuffix)
		}
	} else {
		args = []any{f.Message}
	}
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	var errArgs, errKwargs error
	f.Args, errArgs = EncodeJSON(args)
	f.Kwargs, errKwargs = EncodeJSON(kwargs)
	if errArgs != nil || errKwargs != nil {
		// Keep the failure deliverable; the client still gets class and text.
		f.Args, _ = EncodeJSON([]any{f.Message})
		f.Kwargs = json.RawMessage("{}")
	}
	f.Traceback = syntheticTraceback(f, where)
	return f
}

// syntheticTraceback imitates traceback.format_exception's shape; Python
// clients only append it to the message text.
func syntheticTraceback(f failure, where string) []string {
	last := f.Class
	if f.Module != BuiltinsModule {
		last = f.Module + "." + f.Class
	}
	if f.Message != "" {
		last += ": " + f.Message
	}
	return []string{
		"Traceback (most recent call last):\n",
		fmt.Sprintf("  File %q, in %s\n", programName(), where),
		last + "\n",
	}
}

func programName() string { return filepath.Base(os.Args[0]) + " (Go)" }

// encodeFailure is the failure as the JSON string a reply carries.
func encodeFailure(f failure) ([]byte, error) {
	return EncodeJSON(f)
}

// RemoteError is a failure received from a remote server: the Python
// exception it raised, as oslo's deserialize_remote_exception sees it.
type RemoteError struct {
	Exception
	Traceback []string // the remote tb lines
}

var _ RemoteException = (*RemoteError)(nil)

func (e *RemoteError) Error() string {
	name := e.Class
	if e.Module != BuiltinsModule && e.Module != "exceptions" && e.Module != "" {
		name = e.Module + "." + e.Class
	}
	return "rpc: remote " + name + ": " + e.Message
}

// decodeFailure parses a reply's failure member (a JSON string holding the
// failure object), as oslo's client does. A failure that is not a string or
// not valid JSON is an error, as it is for the Python client.
func decodeFailure(raw json.RawMessage) (*RemoteError, error) {
	text, ok := jsonString(raw)
	if !ok {
		return nil, fmt.Errorf("rpc: reply failure is %.40s, not a JSON string", raw)
	}
	var f struct {
		Class     string         `json:"class"`
		Module    string         `json:"module"`
		Message   string         `json:"message"`
		Traceback []string       `json:"tb"`
		Args      []any          `json:"args"`
		Kwargs    map[string]any `json:"kwargs"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("rpc: reply failure is not a failure object: %w", err)
	}
	if f.Args == nil {
		f.Args = []any{}
	}
	if f.Kwargs == nil {
		f.Kwargs = map[string]any{}
	}
	return &RemoteError{
		Exception: Exception{Module: f.Module, Class: f.Class, Message: f.Message, Args: f.Args, Kwargs: f.Kwargs},
		Traceback: f.Traceback,
	}, nil
}

package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// dispatcher routes requests to endpoints by oslo's RPCDispatcher rules.
type dispatcher struct {
	endpoints []*Endpoint
}

// PanicError is what a handler panic becomes: a failure for the caller
// (builtins.RuntimeError) and an error with the stack for the log.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// route finds the handler for req, or returns the exception oslo's
// dispatch raises before it calls anything:
//
//	for each endpoint accepting the namespace and a compatible version:
//	    if it has the (public) method: call it
//	    found_compatible = True
//	raise NoSuchMethod if found_compatible else UnsupportedVersion
func (d *dispatcher) route(req *request) (HandlerFunc, *Call, error) {
	version := req.Version
	if version == nil {
		version = json.RawMessage(`"1.0"`)
	}
	foundCompatible := false
	for _, ep := range d.endpoints {
		if !ep.acceptsNamespace(req.Namespace) {
			continue
		}
		ok, err := endpointAccepts(ep, version)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		method, isString := unquoteJSON(req.Method)
		if !isString {
			return nil, nil, NewTypeError(fmt.Sprintf("attribute name must be string, not '%s'", python.TypeNameJSON(req.Method)))
		}
		// Handle refuses names oslo's access policy hides ("_…"), so a
		// method found is one oslo would call.
		if m := ep.methods[string(method)]; m.h != nil {
			args := req.Args
			if args == nil {
				args = json.RawMessage("{}")
			} else if t := python.TypeNameJSON(args); t != "dict" {
				return nil, nil, NewAttributeError(fmt.Sprintf("'%s' object has no attribute 'items'", t))
			}
			return m.h, &Call{Method: m.name, Class: ep.class, Context: req.Context, Args: args, contextParam: ep.contextParam}, nil
		}
		foundCompatible = true
	}
	if foundCompatible {
		return nil, nil, NoSuchMethod(python.StrJSON(req.Method))
	}
	return nil, nil, UnsupportedVersion(version, req.Method)
}

// endpointAccepts is RPCDispatcher._is_compatible; a request version that is
// null is never compatible, one that is not a string fails as str.split
// would on it.
func endpointAccepts(ep *Endpoint, version json.RawMessage) (bool, error) {
	if string(version) == "null" {
		return false, nil
	}
	v, ok := jsonString(version)
	if !ok {
		return false, NewAttributeError(fmt.Sprintf("'%s' object has no attribute 'split'", python.TypeNameJSON(version)))
	}
	return versionIsCompatible(ep.version, v)
}

// dispatch routes and runs req; a handler panic becomes a *PanicError.
func (d *dispatcher) dispatch(ctx context.Context, req *request) (call *Call, result any, err error) {
	h, call, err := d.route(req)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if v := recover(); v != nil {
			result, err = nil, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	result, err = h(ctx, call)
	return call, result, err
}

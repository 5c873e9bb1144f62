package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// The Go twin of the Python demo server the fixtures were captured from
// (/srv/rpc-demo/server.py): class Endpoint (version 1.0, null namespace)
// and an endpoint in namespace "other" at version 2.3.

// karborError stands for pkg/karbor's exceptions: it implements
// RemoteException structurally, as they will.
type karborError struct {
	class  string
	msg    string
	kwargs map[string]any
}

func (e *karborError) Error() string                { return e.msg }
func (e *karborError) PythonModule() string         { return "karbor.exception" }
func (e *karborError) PythonClass() string          { return e.class }
func (e *karborError) PythonArgs() []any            { return []any{e.msg} }
func (e *karborError) PythonKwargs() map[string]any { return e.kwargs }

func providerNotFound(id string) error {
	return &karborError{class: "ProviderNotFound", msg: fmt.Sprintf("Provider %s could not be found.", id),
		kwargs: map[string]any{"provider_id": id, "code": 404}}
}

func checkpointNotFound(id string) error {
	return &karborError{class: "CheckpointNotFound", msg: fmt.Sprintf("Checkpoint %s could not be found.", id),
		kwargs: map[string]any{"checkpoint_id": id, "code": 404}}
}

type demoOptions struct {
	// sleepUnit is one "second" of the slow method (0 in golden tests).
	sleepUnit time.Duration
	// onCall, if set, sees every call's ctx and Call before it runs.
	onCall func(ctx context.Context, c *Call)
}

func demoEndpoints(o demoOptions) []*Endpoint {
	wrap := func(h HandlerFunc) HandlerFunc {
		if o.onCall == nil {
			return h
		}
		return func(ctx context.Context, c *Call) (any, error) {
			o.onCall(ctx, c)
			return h(ctx, c)
		}
	}
	main := NewEndpoint("Endpoint", "1.0").
		Handle("echo", wrap(func(ctx context.Context, c *Call) (any, error) {
			return map[string]any{
				"echo":           c.Args,
				"ctx_user_id":    contextValue(c.Context, "user_id"),
				"ctx_request_id": contextValue(c.Context, "request_id"),
			}, nil
		})).
		Handle("ret_none", wrap(bound(func(ctx context.Context, c *Call, _ struct{}) (any, error) { return nil, nil }))).
		Handle("ret_str", wrap(func(context.Context, *Call) (any, error) { return "hello", nil })).
		Handle("ret_list", wrap(func(context.Context, *Call) (any, error) {
			return []any{1, "two", 3.5, true, nil, map[string]string{"k": "v"}}, nil
		})).
		Handle("slow", wrap(bound(func(ctx context.Context, c *Call, a struct {
			Seconds float64 `json:"seconds"`
		}) (any, error) {
			select {
			case <-time.After(time.Duration(a.Seconds * float64(o.sleepUnit))):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return fmt.Sprintf("slept %v", a.Seconds), nil
		}))).
		Handle("fail", wrap(bound(func(ctx context.Context, c *Call, a struct {
			ProviderID string `json:"provider_id"`
		}) (any, error) {
			return nil, fmt.Errorf("showing provider: %w", providerNotFound(a.ProviderID))
		}))).
		Handle("fail_expected", wrap(bound(func(ctx context.Context, c *Call, a struct {
			CheckpointID string `json:"checkpoint_id"`
		}) (any, error) {
			return nil, checkpointNotFound(a.CheckpointID)
		}))).
		Handle("fail_builtin", wrap(func(context.Context, *Call) (any, error) {
			return nil, NewValueError("bad value", 42)
		})).
		Handle("fail_keyerror", wrap(func(context.Context, *Call) (any, error) {
			return nil, NewKeyError("missing")
		})).
		Handle("fail_plain", wrap(func(context.Context, *Call) (any, error) {
			return nil, fmt.Errorf("disk on fire")
		})).
		Handle("panic", wrap(func(context.Context, *Call) (any, error) {
			panic("handler bug")
		})).
		Handle("unmarshalable", wrap(func(context.Context, *Call) (any, error) {
			return make(chan int), nil
		}))
	other := NewEndpoint("OtherEndpoint", "2.3", InNamespace("other")).
		Handle("ns_echo", wrap(bound(func(ctx context.Context, c *Call, a struct {
			X json.RawMessage `json:"x"`
		}) (any, error) {
			return map[string]any{"ns": "other", "x": a.X}, nil
		})))
	return []*Endpoint{main, other}
}

// bound adapts a handler that takes its arguments as a struct T, bound by
// Call.Bind as the manager binds its endpoints' arguments.
func bound[T any](fn func(ctx context.Context, call *Call, args T) (any, error)) HandlerFunc {
	return func(ctx context.Context, call *Call) (any, error) {
		var args T
		if err := call.Bind(&args); err != nil {
			return nil, err
		}
		return fn(ctx, call, args)
	}
}

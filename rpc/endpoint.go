package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// HandlerFunc serves one RPC method. The returned value is the reply's
// result (anything encoding/json can marshal; json.RawMessage is sent
// as is). A returned error becomes the reply's failure (see RemoteException).
type HandlerFunc func(ctx context.Context, call *Call) (any, error)

// Call is one RPC request as a handler sees it.
type Call struct {
	// Method is the RPC method name.
	Method string
	// Class is the endpoint's Python class name (for TypeError texts).
	Class string
	// Context is the caller's request context: every _context_* member of
	// the message, prefix stripped, values as sent, in message order. A
	// list, not a map: a karbor context has some twenty members, read once
	// in a single pass, and building a map of them cost more than every
	// later read.
	Context []ContextMember
	// Args is the kwargs object (never nil: "{}" when the message has none).
	Args json.RawMessage

	contextParam string
}

// ContextMember is one _context_<Key> member of a request.
type ContextMember struct {
	Key   string
	Value json.RawMessage
}

// RequestID is the caller's request_id context value ("" if none).
func (c *Call) RequestID() string { return c.ContextString("request_id") }

// ContextString returns a string context value, "" when absent or not a
// string.
func (c *Call) ContextString(key string) string {
	s, _ := jsonString(contextValue(c.Context, key))
	return s
}

// contextValue is the value of key in members (nil when absent): the last
// one, as in the dict Python builds.
func contextValue(members []ContextMember, key string) json.RawMessage {
	for i := len(members) - 1; i >= 0; i-- {
		if members[i].Key == key {
			return members[i].Value
		}
	}
	return nil
}

// Endpoint is a set of RPC methods with oslo's endpoint Target: a namespace
// (null unless InNamespace is given) and a version ("1.0" unless given).
type Endpoint struct {
	class        string
	version      string
	namespace    *string
	contextParam string
	methods      map[string]namedHandler
}

// namedHandler is a registered method: its handler, and its name as
// registered, which every call of it shares instead of a copy of the
// request's text.
type namedHandler struct {
	name string
	h    HandlerFunc
}

// EndpointOption configures an Endpoint.
type EndpointOption func(*Endpoint)

// InNamespace sets the endpoint's Target namespace.
func InNamespace(ns string) EndpointOption {
	return func(e *Endpoint) { e.namespace = &ns }
}

// ContextParam names the Python method's context parameter ("context" by
// default): a kwarg of that name is Python's "got multiple values for
// argument" TypeError.
func ContextParam(name string) EndpointOption {
	return func(e *Endpoint) { e.contextParam = name }
}

// NewEndpoint makes an endpoint for the Python class named class (used in
// TypeError texts such as "ProtectionManager.show_checkpoint() missing 1
// required positional argument: 'checkpoint_id'"). An empty version is
// oslo's default "1.0".
func NewEndpoint(class, version string, opts ...EndpointOption) *Endpoint {
	if version == "" {
		version = "1.0"
	}
	if _, err := splitVersion(version); err != nil {
		panic(fmt.Sprintf("rpc: endpoint %s: invalid version %q", class, version))
	}
	e := &Endpoint{class: class, version: version, contextParam: "context", methods: map[string]namedHandler{}}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Handle registers a method. It panics on an empty or duplicate name, a
// name oslo's default access policy hides (leading "_"), or a nil handler:
// those are programming errors.
func (e *Endpoint) Handle(method string, h HandlerFunc) *Endpoint {
	switch {
	case method == "" || strings.HasPrefix(method, "_"):
		panic(fmt.Sprintf("rpc: endpoint %s: method name %q cannot be called over RPC", e.class, method))
	case h == nil:
		panic(fmt.Sprintf("rpc: endpoint %s: nil handler for %s", e.class, method))
	case e.methods[method].h != nil:
		panic(fmt.Sprintf("rpc: endpoint %s: duplicate method %s", e.class, method))
	}
	e.methods[method] = namedHandler{name: method, h: h}
	return e
}

// acceptsNamespace is oslo's "namespace in target.accepted_namespaces".
func (e *Endpoint) acceptsNamespace(raw json.RawMessage) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return e.namespace == nil
	}
	s, ok := jsonString(raw)
	return ok && e.namespace != nil && *e.namespace == s
}

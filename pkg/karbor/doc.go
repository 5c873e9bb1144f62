// Package karbor holds what OpenStack karbor itself defines and the protection
// service must reproduce exactly: the request context rebuilt from the
// "_context_*" keys of an RPC request (RequestContext), the exceptions of
// karbor.exception with their Python class, message, args and kwargs (Error,
// and BuiltinError for the places where Python raises a builtin), the
// versioned objects the API sends (Plan, Restore, Verification) and the
// constants (resource types, statuses, operation types).
//
// It knows nothing of AMQP, banks or providers: the rpc package turns an
// Error into an oslo.messaging failure through the PythonModule,
// PythonClass, PythonArgs and PythonKwargs methods, and decodes the request
// before handing the context dict and object primitives to this package.
package karbor

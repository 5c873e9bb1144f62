package karbor

import (
	"slices"
	"strings"
	"sync"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// ExceptionModule is the Python module of every karbor exception.
const ExceptionModule = "karbor.exception"

// Class is one exception class of karbor.exception: its name, parent, HTTP
// code and message template. A *Class is also an error, so that
// errors.Is(err, karbor.ExcNotFound) asks "is err a NotFound (or a
// subclass)?".
type Class struct {
	name     string
	parent   *Class
	code     int
	template string
	kwargs   []string
}

var registry struct {
	sync.Mutex
	classes map[string]*Class
}

// newClass declares a class; code 0 inherits the parent's, as Python
// attributes do. kwargs are the names the template uses, in the order the
// Python service usually passes them.
func newClass(name string, parent *Class, code int, template string, kwargs ...string) *Class {
	if code == 0 && parent != nil {
		code = parent.code
	}
	c := &Class{name: name, parent: parent, code: code, template: template, kwargs: kwargs}
	registry.Lock()
	defer registry.Unlock()
	if registry.classes == nil {
		registry.classes = map[string]*Class{}
	}
	if _, dup := registry.classes[name]; dup {
		panic("karbor: duplicate exception class " + name)
	}
	registry.classes[name] = c
	return c
}

// LookupClass returns the karbor.exception class of that name.
func LookupClass(name string) (*Class, bool) {
	registry.Lock()
	defer registry.Unlock()
	c, ok := registry.classes[name]
	return c, ok
}

// Classes returns every class of the catalog, sorted by name.
func Classes() []*Class {
	registry.Lock()
	defer registry.Unlock()
	out := make([]*Class, 0, len(registry.classes))
	for _, c := range registry.classes {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Class) int { return strings.Compare(a.name, b.name) })
	return out
}

// Name is the Python class name.
func (c *Class) Name() string { return c.name }

// Parent is the parent class; nil for KarborException.
func (c *Class) Parent() *Class { return c.parent }

// Code is the class's HTTP code.
func (c *Class) Code() int { return c.code }

// Template is the class's message template.
func (c *Class) Template() string { return c.template }

// KwargNames are the names the template uses.
func (c *Class) KwargNames() []string { return slices.Clone(c.kwargs) }

// Error makes a *Class usable as an errors.Is target.
func (c *Class) Error() string { return ExceptionModule + "." + c.name }

// IsA reports whether c is other or one of its subclasses.
func (c *Class) IsA(other *Class) bool {
	for k := c; k != nil; k = k.parent {
		if k == other {
			return true
		}
	}
	return false
}

// Kwarg is one keyword argument of an exception, in the order given.
type Kwarg struct {
	Name  string
	Value any
}

// New builds the exception as Python's Class(**kwargs) does: kwargs plus
// "code" (the class code, unless given), message = template % kwargs, or the
// bare template when that formatting fails (karbor's behaviour with
// fatal_exception_format_errors = false).
func (c *Class) New(kwargs ...Kwarg) *Error {
	return c.NewWithMessage("", kwargs...)
}

// NewWithMessage builds the exception as Python's Class(message, **kwargs)
// does: a non-empty message is used as it is instead of the template.
func (c *Class) NewWithMessage(message string, kwargs ...Kwarg) *Error {
	var kw []Kwarg
	for _, k := range kwargs {
		if i := slices.IndexFunc(kw, func(o Kwarg) bool { return o.Name == k.Name }); i >= 0 {
			kw[i].Value = k.Value // a Python dict keeps the first position
			continue
		}
		kw = append(kw, k)
	}
	if !slices.ContainsFunc(kw, func(k Kwarg) bool { return k.Name == "code" }) {
		kw = append(kw, Kwarg{"code", c.code})
	}
	e := &Error{class: c, message: message, kwargs: kw}
	if message == "" {
		e.message = c.template
		if text, err := pyFormat(c.template, e.kwargMap()); err == nil {
			e.message = text
		}
	}
	return e
}

// Error is a karbor exception: it carries everything the API needs to
// re-create it (module, class, args = [message], kwargs with code).
type Error struct {
	class   *Class
	message string
	kwargs  []Kwarg
}

// Error returns the message, as str(exception) does.
func (e *Error) Error() string { return e.message }

// Class returns the exception's class.
func (e *Error) Class() *Class { return e.class }

// Code is the class's HTTP code.
func (e *Error) Code() int { return e.class.code }

// Is makes errors.Is(err, karbor.ExcNotFound) true for every NotFound.
func (e *Error) Is(target error) bool {
	c, ok := target.(*Class)
	return ok && e.class.IsA(c)
}

// Kwarg returns one keyword argument as given.
func (e *Error) Kwarg(name string) (any, bool) {
	for _, k := range e.kwargs {
		if k.Name == name {
			return k.Value, true
		}
	}
	return nil, false
}

// PythonModule is "karbor.exception".
func (e *Error) PythonModule() string { return ExceptionModule }

// PythonClass is the class name.
func (e *Error) PythonClass() string { return e.class.name }

// PythonArgs is [message], the exception's args.
func (e *Error) PythonArgs() []any { return []any{e.message} }

// PythonKwargs are the keyword arguments plus "code", as oslo.messaging
// serializes them: a value that is an exception (a BuiltinError, or any
// python.Reprer) becomes its Python repr, another Go error its message.
func (e *Error) PythonKwargs() map[string]any {
	out := make(map[string]any, len(e.kwargs))
	for _, k := range e.kwargs {
		out[k.Name] = jsonSafe(k.Value)
	}
	return out
}

// PythonKwargKeys are the keys of PythonKwargs in the order Python's dict
// would hold them (as given, then "code"), for byte-exact encoding.
func (e *Error) PythonKwargKeys() []string {
	out := make([]string, len(e.kwargs))
	for i, k := range e.kwargs {
		out[i] = k.Name
	}
	return out
}

func (e *Error) kwargMap() map[string]any {
	m := make(map[string]any, len(e.kwargs))
	for _, k := range e.kwargs {
		m[k.Name] = k.Value
	}
	return m
}

func jsonSafe(v any) any {
	switch v := v.(type) {
	case python.Reprer:
		return v.PythonRepr()
	case error:
		return v.Error()
	}
	return v
}

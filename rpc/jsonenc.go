package rpc

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// appendJSONValue appends v as JSON, as encoding/json would encode it but
// without reflection, for the types a decoded JSON document and a request
// context are made of. ok is false for any other type, or a value
// encoding/json refuses (NaN, infinities): the caller then encodes the
// whole value with EncodeJSON, which gives the same text or the error. A
// karbor request context is a few dozen members with a nested service
// catalog: through reflection, encoding it was most of a call's client CPU.
func appendJSONValue(dst []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendJSONString(dst, v), true
	case bool:
		return strconv.AppendBool(dst, v), true
	case float64:
		return appendJSONFloat(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10), true
	case int64:
		return strconv.AppendInt(dst, v, 10), true
	case []any:
		return appendJSONList(dst, v, appendJSONValue)
	case []string:
		return appendJSONList(dst, v, appendJSONText)
	case map[string]any:
		return appendJSONMap(dst, v, appendJSONValue)
	case map[string]string:
		return appendJSONMap(dst, v, appendJSONText)
	}
	return dst, false
}

func appendJSONText(dst []byte, s string) ([]byte, bool) { return appendJSONString(dst, s), true }

// appendJSONList appends l as a JSON array, each element with appendElem;
// a nil slice is null.
func appendJSONList[E any](dst []byte, l []E, appendElem func([]byte, E) ([]byte, bool)) ([]byte, bool) {
	if l == nil {
		return append(dst, "null"...), true
	}
	dst = append(dst, '[')
	for i, e := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		var ok bool
		if dst, ok = appendElem(dst, e); !ok {
			return dst, false
		}
	}
	return append(dst, ']'), true
}

// appendJSONMap appends m as a JSON object, keys sorted as encoding/json
// sorts them, each value with appendElem; a nil map is null.
func appendJSONMap[E any](dst []byte, m map[string]E, appendElem func([]byte, E) ([]byte, bool)) ([]byte, bool) {
	if m == nil {
		return append(dst, "null"...), true
	}
	dst = append(dst, '{')
	var held [maxHeldMembers]entry[E]
	for i, e := range sortedMembers(m, held[:0]) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(appendJSONString(dst, e.key), ':')
		var ok bool
		if dst, ok = appendElem(dst, e.value); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

// maxHeldMembers is how many members of a map sortedMembers sorts on the
// caller's stack; a context and its catalog entries have fewer.
const maxHeldMembers = 32

// entry is a map entry, for sorting by key.
type entry[E any] struct {
	key   string
	value E
}

// sortedMembers appends m's entries to held, sorted by key as
// encoding/json sorts them. Sorting a list of keys that the map is then
// asked for again was a third of the encoding of a request: a slice per
// map, grown as it filled, and a lookup per key.
func sortedMembers[E any](m map[string]E, held []entry[E]) []entry[E] {
	for k, v := range m {
		held = append(held, entry[E]{k, v})
	}
	slices.SortFunc(held, func(a, b entry[E]) int { return strings.Compare(a.key, b.key) })
	return held
}

// appendJSONFloat writes f as encoding/json does: the shortest text that
// reads back as f, in exponent form below 1e-6 and from 1e21, with the
// exponent's leading zero dropped.
func appendJSONFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

// appendJSONObject appends v, which must encode as a JSON object (nil is
// {}).
func appendJSONObject(dst []byte, v any) ([]byte, error) {
	if m, ok := v.(map[string]any); ok && m != nil {
		if out, ok := appendJSONValue(dst, m); ok {
			return out, nil
		}
	}
	raw, err := objectJSON(v)
	if err != nil {
		return dst, err
	}
	return append(dst, raw...), nil
}

// appendContextMembers appends ctx's members as the flattened
// `, "_context_<key>": value` members of a message, keys in encoding/json's
// order; ok is false when a value needs EncodeJSON.
func appendContextMembers(dst []byte, ctx map[string]any) ([]byte, bool) {
	start := len(dst)
	if l := lastContextLayout.Load(); l != nil && len(l.keys) == len(ctx) {
		if out, fits, ok := l.appendMembers(dst, ctx); fits {
			return out, ok
		}
	}
	l := newContextLayout(ctx)
	lastContextLayout.Store(l)
	out, _, ok := l.appendMembers(dst[:start], ctx)
	return out, ok
}

// lastContextLayout is the layout of the request context encoded last. A
// client sends contexts with the same members call after call (the
// caller's identity, token and catalogue); sorting their keys and escaping
// them into member names again was a quarter of a request's encoding.
var lastContextLayout atomic.Pointer[contextLayout]

// contextLayout is the members of a request context in encoding/json's
// order, each with its text up to the value: `, "_context_<key>": `.
type contextLayout struct {
	keys  []string
	heads []string
}

func newContextLayout(ctx map[string]any) *contextLayout {
	keys := slices.Sorted(maps.Keys(ctx))
	heads := make([]string, len(keys))
	for i, k := range keys {
		heads[i] = string(append(appendJSONStringBody([]byte(`, "`+contextPrefix), k), `": `...))
	}
	return &contextLayout{keys: keys, heads: heads}
}

// appendMembers appends ctx's members in l's order. fits is false when ctx
// lacks one of l's keys; as l has as many keys as ctx has members, fits
// means that ctx has exactly l's keys. ok is false when a value needs
// EncodeJSON.
func (l *contextLayout) appendMembers(dst []byte, ctx map[string]any) (out []byte, fits, ok bool) {
	for i, k := range l.keys {
		v, found := ctx[k]
		if !found {
			return dst, false, false
		}
		if dst, ok = appendJSONValue(append(dst, l.heads[i]...), v); !ok {
			return dst, true, false
		}
	}
	return dst, true, true
}

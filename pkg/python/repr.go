package python

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reprer is a value that knows its Python repr(), such as a Go error
// standing for the exception a Python plugin would have raised.
type Reprer interface {
	PythonRepr() string
}

// Str is Python's str(v). Strings are themselves; an error gives its
// message, as str(exception) does; a Reprer that is not an error gives its
// repr (object.__str__); a value with no Python counterpart gives its text
// (fmt.Sprint); everything else gives its repr.
func Str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case error:
		return v.Error()
	case Reprer:
		return v.PythonRepr()
	}
	if out, ok := appendValueRepr(nil, v); ok {
		return string(out)
	}
	return fmt.Sprint(v)
}

// Repr is Python's repr(v). A value with no Python counterpart is shown as
// the repr of its text.
func Repr(v any) string {
	return string(appendRepr(nil, v))
}

// StrJSON is Python's str() of json.loads(raw), for raw holding one JSON
// value (as a json.RawMessage does once decoded; what follows the first
// value is ignored). An absent value (no bytes) is None, and text that is
// not JSON stands for a str holding it.
func StrJSON(raw []byte) string {
	v, ok := decodeJSON(raw)
	if !ok {
		return string(raw)
	}
	return Str(v)
}

// ReprJSON is Python's repr() of json.loads(raw), read as StrJSON reads it.
func ReprJSON(raw []byte) string {
	v, ok := decodeJSON(raw)
	if !ok {
		return ReprString(string(raw))
	}
	return Repr(v)
}

func decodeJSON(raw []byte) (any, bool) {
	if len(raw) == 0 {
		return nil, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}

// reprTuple is Python's repr(tuple(items)): "()", "(a,)", "(a, b)".
func reprTuple(items []any) string {
	dst := append([]byte(nil), '(')
	for i, it := range items {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendRepr(dst, it)
	}
	if len(items) == 1 {
		dst = append(dst, ',')
	}
	return string(append(dst, ')'))
}

// ExceptionStr is BaseException.__str__ of an exception with these args:
// "" without args, str(arg) with one, the args tuple's repr with more.
func ExceptionStr(args []any) string {
	switch len(args) {
	case 0:
		return ""
	case 1:
		return Str(args[0])
	}
	return reprTuple(args)
}

// appendRepr appends repr(v).
func appendRepr(dst []byte, v any) []byte {
	if out, ok := appendValueRepr(dst, v); ok {
		return out
	}
	return appendReprString(dst, fmt.Sprint(v))
}

// appendValueRepr appends repr(v) of a value Python has (or a Reprer). For
// any other value it appends nothing and reports false.
func appendValueRepr(dst []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(dst, "None"...), true
	case Reprer:
		return append(dst, v.PythonRepr()...), true
	case string:
		return appendReprString(dst, v), true
	case bool:
		if v {
			return append(dst, "True"...), true
		}
		return append(dst, "False"...), true
	case json.Number:
		return appendReprNumber(dst, v), true
	case float64:
		return appendReprFloat(dst, v), true
	case float32:
		return appendReprFloat(dst, float64(v)), true
	case int:
		return strconv.AppendInt(dst, int64(v), 10), true
	case int64:
		return strconv.AppendInt(dst, v, 10), true
	case []any:
		return appendReprList(dst, len(v), func(i int) any { return v[i] }), true
	case []string:
		return appendReprList(dst, len(v), func(i int) any { return v[i] }), true
	case map[string]any:
		return appendReprDict(dst, v), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(dst, rv.Uint(), 10), true
	case reflect.Slice, reflect.Array:
		return appendReprList(dst, rv.Len(), func(i int) any { return rv.Index(i).Interface() }), true
	}
	return dst, false
}

func appendReprList(dst []byte, n int, at func(int) any) []byte {
	dst = append(dst, '[')
	for i := range n {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendRepr(dst, at(i))
	}
	return append(dst, ']')
}

// appendReprDict writes the keys sorted: a Go map has no insertion order
// to reproduce, and sorted keys keep the text deterministic.
func appendReprDict(dst []byte, m map[string]any) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendReprString(dst, k)
		dst = append(dst, ": "...)
		dst = appendRepr(dst, m[k])
	}
	return append(dst, '}')
}

// appendReprNumber is how Python shows a JSON number after json.loads: an
// integer literal becomes an int (of any size), anything else a float (inf
// when it overflows).
func appendReprNumber(dst []byte, n json.Number) []byte {
	s := string(n)
	if !isFloatLiteral(s) {
		neg := strings.HasPrefix(s, "-")
		digits := strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
		switch {
		case digits == "":
			return append(dst, '0')
		case neg:
			dst = append(dst, '-')
		}
		return append(dst, digits...)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return append(dst, s...)
	}
	return appendReprFloat(dst, f)
}

// ReprFloat is Python's repr(float): the shortest digits that read back,
// fixed notation for decimal exponents in [-4, 16), scientific with a signed
// exponent of at least two digits otherwise, ".0" on integral values.
func ReprFloat(f float64) string {
	return string(appendReprFloat(nil, f))
}

func appendReprFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	var buf [32]byte
	sci := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // d.ddde±XX, as Python's
	exp, _ := strconv.Atoi(string(sci[bytes.IndexByte(sci, 'e')+1:]))
	if exp < -4 || exp >= 16 {
		return append(dst, sci...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	if bytes.IndexByte(dst[start:], '.') < 0 {
		dst = append(dst, ".0"...)
	}
	return dst
}

// ReprString is Python's repr(str): single quotes unless the text holds a
// single quote and no double quote; a backslash before the quote and the
// backslash; \t, \n, \r; \xXX, \uXXXX or \UXXXXXXXX for every other
// character str.isprintable() refuses. Invalid UTF-8 reads as U+FFFD.
func ReprString(s string) string {
	return string(appendReprString(nil, s))
}

func appendReprString(dst []byte, s string) []byte {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	dst = append(dst, quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\t':
			dst = append(dst, `\t`...)
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r >= 0x20 && r < 0x7f:
			dst = append(dst, byte(r))
		case unicode.IsPrint(r): // str.isprintable(): the same categories, up to the Unicode versions
			dst = utf8.AppendRune(dst, r)
		case r < 0x100:
			dst = appendHex(append(dst, `\x`...), r, 2)
		case r < 0x10000:
			dst = appendHex(append(dst, `\u`...), r, 4)
		default:
			dst = appendHex(append(dst, `\U`...), r, 8)
		}
	}
	return append(dst, quote)
}

const hexDigits = "0123456789abcdef"

// appendHex appends r as n lower-case hex digits.
func appendHex(dst []byte, r rune, n int) []byte {
	for shift := 4 * (n - 1); shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[r>>shift&0xf])
	}
	return dst
}

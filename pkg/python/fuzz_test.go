package python_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// FuzzReprString: the repr is a Python string literal of printable
// characters that reads back as the text.
func FuzzReprString(f *testing.F) {
	for _, c := range reprCases {
		if s, ok := c.v.(string); ok {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit := python.ReprString(s)
		back, err := readPyLiteral(lit)
		if err != nil {
			t.Fatalf("repr %q of %q: %v", lit, s, err)
		}
		if back != validRunes(s) {
			t.Fatalf("repr %q of %q reads back as %q", lit, s, back)
		}
	})
}

// FuzzReprFloat: the repr reads back as the same float.
func FuzzReprFloat(f *testing.F) {
	for _, c := range reprCases {
		if x, ok := c.v.(float64); ok {
			f.Add(math.Float64bits(x))
		}
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		x := math.Float64frombits(bits)
		text := python.ReprFloat(x)
		back, err := strconv.ParseFloat(text, 64)
		same := math.Float64bits(back) == math.Float64bits(x) || math.IsNaN(x) && math.IsNaN(back)
		if err != nil || !same {
			t.Fatalf("%v -> %s does not read back: %v", x, text, err)
		}
		if !strings.ContainsAny(text, ".en") {
			t.Fatalf("%v -> %s does not read as a float in Python", x, text)
		}
	})
}

// FuzzAppendJSON: exactly the valid JSON texts are accepted, and written as
// printable ASCII JSON of the same value, which rewrites to itself.
func FuzzAppendJSON(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte(`{"a":1}x`))
	f.Add([]byte(`"\ud800"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := python.AppendJSON(nil, data)
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("%q: json.Valid %v, but AppendJSON error %v", data, valid, err)
		}
		if err != nil {
			return
		}
		assertPrintableASCII(t, out)
		if !reflect.DeepEqual(decodeAny(t, data), decodeAny(t, out)) {
			t.Fatalf("%q written as %q: not the same value", data, out)
		}
		again, err := python.AppendJSON(nil, out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("%q rewrites to %q (%v)", out, again, err)
		}
	})
}

// FuzzAppendJSONString: the text is printable ASCII JSON that decodes back
// to the string.
func FuzzAppendJSONString(f *testing.F) {
	for _, c := range jsonStringCases {
		f.Add(c.s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := python.AppendJSONString(nil, s)
		assertPrintableASCII(t, out)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		if back != validRunes(s) {
			t.Fatalf("%q written as %q reads back as %q", s, out, back)
		}
	})
}

// FuzzMembers: exactly the JSON objects are accepted, and their members
// are the object's keys, each once, with the values json.Unmarshal keeps.
func FuzzMembers(f *testing.F) {
	for _, c := range membersCases {
		f.Add([]byte(c.text))
	}
	f.Add([]byte(`{"a": 1} x`))
	f.Fuzz(func(t *testing.T, data []byte) {
		members, err := python.Members(data)
		var want map[string]json.RawMessage
		isObject := json.Unmarshal(data, &want) == nil && want != nil
		if isObject != (err == nil) {
			t.Fatalf("%q: an object: %v, but Members error %v", data, isObject, err)
		}
		if err != nil {
			return
		}
		got := map[string]json.RawMessage{}
		for _, m := range members {
			if _, dup := got[m.Key]; dup {
				t.Fatalf("%q: key %q twice", data, m.Key)
			}
			got[m.Key] = m.Value
		}
		if len(got) != len(want) {
			t.Fatalf("%q: members %v, want the keys of %v", data, got, want)
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("%q: %q is %s, want %s", data, k, got[k], v)
			}
		}
	})
}

func assertPrintableASCII(t *testing.T, text []byte) {
	t.Helper()
	for _, c := range text {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("non-ASCII or control byte %#x in %q", c, text)
		}
	}
}

func decodeAny(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%q: %v", data, err)
	}
	return v
}

// validRunes is s with each byte that is not UTF-8 replaced by U+FFFD.
func validRunes(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// readPyLiteral reads a Python string literal as repr() writes them:
// quoted with ' or ", escapes \\ \' \" \t \n \r \xXX \uXXXX \UXXXXXXXX,
// other characters printable and written as they are.
func readPyLiteral(lit string) (string, error) {
	if len(lit) < 2 || (lit[0] != '\'' && lit[0] != '"') || lit[len(lit)-1] != lit[0] {
		return "", strconv.ErrSyntax
	}
	quote, body := rune(lit[0]), lit[1:len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRuneInString(body[i:])
		i += size
		switch {
		case r == '\\':
			n, err := readEscape(&b, body[i:], quote)
			if err != nil {
				return "", err
			}
			i += n
		case r == quote || !unicode.IsPrint(r) || r == utf8.RuneError && size == 1:
			return "", strconv.ErrSyntax
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// readEscape reads the escape after a backslash and says how many bytes it
// used.
func readEscape(b *strings.Builder, rest string, quote rune) (int, error) {
	if rest == "" {
		return 0, strconv.ErrSyntax
	}
	simple := map[byte]rune{'\\': '\\', '\'': '\'', '"': '"', 't': '\t', 'n': '\n', 'r': '\r'}
	if r, ok := simple[rest[0]]; ok {
		if (r == '\'' || r == '"') && r != quote {
			return 0, strconv.ErrSyntax // repr escapes only the quote it uses
		}
		b.WriteRune(r)
		return 1, nil
	}
	digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[rest[0]]
	if digits == 0 || len(rest) < 1+digits {
		return 0, strconv.ErrSyntax
	}
	hex := rest[1 : 1+digits]
	n, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || strings.ToLower(hex) != hex || unicode.IsPrint(rune(n)) || n == '\t' || n == '\n' || n == '\r' {
		return 0, strconv.ErrSyntax // lower-case hex, for characters with no other spelling
	}
	if shortest := map[bool]int{n < 0x100: 2, n >= 0x100 && n < 0x10000: 4, n >= 0x10000: 8}[true]; digits != shortest {
		return 0, strconv.ErrSyntax
	}
	b.WriteRune(rune(n))
	return 1 + digits, nil
}

// FuzzMembersReaders: what the one-pass reader of valid objects accepts,
// json.Decoder reads into the same members, in the same order.
func FuzzMembersReaders(f *testing.F) {
	for _, c := range membersCases {
		f.Add([]byte(c.text))
	}
	for _, s := range []string{` {"a" : [1, {"b": "}"}], "a": -1.5e3 , "\u00e9\"": "x"} `, `{"k": "\ud800"}`, `{"\ud800": 1, "\ufffd": 2}`, `{}`, `[1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, fastAt, ok := python.LoadValidObject(data)
		if !ok {
			return
		}
		slow, slowAt, err := python.DecodeMembers(data)
		if err != nil {
			t.Fatalf("%q: read in one pass, but json.Decoder says %v", data, err)
		}
		if fmt.Sprintf("%q", fast) != fmt.Sprintf("%q", slow) || !maps.Equal(fastAt, slowAt) {
			t.Fatalf("%q: one pass %q %v, json.Decoder %q %v", data, fast, fastAt, slow, slowAt)
		}
	})
}

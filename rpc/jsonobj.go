package rpc

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gokarbor/karbor-protection/pkg/jsonscan"
)

// errNotObject: the text is valid JSON but not an object.
var errNotObject = errors.New("not a JSON object")

// splitObject calls fn for each member of the JSON object in data, in
// order, with the key unescaped and the value as a sub-slice of data (no
// copy). It validates data in the same pass; it is the hot path of every
// request and reply.
func splitObject(data []byte, fn func(key string, value []byte)) error {
	return splitMembers(data, func(quoted, value []byte) { fn(unquoteKey(quoted), value) })
}

// splitMembers is splitObject with each key as written, quotes included.
func splitMembers(data []byte, fn func(quotedKey, value []byte)) error {
	var held [16]jsonscan.Member
	members, err := scanObject(data, held[:0])
	if err != nil {
		return err
	}
	for _, m := range members {
		fn(m.Key, m.Value)
	}
	return nil
}

// scanObject validates data and appends the members of the object it must
// be to members (which may be a caller's array on the stack).
func scanObject(data []byte, members []jsonscan.Member) ([]jsonscan.Member, error) {
	members, ok := jsonscan.Members(data, members)
	if !ok {
		var v any
		return nil, json.Unmarshal(data, &v) // the same error encoding/json gives
	}
	if data[jsonscan.SkipSpace(data, 0)] != '{' {
		return nil, errNotObject
	}
	return members, nil
}

// skipString returns the index after the string starting at data[i] ('"').
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		if i += jsonscan.PlainRun(data[i:]); i >= len(data) {
			break
		}
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// commonKeys are the member names of oslo messages and karbor contexts,
// shared instead of allocated for every message.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"oslo.version", "oslo.message", "method", "args", "namespace", "version",
		"_msg_id", "_reply_q", "_timeout", "_unique_id", "result", "failure", "ending",
	} {
		m[k] = k
	}
	for _, k := range []string{
		"user", "project_id", "system_scope", "project", "domain", "user_domain", "project_domain",
		"is_admin", "read_only", "show_deleted", "auth_token", "request_id", "global_request_id",
		"resource_uuid", "roles", "user_identity", "is_admin_project", "user_id", "project_name",
		"read_deleted", "remote_address", "timestamp", "quota_class", "service_catalog", "auth_token_info",
	} {
		m[contextPrefix+k] = contextPrefix + k
		m[k] = k
	}
	return m
}()

// internKey is the plain key as a string, shared when it is a common one.
func internKey(plain []byte) string {
	if k, ok := commonKeys[string(plain)]; ok { // no allocation
		return k
	}
	return string(plain)
}

func unquoteKey(quoted []byte) string {
	inner := quoted[1 : len(quoted)-1]
	plain := bytes.IndexByte(inner, '\\') < 0
	for _, c := range inner {
		plain = plain && c < 0x80
	}
	if plain {
		return internKey(inner)
	}
	var s string
	_ = json.Unmarshal(quoted, &s) // valid: checked by splitObject
	return s
}

// decodeObject decodes a JSON object into a map of raw members (sub-slices
// of data).
func decodeObject(data []byte) (message, error) {
	var held [48]jsonscan.Member // a request has some thirty members
	members, err := scanObject(data, held[:0])
	if err != nil {
		return nil, err
	}
	m := make(message, len(members))
	for i, r := range members {
		m[i] = member{unquoteKey(r.Key), r.Value}
	}
	return m, nil
}

// unquoteJSON decodes a JSON string literal; false if raw is not one. It
// is encoding/json's decoding (invalid UTF-8 and lone surrogates become
// U+FFFD) without its reflection, for the hot oslo.message member. Text
// that needs no change is returned as a sub-slice of raw, not copied.
//
// The oslo.message text is a JSON object written inside a string, so an
// escaped quote comes every few bytes. Plain text is copied a word at a
// time, the whole word even when it ends in an escape: decoding never makes
// text longer, so the copy stays within a buffer one word longer than the
// text and the escape's own bytes overwrite the rest. Only invalid UTF-8,
// which grows into a 3-byte U+FFFD, takes unquoteGrowing.
func unquoteJSON(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	inner := raw[1 : len(raw)-1]
	i := jsonscan.PlainRun(inner)
	if i == len(inner) {
		return inner, true
	}
	out := make([]byte, len(inner)+8)
	copy(out, inner[:i])
	j := i // written; never more than i read
	for i < len(inner) {
		if i+8 <= len(inner) {
			x := jsonscan.LoadWord(inner, i)
			binary.LittleEndian.PutUint64(out[j:], x)
			m := jsonscan.SpecialBytes(x)
			if m == 0 {
				i, j = i+8, j+8
				continue
			}
			n := bits.TrailingZeros64(m) / 8
			i, j = i+n, j+n
		}
		if inner[i] == '\\' && i+1 < len(inner) && (inner[i+1] == '"' || inner[i+1] == '\\') {
			// The escapes of the inner object's own quoting, by far the
			// most common.
			out[j] = inner[i+1]
			i, j = i+2, j+1
			continue
		}
		r, n := textRune(inner, i)
		switch {
		case n == 0:
			return nil, false
		case r < utf8.RuneSelf:
			out[j] = byte(r)
			j++
		case r == utf8.RuneError && n == 1:
			return unquoteGrowing(inner)
		default:
			j += utf8.EncodeRune(out[j:], r)
		}
		i += n
	}
	return out[:j], true
}

// unquoteGrowing is unquoteJSON for the text inside the quotes when it
// holds invalid UTF-8: each such byte becomes U+FFFD, three bytes, so the
// result is built by appending.
func unquoteGrowing(inner []byte) ([]byte, bool) {
	out := make([]byte, 0, len(inner)+len(inner)/2)
	for i := 0; i < len(inner); {
		n := jsonscan.PlainRun(inner[i:])
		out = append(out, inner[i:i+n]...)
		if i += n; i == len(inner) {
			break
		}
		r, n := textRune(inner, i)
		if n == 0 {
			return nil, false
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out, true
}

// textRune decodes the character at inner[i] inside a JSON string: a byte
// of plain ASCII, a UTF-8 sequence (utf8.RuneError and 1 when invalid) or
// an escape. n is the bytes it takes; 0 when it has no place there (a
// quote, a control character, a malformed escape). A valid sequence or an
// escape never encodes longer than it is written.
func textRune(inner []byte, i int) (r rune, n int) {
	switch c := inner[i]; {
	case c == '"' || c < 0x20:
		return 0, 0
	case c >= utf8.RuneSelf:
		return utf8.DecodeRune(inner[i:])
	case c != '\\':
		return rune(c), 1
	case i+1 >= len(inner):
		return 0, 0
	}
	switch e := inner[i+1]; e {
	case '"', '\\', '/':
		return rune(e), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		return decodeEscapedRune(inner[i:])
	}
	return 0, 0
}

// decodeEscapedRune decodes \uXXXX (a surrogate pair counts as one rune) at
// the start of b; n is the bytes used, 0 if malformed.
func decodeEscapedRune(b []byte) (r rune, n int) {
	hex4 := func(b []byte) rune {
		if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
			return -1
		}
		var v rune
		for _, c := range b[2:6] {
			switch {
			case '0' <= c && c <= '9':
				v = v<<4 | rune(c-'0')
			case 'a' <= c && c <= 'f':
				v = v<<4 | rune(c-'a'+10)
			case 'A' <= c && c <= 'F':
				v = v<<4 | rune(c-'A'+10)
			default:
				return -1
			}
		}
		return v
	}
	r = hex4(b)
	switch {
	case r < 0:
		return 0, 0
	case utf16.IsSurrogate(r):
		if r2 := hex4(b[6:]); r2 >= 0 {
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				return dec, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r, 6
}

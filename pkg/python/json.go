package python

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// MarshalJSON encodes v as encoding/json does (struct fields in order, map
// keys sorted) and writes it as json.dumps does.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return AppendJSON(nil, buf.Bytes())
}

// AppendJSON appends the one JSON value data holds as json.dumps writes it:
// object keys in their order, numbers as written (json.dumps would write
// 1E5 read as a float as 100000.0; keeping the text means a value read and
// written back does not change). Anything but exactly one value is an
// error.
func AppendJSON(dst, data []byte) ([]byte, error) {
	if i := skipSpace(data); i < len(data) && data[i] == '"' {
		// A lone string is common and can be megabytes (a packed
		// resource graph in index.json): decode it in one go.
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, err
		}
		return AppendJSONString(dst, s), nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dst, err := appendJSONValue(dst, dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("json: trailing data after value")
	}
	return dst, nil
}

// skipSpace returns the index of the first byte of data that is not JSON
// white space.
func skipSpace(data []byte) int {
	i := 0
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

func appendJSONValue(dst []byte, dec *json.Decoder) ([]byte, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		return appendJSONContainer(dst, dec, t)
	case string:
		return AppendJSONString(dst, t), nil
	case json.Number:
		return append(dst, t...), nil
	case bool:
		if t {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case nil:
		return append(dst, "null"...), nil
	}
	return nil, fmt.Errorf("json: unexpected token %v", tok)
}

func appendJSONContainer(dst []byte, dec *json.Decoder, open json.Delim) ([]byte, error) {
	dst = append(dst, byte(open))
	for first := true; dec.More(); first = false {
		if !first {
			dst = append(dst, ", "...)
		}
		if open == '{' {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, ok := tok.(string)
			if !ok {
				return nil, fmt.Errorf("json: object key %v is not a string", tok)
			}
			dst = AppendJSONString(dst, key)
			dst = append(dst, ": "...)
		}
		var err error
		if dst, err = appendJSONValue(dst, dec); err != nil {
			return nil, err
		}
	}
	tok, err := dec.Token() // the closing delimiter
	if err != nil {
		return nil, err
	}
	return append(dst, byte(tok.(json.Delim))), nil
}

// jsonPlain are the bytes json.dumps writes as they are: printable ASCII
// but the quote and the backslash.
var jsonPlain = func() (plain [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < 0x7f; c++ {
		plain[c] = c != '"' && c != '\\'
	}
	return plain
}()

// AppendJSONString appends json.dumps(s): printable ASCII as it is, the
// short escapes \" \\ \n \r \t \b \f, every other character as \uXXXX (a
// surrogate pair above U+FFFF). Invalid UTF-8 reads as U+FFFD.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	plain := 0 // start of the run of plain bytes not yet copied
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && jsonPlain[c] {
			i++
			continue
		}
		dst = append(dst, s[plain:i]...)
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		dst = appendJSONEscape(dst, r)
		i += size
		plain = i
	}
	dst = append(dst, s[plain:]...)
	return append(dst, '"')
}

func appendJSONEscape(dst []byte, r rune) []byte {
	switch r {
	case '"', '\\':
		return append(dst, '\\', byte(r))
	case '\n':
		return append(dst, `\n`...)
	case '\r':
		return append(dst, `\r`...)
	case '\t':
		return append(dst, `\t`...)
	case '\b':
		return append(dst, `\b`...)
	case '\f':
		return append(dst, `\f`...)
	}
	if r > 0xffff {
		r1, r2 := utf16.EncodeRune(r)
		return appendHex(append(appendHex(append(dst, `\u`...), r1, 4), `\u`...), r2, 4)
	}
	return appendHex(append(dst, `\u`...), r, 4)
}

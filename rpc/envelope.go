package rpc

import (
	"bytes"
	"compress/bzip2"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gokarbor/karbor-protection/pkg/jsonscan"
	"github.com/gokarbor/karbor-protection/pkg/python"
)

// Wire constants of oslo.messaging's rabbit driver.
const (
	contentTypeJSON     = "application/json"
	contentEncodingUTF8 = "utf-8"
	envelopeVersion     = "2.0"
	envelopeVersionKey  = "oslo.version"
	envelopeMessageKey  = "oslo.message"
	compressionHeader   = "compression"
	zlibContentType     = "application/x-gzip"
	bzip2ContentType    = "application/x-bz2"
)

// ErrUndecodable marks a body a Python receiver would fail to decode too:
// the server rejects such a message (requeue=false) and sends no reply.
var ErrUndecodable = errors.New("rpc: undecodable message")

// message is a decoded oslo message: the members of the inner JSON object
// in order, values as sub-slices of the body (no copies, no map: a message
// is read once, a few keys at a time).
type message []member

type member struct {
	key   string
	value json.RawMessage
}

// get returns the value of key; for a repeated key the last one, as a
// Python dict keeps it.
func (m message) get(key string) (json.RawMessage, bool) {
	for i := len(m) - 1; i >= 0; i-- {
		if m[i].key == key {
			return m[i].value, true
		}
	}
	return nil, false
}

// MarshalJSON renders the message as the object it came from.
func (m message) MarshalJSON() ([]byte, error) {
	out := []byte{'{'}
	for i, mb := range m {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, []byte(mb.key))
		out = append(out, ':')
		out = append(out, mb.value...)
	}
	return append(out, '}'), nil
}

// UnmarshalJSON decodes a JSON object into a message.
func (m *message) UnmarshalJSON(data []byte) error {
	msg, err := decodeObject(append([]byte(nil), data...))
	*m = msg
	return err
}

// decodeBody turns an AMQP body into the oslo message it carries, accepting
// the 2.0 envelope and the legacy un-enveloped form, as
// oslo_messaging._drivers.common.deserialize_msg (behind kombu's JSON
// decoder) does. A compressed body may inflate to at most maxInflated bytes
// (0: no limit). Every error wraps ErrUndecodable.
func decodeBody(contentType string, headers map[string]any, body []byte, maxInflated int64) (message, error) {
	plain, err := plainBody(contentType, headers, body, maxInflated)
	if err != nil {
		return nil, err
	}
	return parseEnvelope(plain, decodeObject)
}

// plainBody is the JSON text of a body: its content type checked, its
// compression undone.
func plainBody(contentType string, headers map[string]any, body []byte, maxInflated int64) ([]byte, error) {
	if contentType != contentTypeJSON {
		// kombu leaves the body as bytes, which oslo cannot use.
		return nil, fmt.Errorf("%w: content type %q, want %q", ErrUndecodable, contentType, contentTypeJSON)
	}
	return decompress(headers, body, maxInflated)
}

// parseEnvelope reads the message out of a plain body, decoding each JSON
// object level with decode.
func parseEnvelope(body []byte, decode func([]byte) (message, error)) (message, error) {
	inner, ok := osloEnvelopeMessage(body)
	if !ok {
		return parseEnvelopeMembers(body, decode)
	}
	return decodeMessage(inner, decode)
}

// parseEnvelopeMembers is parseEnvelope for any body: the outer object is
// decoded, then its members are checked.
func parseEnvelopeMembers(body []byte, decode func([]byte) (message, error)) (message, error) {
	outer, err := decode(body)
	if err != nil {
		return nil, fmt.Errorf("%w: body is not a JSON object: %v", ErrUndecodable, jsonErr(err, body))
	}
	rawVersion, hasVersion := outer.get(envelopeVersionKey)
	rawMsg, hasMsg := outer.get(envelopeMessageKey)
	if !hasVersion || !hasMsg {
		return outer, nil // legacy 1.0: the body is the message
	}
	var version string
	if err := json.Unmarshal(rawVersion, &version); err != nil {
		return nil, fmt.Errorf("%w: %s is %s, not a string", ErrUndecodable, envelopeVersionKey, rawVersion)
	}
	if ok, err := versionIsCompatible(envelopeVersion, version); err != nil || !ok {
		return nil, fmt.Errorf("%w: specified RPC envelope version, %s, not supported by this endpoint", ErrUndecodable, version)
	}
	inner, ok := unquoteJSON(rawMsg)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a string", ErrUndecodable, envelopeMessageKey)
	}
	return decodeMessage(inner, decode)
}

// decodeMessage decodes the envelope's message text.
func decodeMessage(inner []byte, decode func([]byte) (message, error)) (message, error) {
	msg, err := decode(inner)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a JSON object: %v", ErrUndecodable, envelopeMessageKey, jsonErr(err, []byte(inner)))
	}
	return msg, nil
}

// osloEnvelopePrefix is how oslo (json.dumps) and envelope begin every
// enveloped body.
const osloEnvelopePrefix = `{"oslo.version": "2.0", "oslo.message": `

// osloEnvelopeMessage reads the message text out of a body written as oslo
// and envelope write it: the prefix, one JSON string, "}". Such a body is
// then a valid envelope (unquoteJSON accepts exactly the valid JSON
// strings), so it needs no separate validation and decoding pass; false for
// any other body, which parseEnvelope reads member by member.
func osloEnvelopeMessage(body []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(body, []byte(osloEnvelopePrefix))
	if !ok || len(rest) < 3 || rest[len(rest)-1] != '}' {
		return nil, false
	}
	return unquoteJSON(rest[:len(rest)-1])
}

// decodePythonObject decodes a JSON object as Python's json module would
// accept it: with NaN, Infinity and -Infinity as numbers (read as null
// here). It only serves to find out who to answer about a body that
// decodeObject refused.
func decodePythonObject(data []byte) (message, error) {
	return decodeObject(nullNonFinite(data))
}

// nullNonFinite replaces the bare tokens NaN, Infinity and -Infinity
// (outside strings) with null.
func nullNonFinite(data []byte) []byte {
	var out []byte
	start := 0
	for i := 0; i < len(data); i++ {
		if data[i] == '"' {
			i = skipString(data, i) - 1
			continue
		}
		for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out = append(append(out, data[start:i]...), "null"...)
				i += len(tok) - 1
				start = i + 1
				break
			}
		}
	}
	if out == nil {
		return data
	}
	return append(out, data[start:]...)
}

func jsonErr(err error, body []byte) error {
	if errors.Is(err, errNotObject) {
		return fmt.Errorf("found %.20q", body)
	}
	return err
}

// ErrTooLarge marks a compressed body that inflates beyond the limit
// (rabbit_max_decompressed_size): a few kilobytes of zlib or bzip2 can
// stand for gigabytes, so inflating is stopped at the limit.
var ErrTooLarge = errors.New("rpc: decompressed message too large")

// decompress undoes kombu's compression, named by the "compression" header,
// reading at most limit bytes of output (0: no limit).
func decompress(headers map[string]any, body []byte, limit int64) ([]byte, error) {
	kind, _ := headers[compressionHeader].(string)
	var r io.Reader
	switch kind {
	case "":
		return body, nil
	case zlibContentType:
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("%w: %s body: %v", ErrUndecodable, kind, err)
		}
		r = zr
	case bzip2ContentType:
		r = bzip2.NewReader(bytes.NewReader(body))
	default:
		return nil, fmt.Errorf("%w: unsupported compression %q", ErrUndecodable, kind)
	}
	if limit > 0 {
		r = io.LimitReader(r, limit+1)
	}
	out, err := readInflated(r, len(body), limit)
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, fmt.Errorf("%w: %w: %s body of %d bytes inflates to more than %d bytes",
			ErrUndecodable, ErrTooLarge, kind, len(body), limit)
	case err != nil:
		return nil, fmt.Errorf("%w: %s body: %v", ErrUndecodable, kind, err)
	}
	return out, nil
}

// readInflated reads r to its end in chunks, then joins them; more than
// limit bytes (0: no limit) is ErrTooLarge, found before any join. Unlike
// io.ReadAll, which regrows one buffer and leaves the old ones to the
// collector, refusing a bomb at the limit holds about the limit in memory,
// not twice or thrice that.
func readInflated(r io.Reader, compressed int, limit int64) ([]byte, error) {
	const minChunk, maxChunk = 4 << 10, 4 << 20
	var chunks [][]byte
	total := 0
	size := min(max(4*compressed, minChunk), maxChunk)
	for {
		chunk := make([]byte, size)
		n, err := io.ReadFull(r, chunk)
		if n > 0 {
			chunks = append(chunks, chunk[:n])
			total += n
		}
		if limit > 0 && int64(total) > limit {
			return nil, ErrTooLarge
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
		size = min(max(total, minChunk), maxChunk)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// compressionFor maps kombu_compression to the content type this driver
// can produce; only zlib ("gzip" in kombu) has a compressor in Go's stdlib.
func compressionFor(option string) (string, error) {
	switch option {
	case "":
		return "", nil
	case "gzip", "zlib", zlibContentType:
		return zlibContentType, nil
	}
	return "", fmt.Errorf("rpc: unsupported kombu_compression %q (only gzip)", option)
}

func compress(body []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// envelope wraps an encoded oslo message in the 2.0 envelope: the message
// travels as a JSON string inside the outer object.
func envelope(inner []byte) []byte {
	out := make([]byte, 0, len(inner)+len(inner)/8+48)
	out = append(out, `{"oslo.version": "2.0", "oslo.message": `...)
	out = appendJSONString(out, inner)
	return append(out, '}')
}

// appendJSONString appends s as a JSON string. Unlike encoding/json it leaves
// <, > and & alone (Python does); invalid UTF-8 becomes U+FFFD as in Go.
func appendJSONString[T ~string | ~[]byte](dst []byte, s T) []byte {
	return append(appendJSONStringBody(append(dst, '"'), s), '"')
}

// appendJSONStringBody is appendJSONString without the quotes.
//
// Plain text is copied a word at a time, the whole word even when it ends
// in a byte that needs escaping: the word lands in dst's spare capacity and
// only its plain bytes are kept. A double-encoded oslo message has an
// escaped quote every few bytes, where copying run by run cost a memmove
// and a scan set-up per run.
func appendJSONStringBody[T ~string | ~[]byte](dst []byte, s T) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			if cap(dst)-len(dst) < 8 {
				dst = slices.Grow(dst, len(s)-i+8)
			}
			x := jsonscan.LoadWord(s, i)
			n := len(dst)
			binary.LittleEndian.PutUint64(dst[n:n+8], x)
			m := jsonscan.SpecialBytes(x)
			if m == 0 {
				dst, i = dst[:n+8], i+8
				continue
			}
			k := bits.TrailingZeros64(m) / 8
			dst, i = dst[:n+k], i+k
		} else if c := s[i]; c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			dst, i = append(dst, c), i+1
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := decodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// decodeRune is utf8.DecodeRune for a string or a byte slice; the
// conversion of a string's few bytes stays on the stack.
func decodeRune[T ~string | ~[]byte](s T) (rune, int) {
	return utf8.DecodeRune([]byte(s[:min(len(s), utf8.UTFMax)]))
}

// Encoded is JSON text EncodeJSON made, or text put together from such
// texts as JSON's grammar allows (an array of them, for one). A handler
// that returns a result encoded ahead of time as Encoded has it sent as
// is; a json.RawMessage result is checked first, on every call, which for
// a result served again and again (the providers' views) is most of the
// work of encoding the reply.
type Encoded []byte

// EncodeJSON encodes v as JSON as the server encodes results and failures:
// without HTML escaping and without the trailing newline json.Encoder adds.
// A handler that encodes a result ahead of time with it and returns it as
// Encoded gets the very bytes the server would have sent.
func EncodeJSON(v any) ([]byte, error) {
	if e, ok := v.(Encoded); ok {
		if e == nil {
			return []byte("null"), nil
		}
		return e, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		if raw == nil {
			return []byte("null"), nil
		}
		if !jsonscan.Valid(raw) {
			return nil, fmt.Errorf("invalid json.RawMessage %.40q", raw)
		}
		return raw, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// versionIsCompatible is oslo's _utils.version_is_compatible: the request
// (version) needs the same major, a minor no higher, and at an equal minor a
// revision no higher than the implementation (imp). A malformed version is
// the error Python's int() or indexing would raise.
func versionIsCompatible(imp, version string) (bool, error) {
	req, err := splitVersion(version)
	if err != nil {
		return false, err
	}
	have, err := splitVersion(imp)
	if err != nil {
		return false, err
	}
	switch {
	case req[0] != have[0]:
		return false, nil
	case req[1] > have[1]:
		return false, nil
	case req[1] == have[1] && req[2] > have[2]:
		return false, nil
	}
	return true, nil
}

func splitVersion(v string) ([3]int, error) {
	var out [3]int
	if !strings.Contains(v, ".") {
		return out, NewBuiltinError("IndexError", "list index out of range")
	}
	rest := v
	for i := 0; i < 3; i++ {
		part, tail, more := strings.Cut(rest, ".")
		n, err := pyInt10(part)
		if err != nil {
			return out, err
		}
		out[i] = n
		if !more {
			break
		}
		rest = tail
	}
	return out, nil
}

// pyInt10 is Python's int(s) for the decimal forms versions use.
func pyInt10(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && s[0] != '+' && s[0] != '-' {
		return n, nil // the common case: plain digits
	}
	t := strings.TrimSpace(s)
	n, err := strconv.Atoi(strings.ReplaceAll(t, "_", ""))
	if err != nil || t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return 0, NewBuiltinError("ValueError", "invalid literal for int() with base 10: "+python.ReprString(s))
	}
	return n, nil
}

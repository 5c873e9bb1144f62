package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// callFields are the members only a call carries.
type callFields struct {
	msgID              string
	replyQ             string
	callMonitorTimeout time.Duration // 0: "_timeout": null
}

// encodeRequest builds an enveloped request with members in the order
// oslo's client emits them: method, args, namespace, version, _msg_id,
// _reply_q, _timeout, _unique_id, then the flattened context.
func encodeRequest(method string, args any, t Target, reqCtx any, call *callFields) ([]byte, error) {
	held := messageBuffers.Get().(*[]byte)
	b := (*held)[:0]
	defer func() {
		if cap(b) <= maxHeldMessage {
			*held = b[:0]
			messageBuffers.Put(held)
		}
	}()
	b = append(b, `{"method": `...)
	b = appendJSONString(b, method)
	b = append(b, `, "args": `...)
	b, err := appendJSONObject(b, args)
	if err != nil {
		return nil, fmt.Errorf("rpc: args: %w", err)
	}
	if t.Namespace != "" {
		b = append(b, `, "namespace": `...)
		b = appendJSONString(b, t.Namespace)
	}
	if t.Version != "" {
		b = append(b, `, "version": `...)
		b = appendJSONString(b, t.Version)
	}
	if call != nil {
		b = append(b, `, "_msg_id": "`...)
		b = append(b, call.msgID...)
		b = append(b, `", "_reply_q": `...)
		b = appendJSONString(b, call.replyQ)
		b = append(b, `, "_timeout": `...)
		b = append(b, secondsJSON(call.callMonitorTimeout)...)
	}
	b = append(b, `, "_unique_id": "`...)
	b = appendUniqueID(b)
	b = append(b, '"')
	if b, err = appendContext(b, reqCtx); err != nil {
		return nil, fmt.Errorf("rpc: request context: %w", err)
	}
	b = append(b, '}')
	return envelope(b), nil
}

// messageBuffers hold the message text of a request while it is written,
// before it is escaped into its envelope: a karbor request's message is
// larger than a first guess, and growing a new buffer for each call was
// two of the three allocations of its encoding. A buffer that grew past
// maxHeldMessage is left to the collector rather than kept.
var messageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxHeldMessage = 64 << 10

// appendContext appends the request context's members, flattened with
// their _context_ prefix.
func appendContext(b []byte, reqCtx any) ([]byte, error) {
	if reqCtx == nil {
		return b, nil
	}
	if m, ok := reqCtx.(map[string]any); ok {
		if out, ok := appendContextMembers(b, m); ok {
			return out, nil
		}
	}
	ctxJSON, err := objectJSON(reqCtx)
	if err != nil {
		return nil, err
	}
	keys, values, err := objectMembers(ctxJSON)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		b = append(b, ", "...)
		b = appendJSONString(b, contextPrefix+k)
		b = append(b, ": "...)
		b = append(b, values[k]...)
	}
	return b, nil
}

// objectJSON marshals v, which must encode as a JSON object; nil is {}.
func objectJSON(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	raw, err := EncodeJSON(v)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return json.RawMessage("{}"), nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("must encode as a JSON object")
	}
	return raw, nil
}

// secondsJSON writes a duration as Python would write the number of
// seconds it was given: null for none, an int when whole.
func secondsJSON(d time.Duration) string {
	if d <= 0 {
		return "null"
	}
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatFloat(d.Seconds(), 'g', -1, 64)
}

// expirationMillis is the per-message TTL of a call: str(int(timeout*1000)).
func expirationMillis(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10)
}

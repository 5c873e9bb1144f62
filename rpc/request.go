package rpc

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/jsonscan"
	"github.com/gokarbor/karbor-protection/pkg/python"
)

// contextPrefix marks the flattened request-context keys of a message.
const contextPrefix = "_context_"

// request is a decoded RPC request: what oslo's unpack_context and
// RPCDispatcher.dispatch take out of a message. Values that Python would only
// trip over at dispatch time are kept raw, so that dispatch can fail the way
// Python does.
type request struct {
	Method    json.RawMessage // absent: nil
	Args      json.RawMessage // absent: nil (dispatch treats it as {})
	Namespace json.RawMessage // absent: nil (None)
	Version   json.RawMessage // absent: nil ("1.0")
	MsgID     json.RawMessage // _msg_id; a reply is due when it is truthy
	ReplyQ    json.RawMessage // _reply_q
	Timeout   json.RawMessage // _timeout: the client's call_monitor_timeout
	UniqueID  json.RawMessage // _unique_id: de-duplication key
	// Context holds every _context_* member with the prefix stripped, in
	// message order.
	Context []ContextMember
	// Undecodable is set on a request whose body could not be decoded but
	// names its caller: it is answered with this failure, not dispatched.
	Undecodable error
}

// decodeRequest decodes a delivered request body. Its errors wrap
// ErrUndecodable: such a message is rejected without a reply, unless a
// request comes with the error. That is a call whose body only Python's
// JSON accepts (NaN, Infinity) and whose _msg_id and _reply_q can be read:
// its caller gets req.Undecodable as the failure, instead of waiting for its
// timeout.
func decodeRequest(contentType string, headers map[string]any, body []byte, maxInflated int64) (*request, error) {
	plain, err := plainBody(contentType, headers, body, maxInflated)
	if err != nil {
		return nil, err
	}
	if text, ok := osloEnvelopeMessage(plain); ok {
		if req, ok := requestFromText(text); ok {
			return req, nil
		}
	}
	msg, err := parseEnvelope(plain, decodeObject)
	if err == nil {
		return requestFromMessage(msg), nil
	}
	lenient, lerr := parseEnvelope(plain, decodePythonObject)
	if lerr != nil {
		return nil, err
	}
	req := requestFromMessage(lenient)
	if _, ok := req.ReplyQueue(); !ok || !req.WantsReply() {
		return nil, err
	}
	req.Undecodable = decodeError(err)
	return req, err
}

// decodeError is kombu.exceptions.DecodeError, what a Python server's
// message decoding raises: the failure a caller gets for a request it sent
// with values JSON has no place for (NaN, Infinity).
func decodeError(cause error) *Exception {
	return NewException(kombuExceptionsModule, "DecodeError",
		"Cannot decode the message: out of range float values (NaN, Infinity) are not JSON compliant ("+
			strings.TrimPrefix(cause.Error(), ErrUndecodable.Error()+": ")+")")
}

// requestFromText builds the request straight from the message text of an
// oslo envelope, as requestFromMessage does from the decoded message: one
// validating pass, the members held on the stack, the keys matched as
// written. It is most of the decoding of every request. false when the
// text is not a valid object or a key is not plain ASCII as written:
// decodeRequest then takes the general path, which also gives the error.
func requestFromText(text []byte) (*request, bool) {
	var held [48]jsonscan.Member
	members, ok := jsonscan.Members(text, held[:0])
	if !ok || text[jsonscan.SkipSpace(text, 0)] != '{' {
		return nil, false // the general way gives the error
	}
	n := 0
	for _, m := range members {
		if jsonscan.PlainRun(m.Key[1:]) != len(m.Key)-2 {
			return nil, false
		}
		if bytes.HasPrefix(m.Key[1:], []byte(contextPrefix)) {
			n++
		}
	}
	r := &request{Context: make([]ContextMember, 0, n)}
	for _, m := range members {
		key := m.Key[1 : len(m.Key)-1]
		if !r.set(key, m.Value) {
			if name, ok := bytes.CutPrefix(key, []byte(contextPrefix)); ok {
				r.Context = append(r.Context, ContextMember{Key: internKey(name), Value: m.Value})
			}
		}
	}
	return r, true
}

// set files a member of the message under the request's field for key;
// false when the request has none (a context member, or one oslo
// ignores).
func (r *request) set(key []byte, value json.RawMessage) bool {
	switch string(key) {
	case "method":
		r.Method = value
	case "args":
		r.Args = value
	case "namespace":
		r.Namespace = value
	case "version":
		r.Version = value
	case "_msg_id":
		r.MsgID = value
	case "_reply_q":
		r.ReplyQ = value
	case "_timeout":
		r.Timeout = value
	case "_unique_id":
		r.UniqueID = value
	default:
		return false
	}
	return true
}

func requestFromMessage(msg message) *request {
	n := 0
	for _, m := range msg {
		if strings.HasPrefix(m.key, contextPrefix) {
			n++
		}
	}
	r := &request{Context: make([]ContextMember, 0, n)}
	for _, m := range msg {
		if !r.set([]byte(m.key), m.value) {
			if name, ok := strings.CutPrefix(m.key, contextPrefix); ok {
				r.Context = append(r.Context, ContextMember{Key: name, Value: m.value})
			}
		}
	}
	return r
}

// MethodName is the method as text ("" when it is not a string).
func (r *request) MethodName() string {
	s, _ := jsonString(r.Method)
	return s
}

// RequestID is the caller's _context_request_id, "" when absent.
func (r *request) RequestID() string {
	s, _ := jsonString(contextValue(r.Context, "request_id"))
	return s
}

// WantsReply is oslo's "if not self.msg_id: return" test.
func (r *request) WantsReply() bool { return python.TruthJSON(r.MsgID) }

// MsgIDText is _msg_id as text, for logs.
func (r *request) MsgIDText() string {
	if s, ok := jsonString(r.MsgID); ok {
		return s
	}
	return string(r.MsgID)
}

// ReplyQueue is _reply_q when it is a usable queue name.
func (r *request) ReplyQueue() (string, bool) {
	s, ok := jsonString(r.ReplyQ)
	return s, ok && s != ""
}

// dedupKey is the _unique_id as oslo's _MsgIdCache compares it; "" means the
// message takes no part in de-duplication (absent or falsy, as in Python).
func (r *request) dedupKey() string {
	if !python.TruthJSON(r.UniqueID) {
		return ""
	}
	if s, ok := jsonString(r.UniqueID); ok {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, r.UniqueID) != nil {
		return string(r.UniqueID)
	}
	return "\x00" + buf.String() // never equal to a string id
}

// heartbeatInterval is the call-monitor interval: int(_timeout)/2 seconds as
// in oslo's RPCDispatcher._watchdog, zero when no heartbeat is due (absent,
// falsy, not an integer Python's int() accepts, or an interval under 1 s).
func (r *request) heartbeatInterval() time.Duration {
	if !python.TruthJSON(r.Timeout) {
		return 0
	}
	var secs float64
	var v any
	if json.Unmarshal(r.Timeout, &v) != nil {
		return 0
	}
	switch t := v.(type) {
	case float64:
		secs = math.Trunc(t)
	case bool:
		secs = 1
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil {
			return 0
		}
		secs = float64(n)
	default:
		return 0
	}
	interval := secs / 2
	if interval < 1 || interval > math.MaxInt32 {
		return 0
	}
	return time.Duration(interval * float64(time.Second))
}

// jsonString decodes raw as a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	b, ok := unquoteJSON(raw)
	return string(b), ok
}

package rpc

import (
	"crypto/rand"
	"encoding/json"
	"fmt"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// newUniqueID is a fresh uuid4 in hex, as oslo's _add_unique_id makes.
func newUniqueID() string { return string(appendUniqueID(nil)) }

// appendUniqueID appends a fresh uuid4 in hex to dst; every message
// carries one, and building it in place saves a string per message.
func appendUniqueID(dst []byte) []byte {
	var u [16]byte
	_, _ = rand.Read(u[:])  // never fails (crypto/rand)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	const hex = "0123456789abcdef"
	for _, b := range u {
		dst = append(dst, hex[b>>4], hex[b&0xf])
	}
	return dst
}

// encodeReply builds the enveloped reply body, members in the order oslo
// emits them: result, failure, ending, _msg_id, _unique_id. failureJSON is
// the failure object's JSON text (nil for none); the reply carries it as a
// string. The message is written escaped straight into the envelope's
// string, as envelope would write it, without building it first: the
// fixed parts are ASCII, so escaping the parts is escaping the whole.
func encodeReply(result json.RawMessage, failureJSON []byte, ending bool, msgID json.RawMessage) []byte {
	if len(result) == 0 {
		result = json.RawMessage("null")
	}
	if len(msgID) == 0 {
		msgID = json.RawMessage("null")
	}
	out := make([]byte, 0, len(osloEnvelopePrefix)+len(result)+len(result)/4+2*len(failureJSON)+len(msgID)+160)
	out = append(out, osloEnvelopePrefix...)
	out = append(out, `"{\"result\": `...)
	out = appendJSONStringBody(out, result)
	out = append(out, `, \"failure\": `...)
	if failureJSON == nil {
		out = append(out, "null"...)
	} else {
		out = appendJSONStringBody(out, appendJSONString(nil, failureJSON))
	}
	if ending {
		out = append(out, `, \"ending\": true, \"_msg_id\": `...)
	} else {
		out = append(out, `, \"ending\": false, \"_msg_id\": `...)
	}
	out = appendJSONStringBody(out, msgID)
	out = append(out, `, \"_unique_id\": \"`...)
	out = appendUniqueID(out)
	return append(out, `\"}"}`...)
}

// replyMsg is a reply as the client reads it (oslo's ReplyWaiter).
type replyMsg struct {
	MsgID   string
	Result  json.RawMessage
	Failure json.RawMessage
	Ending  bool
	// HasFailure is false when the failure member is absent: the Python
	// client then raises KeyError('failure').
	HasFailure bool
}

func decodeReply(contentType string, headers map[string]any, body []byte, maxInflated int64) (replyMsg, error) {
	msg, err := decodeBody(contentType, headers, body, maxInflated)
	if err != nil {
		return replyMsg{}, err
	}
	failure, hasFailure := msg.get("failure")
	result, _ := msg.get("result")
	ending, _ := msg.get("ending")
	rawID, _ := msg.get("_msg_id")
	r := replyMsg{Result: result, Failure: failure, HasFailure: hasFailure, Ending: python.TruthJSON(ending)}
	id, ok := jsonString(rawID)
	if !ok {
		return r, fmt.Errorf("%w: reply without a string _msg_id", ErrUndecodable)
	}
	r.MsgID = id
	return r, nil
}

// outcome is what one reply contributes to a call: a value, a remote
// failure, or nothing (a call-monitor heartbeat or an ending marker).
func (r replyMsg) outcome() (value json.RawMessage, remote error) {
	if !r.HasFailure {
		return nil, fmt.Errorf("rpc: reply to %s has no failure member", r.MsgID)
	}
	if python.TruthJSON(r.Failure) {
		re, err := decodeFailure(r.Failure)
		if err != nil {
			return nil, err
		}
		return nil, re
	}
	if len(r.Result) == 0 || string(r.Result) == "null" {
		return nil, nil
	}
	return r.Result, nil
}

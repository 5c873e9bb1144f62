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
// string.
func encodeReply(result json.RawMessage, failureJSON []byte, ending bool, msgID json.RawMessage) []byte {
	if len(result) == 0 {
		result = json.RawMessage("null")
	}
	if len(msgID) == 0 {
		msgID = json.RawMessage("null")
	}
	inner := make([]byte, 0, len(result)+len(failureJSON)+len(msgID)+128)
	inner = append(inner, `{"result": `...)
	inner = append(inner, result...)
	inner = append(inner, `, "failure": `...)
	if failureJSON == nil {
		inner = append(inner, "null"...)
	} else {
		inner = appendJSONString(inner, failureJSON)
	}
	if ending {
		inner = append(inner, `, "ending": true, "_msg_id": `...)
	} else {
		inner = append(inner, `, "ending": false, "_msg_id": `...)
	}
	inner = append(inner, msgID...)
	inner = append(inner, `, "_unique_id": "`...)
	inner = appendUniqueID(inner)
	inner = append(inner, `"}`...)
	return envelope(inner)
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

package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// The seeds are the captured oslo bodies of testdata/oslo (addCapturedBodies),
// the f.Add calls below, and the inputs under testdata/fuzz that once failed.

// addCapturedBodies seeds f with the body of every captured message.
func addCapturedBodies(f *testing.F) {
	for _, name := range fixtureNames(f) {
		f.Add([]byte(loadFixture(f, name).Body))
	}
}

// FuzzSplitObject: the zero-copy object scanner agrees with encoding/json.
func FuzzSplitObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[1,{"c":"}"}],"a":2}`, ` { "k\u00e9\"" : "v\\" } `, `[1]`, `"x"`, `{"a":}`, `{"a":1}x`} {
		f.Add([]byte(s))
	}
	addCapturedBodies(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string]json.RawMessage{}
		err := splitObject(data, func(k string, v []byte) { got[k] = v })
		var want map[string]json.RawMessage
		werr := json.Unmarshal(data, &want)
		if werr != nil || want == nil {
			if err == nil {
				t.Fatalf("splitObject accepted %q, encoding/json: %v", data, werr)
			}
			return
		}
		if err != nil {
			t.Fatalf("splitObject refused %q: %v", data, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d members, encoding/json has %d", len(got), len(want))
		}
		for k, w := range want {
			g, ok := got[k]
			if !ok {
				t.Fatalf("key %q missing", k)
			}
			if !bytes.Equal(compact(t, g), compact(t, w)) {
				t.Fatalf("value of %q: %s, want %s", k, g, w)
			}
		}
	})
}

func compact(t *testing.T, raw []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatalf("member %q is not valid JSON: %v", raw, err)
	}
	return buf.Bytes()
}

// FuzzDecodeRequest: any body either is refused with ErrUndecodable or
// decodes, and then the server's whole answer path (dispatch against the
// demo endpoints, reply encoding) works and yields a decodable reply.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"method": "echo", "args": {"context": 1}, "_msg_id": "m", "_reply_q": "q", "_timeout": "4"}`))
	f.Add([]byte(`{"oslo.version": "2.0", "oslo.message": "{\"method\": 5, \"version\": \"1.x\", \"_msg_id\": 1}"}`))
	addCapturedBodies(f)
	s := goldenServer(f)
	log := quietLog
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeRequest(contentTypeJSON, nil, body, testMaxInflated)
		// The fast reader of oslo's envelope agrees with the general one.
		if text, ok := osloEnvelopeMessage(body); ok {
			if fast, ok := requestFromText(text); ok {
				msg, err := decodeObject(text)
				if err != nil {
					t.Fatalf("the fast reader took text the general one refuses: %v", err)
				}
				if slow := requestFromMessage(msg); !reflect.DeepEqual(fast, slow) {
					t.Fatalf("fast reader: %+v\ngeneral: %+v", fast, slow)
				}
			}
		}
		if err != nil {
			if !errors.Is(err, ErrUndecodable) {
				t.Fatalf("error %v does not wrap ErrUndecodable", err)
			}
			if req == nil {
				return
			}
			// Answered with a failure: it names its caller.
			if _, ok := req.ReplyQueue(); !ok || !req.WantsReply() || req.Undecodable == nil {
				t.Fatalf("an undecodable request without caller or failure: %+v", req)
			}
		}
		req.heartbeatInterval()
		req.dedupKey()
		if m := req.MethodName(); m == "slow" || m == "panic" {
			return // sleeps; panics are covered by unit tests
		}
		reply, _, _ := s.respond(context.Background(), req, log)
		if !req.WantsReply() {
			if reply != nil {
				t.Fatal("a reply for a cast")
			}
			return
		}
		r, err := decodeReply(contentTypeJSON, nil, reply, testMaxInflated)
		if err != nil && string(req.MsgID) != "" {
			if _, isString := jsonString(req.MsgID); isString {
				t.Fatalf("our reply does not decode: %v\n%s", err, reply)
			}
			return
		}
		if !r.Ending {
			t.Fatal("a final reply without ending")
		}
		if _, err := r.outcome(); err != nil {
			var re *RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("our failure does not decode: %v", err)
			}
		}
	})
}

// FuzzDecompress: whatever a compressed body holds, inflating it never
// yields more than the limit, and every refusal is ErrUndecodable.
func FuzzDecompress(f *testing.F) {
	const limit = 1 << 20
	bomb, err := compress(make([]byte, 2*limit))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(false, bomb)
	f.Add(false, []byte("x\x9c\x03\x00\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, bzip2 bool, body []byte) {
		kind := zlibContentType
		if bzip2 {
			kind = bzip2ContentType
		}
		out, err := decompress(map[string]any{compressionHeader: kind}, body, limit)
		if err != nil {
			if !errors.Is(err, ErrUndecodable) {
				t.Fatalf("error %v does not wrap ErrUndecodable", err)
			}
			return
		}
		if len(out) > limit {
			t.Fatalf("inflated to %d bytes, limit %d", len(out), limit)
		}
	})
}

// FuzzContextRoundTrip: a request context (any JSON object) flattened into
// _context_* members by the client comes back member for member on the
// server.
func FuzzContextRoundTrip(f *testing.F) {
	f.Add([]byte(`{"request_id": "req-1", "roles": ["a"], "nested": {"x": null}}`))
	f.Add([]byte(`{"": 1, "é\"k": 2.5e300, "user_id": "\u2028<&>"}`))
	f.Fuzz(func(t *testing.T, ctxJSON []byte) {
		var ctxObj map[string]json.RawMessage
		if json.Unmarshal(ctxJSON, &ctxObj) != nil || ctxObj == nil {
			return
		}
		// As raw JSON, and as the decoded map the client's fast encoder
		// takes, when Go can decode it (a number beyond float64 cannot be).
		checkContextRoundTrip(t, json.RawMessage(ctxJSON), ctxObj)
		var ctxMap map[string]any
		if json.Unmarshal(ctxJSON, &ctxMap) == nil {
			checkContextRoundTrip(t, ctxMap, ctxObj)
		}
	})
}

// checkContextRoundTrip sends reqCtx in a request and checks that the
// server reads back ctxObj's members.
func checkContextRoundTrip(t *testing.T, reqCtx any, ctxObj map[string]json.RawMessage) {
	body, err := encodeRequest("m", nil, Target{Topic: "t"}, reqCtx, &callFields{msgID: "id", replyQ: "q"})
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	req, err := decodeRequest(contentTypeJSON, nil, body, testMaxInflated)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
	if len(req.Context) != len(ctxObj) {
		t.Fatalf("%d context members, sent %d", len(req.Context), len(ctxObj))
	}
	for k, v := range ctxObj {
		g := contextValue(req.Context, k)
		var got, sent any
		gErr, sErr := json.Unmarshal(g, &got), json.Unmarshal(v, &sent)
		switch {
		case gErr == nil && sErr == nil && reflect.DeepEqual(got, sent):
		case gErr != nil && sErr != nil && bytes.Equal(compact(t, g), compact(t, v)):
			// A number beyond float64 travels as it was written.
		default:
			t.Fatalf("context %q: %s, sent %s", k, g, v)
		}
	}
	if req.MethodName() != "m" || !req.WantsReply() {
		t.Fatal("call members lost")
	}
}

// FuzzAppendJSONValue: the client's encoder of decoded JSON values agrees
// with encoding/json on every value it takes, and takes every value a JSON
// document decodes to.
func FuzzAppendJSONValue(f *testing.F) {
	f.Add([]byte(`{"request_id": "req-1", "roles": ["a"], "n": [1e21, 1e-7, -0.0, 123456789, 1.5], "x": {"\b\f": null}}`))
	f.Add([]byte(`["\u2028<&>\ud800", true, false, {}, [], ""]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var v any
		if json.Unmarshal(doc, &v) != nil {
			return
		}
		fast, ok := appendJSONValue(nil, v)
		if !ok {
			t.Fatalf("refused a decoded document: %s", doc)
		}
		slow, err := EncodeJSON(v)
		if err != nil {
			t.Fatalf("encoding/json refuses what the fast encoder took: %v", err)
		}
		var fromFast, fromSlow any
		if err := json.Unmarshal(fast, &fromFast); err != nil {
			t.Fatalf("invalid output %s: %v", fast, err)
		}
		_ = json.Unmarshal(slow, &fromSlow)
		if !reflect.DeepEqual(fromFast, fromSlow) {
			t.Fatalf("fast %s\nencoding/json %s", fast, slow)
		}
	})
}

// FuzzDecodeReply: the client's reply and failure decoding never panics.
func FuzzDecodeReply(f *testing.F) {
	f.Add([]byte(`{"result": null, "failure": "{\"class\": 5}", "ending": 1, "_msg_id": "m"}`))
	addCapturedBodies(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeReply(contentTypeJSON, nil, body, testMaxInflated)
		if err != nil {
			return
		}
		if _, err := r.outcome(); err != nil {
			_ = err.Error()
		}
	})
}

// FuzzBind: any kwargs either bind or give the Python exception.
func FuzzBind(f *testing.F) {
	f.Add([]byte(`{"provider_id": "p", "checkpoint_id": "c"}`))
	f.Add([]byte(`{"limit": "x", "context": 1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, args []byte) {
		if !json.Valid(args) {
			return
		}
		var p struct {
			ProviderID   string         `json:"provider_id"`
			CheckpointID string         `json:"checkpoint_id"`
			Limit        *int           `json:"limit" rpc:"optional"`
			Filters      map[string]any `json:"filters" rpc:"optional"`
		}
		c := &Call{Method: "m", Class: "C", Args: args, contextParam: "context"}
		if err := c.Bind(&p); err != nil {
			var e *Exception
			if !errors.As(err, &e) || e.Module != BuiltinsModule {
				t.Fatalf("not a Python exception: %v", err)
			}
		}
	})
}

// FuzzUnquote: our JSON string decoding is encoding/json's.
func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\\\"b\\u00e9\\ud83d\\ude00\\ud800x\\n"`, `"\xff"`, `"bad\\q"`, `"\\ud83d\\u0041"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := unquoteJSON(bytes.Trim(raw, " \t\r\n")) // our values come trimmed
		var want string
		werr := json.Unmarshal(raw, &want)
		if trimmed := bytes.Trim(raw, " \t\r\n"); werr != nil || len(trimmed) == 0 || trimmed[0] != '"' {
			if ok && werr != nil {
				t.Fatalf("accepted %q, encoding/json: %v", raw, werr)
			}
			return
		}
		if !ok || string(got) != want {
			t.Fatalf("%q: got %q (%v), want %q", raw, got, ok, want)
		}
	})
}

// FuzzEnvelopeForms: a body in oslo's own envelope form reads as decoding
// its members one by one reads it.
func FuzzEnvelopeForms(f *testing.F) {
	for _, s := range []string{`{"method": "m", "args": {}}`, `{"a": "\"q\" \\ \u00e9 \ud83d\ude00"}`, `{"a": NaN}`, `[]`, `"x"`, `{"a": 1}  `} {
		inner, _ := json.Marshal(s)
		f.Add([]byte(osloEnvelopePrefix + string(inner) + "}"))
	}
	f.Add([]byte(osloEnvelopePrefix + `"{}" , "x": 1}`))
	f.Add([]byte(osloEnvelopePrefix + `"{}"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, ok := osloEnvelopeMessage(body); !ok {
			return
		}
		for _, decode := range []func([]byte) (message, error){decodeObject, decodePythonObject} {
			fast, fastErr := parseEnvelope(body, decode)
			slow, slowErr := parseEnvelopeMembers(body, decode)
			if fmt.Sprint(fastErr) != fmt.Sprint(slowErr) || fmt.Sprintf("%q", fast) != fmt.Sprintf("%q", slow) {
				t.Fatalf("%q: oslo form %q (%v), members %q (%v)", body, fast, fastErr, slow, slowErr)
			}
		}
	})
}

// FuzzBindDirect: a parameter set without encoding/json holds what
// json.Unmarshal would put there.
func FuzzBindDirect(f *testing.F) {
	for _, s := range []string{`"p"`, `"a\"b\u00e9"`, `null`, `1`, `{"a": [1, "x"]}`, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		raw = bytes.Trim(raw, " \t\r\n") // values come trimmed
		if !json.Valid(raw) {
			return
		}
		var s, wantS string
		if bindString(reflect.ValueOf(&s).Elem(), raw) {
			if err := json.Unmarshal(raw, &wantS); err != nil || s != wantS {
				t.Fatalf("%q: string %q, encoding/json %q (%v)", raw, s, wantS, err)
			}
		}
		var args struct {
			R json.RawMessage `json:"r"`
		}
		var wantR json.RawMessage
		call := &Call{Method: "m", Class: "C", Args: append(append([]byte(`{"r": `), raw...), '}')}
		if err := call.Bind(&args); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if err := json.Unmarshal(raw, &wantR); err != nil || !bytes.Equal(args.R, wantR) {
			t.Fatalf("%q: raw %q, encoding/json %q (%v)", raw, args.R, wantR, err)
		}
	})
}

package rpc

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeBodyRejects(t *testing.T) {
	env := func(version, msg string) string {
		return `{"oslo.version": ` + version + `, "oslo.message": ` + msg + `}`
	}
	tests := []struct {
		name, contentType, body string
	}{
		{"missing content type", "", `{"method": "echo"}`},
		{"text/plain", "text/plain", `{"method": "echo"}`},
		{"json with parameters", "application/json; charset=utf-8", `{"method": "echo"}`},
		{"not json", contentTypeJSON, `not json`},
		{"empty", contentTypeJSON, ``},
		{"array", contentTypeJSON, `[1, 2]`},
		{"string", contentTypeJSON, `"x"`},
		{"null", contentTypeJSON, `null`},
		{"envelope 3.0", contentTypeJSON, env(`"3.0"`, `"{}"`)},
		{"envelope 2.1", contentTypeJSON, env(`"2.1"`, `"{}"`)},
		{"envelope 2", contentTypeJSON, env(`"2"`, `"{}"`)},
		{"envelope version not a string", contentTypeJSON, env(`2.0`, `"{}"`)},
		{"message not a string", contentTypeJSON, env(`"2.0"`, `{"method": "echo"}`)},
		{"message not json", contentTypeJSON, env(`"2.0"`, `"nope"`)},
		{"message not an object", contentTypeJSON, env(`"2.0"`, `"[1]"`)},
		{"message null", contentTypeJSON, env(`"2.0"`, `"null"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeBody(tt.contentType, nil, []byte(tt.body), testMaxInflated)
			assert.ErrorIs(t, err, ErrUndecodable)
		})
	}
}

func TestDecodeBodyAccepts(t *testing.T) {
	for name, body := range map[string]string{
		"envelope 2.0":          `{"oslo.version": "2.0", "oslo.message": "{\"method\": \"m\"}"}`,
		"envelope 2.0.0":        `{"oslo.version": "2.0.0", "oslo.message": "{\"method\": \"m\"}"}`,
		"legacy":                `{"method": "m", "args": {}}`,
		"only one envelope key": `{"oslo.version": "9.9", "method": "m"}`,
		"compact utf-8":         `{"oslo.version":"2.0","oslo.message":"{\"method\":\"m\",\"x\":\"Grüße\"}"}`,
	} {
		t.Run(name, func(t *testing.T) {
			msg, err := decodeBody(contentTypeJSON, nil, []byte(body), testMaxInflated)
			require.NoError(t, err)
			m, _ := msg.get("method")
			assert.JSONEq(t, `"m"`, string(m))
		})
	}
}

func TestDecodeCompressed(t *testing.T) {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, _ = w.Write([]byte(`{"method": "m"}`))
	require.NoError(t, w.Close())
	msg, err := decodeBody(contentTypeJSON, map[string]any{"compression": zlibContentType}, buf.Bytes(), testMaxInflated)
	require.NoError(t, err)
	m, _ := msg.get("method")
	assert.JSONEq(t, `"m"`, string(m))

	_, err = decodeBody(contentTypeJSON, map[string]any{"compression": zlibContentType}, []byte("plain"), testMaxInflated)
	assert.ErrorIs(t, err, ErrUndecodable)
	_, err = decodeBody(contentTypeJSON, map[string]any{"compression": "application/x-brotli"}, []byte("x"), testMaxInflated)
	assert.ErrorIs(t, err, ErrUndecodable)

	c, err := compress([]byte(`{"a": 1}`))
	require.NoError(t, err)
	msg, err = decodeBody(contentTypeJSON, map[string]any{"compression": zlibContentType}, c, testMaxInflated)
	require.NoError(t, err)
	a, _ := msg.get("a")
	assert.JSONEq(t, `1`, string(a))
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "<a>&b</a>", "ctl\x00\x01\n\r\t", "Grüße €😀", "line\u2028sep", "bad\xffutf8"} {
		got := appendJSONString(nil, []byte(s))
		var back string
		require.NoError(t, json.Unmarshal(got, &back), "%q", got)
		if strings.Contains(s, "\xff") {
			assert.Equal(t, strings.ToValidUTF8(s, "\ufffd"), back)
		} else {
			assert.Equal(t, s, back)
		}
	}
	assert.Equal(t, `"<a>&b"`, string(appendJSONString(nil, []byte("<a>&b"))), "no HTML escaping")
}

// TestAppendJSONStringAtWordEdges: appendJSONStringBody copies plain text
// a word at a time into dst's spare capacity; every byte that needs an
// escape, at every offset in and around a word, into a dst full to
// capacity or not, comes out as encoding/json writes it (which spells \b
// and \f by name, where this encoder writes their \u form).
func TestAppendJSONStringAtWordEdges(t *testing.T) {
	pieces := []string{"\"", "\\", "\n", "\r", "\t", "\b", "\x01", "\x1f", "é", "😀", "\u2028", "\u2029", "\xff", "\xe2\x82", "<&>", "\x7f"}
	named := strings.NewReplacer(`\b`, `\u0008`, `\f`, `\u000c`)
	for _, piece := range pieces {
		for before := range 18 {
			for _, after := range []string{"", "z", "tail-of-nine", "\"\"\"\"", "\xff"} {
				text := strings.Repeat("a", before) + piece + after
				var want bytes.Buffer
				enc := json.NewEncoder(&want)
				enc.SetEscapeHTML(false)
				require.NoError(t, enc.Encode(text))
				wantText := named.Replace(strings.TrimSuffix(want.String(), "\n"))
				for _, dst := range [][]byte{nil, make([]byte, 3), make([]byte, 1, 64)} {
					got := appendJSONString(dst, text)
					assert.Equal(t, wantText, string(got[len(dst):]), "%q after %d bytes", text, len(dst))
					assert.Equal(t, wantText, string(appendJSONString(dst, []byte(text))[len(dst):]), "%q as bytes", text)
				}
			}
		}
	}
}

// TestUnquoteAtWordEdges: unquoteJSON reads plain text a word at a time
// and copies whole words past the escape that ends them; every kind of
// escape, at every offset in and around a word, with text before and
// after, decodes as encoding/json decodes it (or is refused as it is).
func TestUnquoteAtWordEdges(t *testing.T) {
	pieces := []string{
		`\"`, `\\`, `\/`, `\n`, `\t`, `\u00e9`, `\ud83d\ude00`, `\ud800`, `\ud83d\u0041`,
		"é", "😀", "\xff", "\xe2\x82", `\q`, "\x01", `"`, `\u12`, `\`,
	}
	for _, piece := range pieces {
		for before := range 18 {
			for _, after := range []string{"", "z", "tail-of-nine", `\"\"\"\"`, "\xff"} {
				text := `"` + strings.Repeat("a", before) + piece + after + `"`
				got, ok := unquoteJSON([]byte(text))
				var want string
				if err := json.Unmarshal([]byte(text), &want); err != nil {
					assert.False(t, ok, "%q: accepted, encoding/json: %v", text, err)
					continue
				}
				if assert.True(t, ok, "%q: refused", text) {
					assert.Equal(t, want, string(got), "%q", text)
				}
			}
		}
	}
}

func TestVersionIsCompatible(t *testing.T) {
	tests := []struct {
		imp, req string
		ok       bool
		err      string
	}{
		{"1.0", "1.0", true, ""},
		{"1.3", "1.2", true, ""},
		{"1.0", "1.1", false, ""},
		{"1.0", "2.0", false, ""},
		{"1.0", "1.0.1", false, ""},
		{"1.0.2", "1.0.1", true, ""},
		{"1.1", "1.0.5", true, ""},
		{"1.0", "1", false, "IndexError"},
		{"1.0", "1.x", false, "ValueError"},
		{"1.0", " 1 . 0 ", true, ""},
	}
	for _, tt := range tests {
		ok, err := versionIsCompatible(tt.imp, tt.req)
		if tt.err != "" {
			var e *Exception
			require.ErrorAs(t, err, &e, "%s vs %s", tt.imp, tt.req)
			assert.Equal(t, tt.err, e.Class)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.ok, ok, "%s vs %s", tt.imp, tt.req)
	}
}

func TestExceptions(t *testing.T) {
	assert.Equal(t, "'missing'", NewKeyError("missing").Message)
	assert.Equal(t, []any{"missing"}, NewKeyError("missing").Args)
	assert.Equal(t, "('bad value', 42)", NewValueError("bad value", 42).Error())
	assert.Equal(t, "builtins", NewTypeError("x").Module)
	assert.Equal(t, "AttributeError", NewAttributeError("x").Class)
	ns := NoSuchMethod("m")
	assert.Equal(t, DispatcherModule, ns.Module)
	assert.Equal(t, "Endpoint does not support RPC method m", ns.Message)
	assert.Equal(t, "Endpoint does not support RPC version None", UnsupportedVersion(json.RawMessage("null"), nil).Message)
	assert.Equal(t, "Endpoint does not support RPC version 2.0. Attempted method: m",
		UnsupportedVersion(json.RawMessage(`"2.0"`), json.RawMessage(`"m"`)).Message)
}

func TestFailureFor(t *testing.T) {
	t.Run("wrapped remote exception keeps its face", func(t *testing.T) {
		f := failureFor(fmt.Errorf("ctx: %w", providerNotFound("p")), "Endpoint.fail")
		assert.Equal(t, "ProviderNotFound", f.Class)
		assert.Equal(t, "karbor.exception", f.Module)
		assert.Equal(t, "Provider p could not be found.", f.Message)
		assert.JSONEq(t, `["Provider p could not be found."]`, string(f.Args))
		assert.JSONEq(t, `{"provider_id": "p", "code": 404}`, string(f.Kwargs))
		assert.Equal(t, "karbor.exception.ProviderNotFound: Provider p could not be found.\n", f.Traceback[len(f.Traceback)-1])
		assert.Equal(t, "Traceback (most recent call last):\n", f.Traceback[0])
	})
	t.Run("plain error", func(t *testing.T) {
		f := failureFor(errors.New("boom"), "E.m")
		assert.Equal(t, "RuntimeError", f.Class)
		assert.Equal(t, "builtins", f.Module)
		assert.JSONEq(t, `["boom"]`, string(f.Args))
		assert.JSONEq(t, `{}`, string(f.Kwargs))
		assert.Equal(t, "RuntimeError: boom\n", f.Traceback[2])
	})
	t.Run("_Remote suffix stripped", func(t *testing.T) {
		f := failureFor(&Exception{Module: "karbor.exception_Remote", Class: "X_Remote", Message: "m"}, "E.m")
		assert.Equal(t, "X", f.Class)
		assert.Equal(t, "karbor.exception", f.Module)
		assert.JSONEq(t, `[]`, string(f.Args))
	})
	t.Run("unmarshalable args", func(t *testing.T) {
		f := failureFor(&Exception{Module: "m", Class: "C", Message: "msg", Args: []any{make(chan int)}}, "E.m")
		assert.JSONEq(t, `["msg"]`, string(f.Args))
	})
	t.Run("remote error round trip", func(t *testing.T) {
		fj, err := encodeFailure(failureFor(NewKeyError("k"), "E.m"))
		require.NoError(t, err)
		re, err := decodeFailure(json.RawMessage(appendJSONString(nil, fj)))
		require.NoError(t, err)
		assert.Equal(t, "KeyError", re.Class)
		assert.Equal(t, "'k'", re.Message)
		assert.Equal(t, "rpc: remote KeyError: 'k'", re.Error())
		again := failureFor(re, "E.m")
		assert.Equal(t, "KeyError", again.Class, "a RemoteError passed on keeps its face")
	})
	t.Run("bad failures", func(t *testing.T) {
		_, err := decodeFailure(json.RawMessage(`{"class": "X"}`))
		assert.Error(t, err, "failure as an object")
		_, err = decodeFailure(json.RawMessage(`"not json"`))
		assert.Error(t, err)
	})
}

func TestBind(t *testing.T) {
	type params struct {
		ProviderID   string `json:"provider_id"`
		CheckpointID string `json:"checkpoint_id"`
		Limit        *int   `json:"limit" rpc:"optional"`
		Skip         string `json:"-"`
		hidden       string
	}
	call := func(args string) *Call {
		return &Call{Method: "show_checkpoint", Class: "ProtectionManager", Args: json.RawMessage(args), contextParam: "context"}
	}
	var p params
	require.NoError(t, call(`{"checkpoint_id": "c", "provider_id": "p"}`).Bind(&p))
	assert.Equal(t, params{ProviderID: "p", CheckpointID: "c"}, p)
	require.NoError(t, call(`{"checkpoint_id": "c", "provider_id": "p", "limit": 3}`).Bind(&p))
	assert.Equal(t, 3, *p.Limit)
	_ = p.hidden

	tests := map[string]string{
		`{}`:                           "ProtectionManager.show_checkpoint() missing 2 required positional arguments: 'provider_id' and 'checkpoint_id'",
		`{"provider_id": "p"}`:         "ProtectionManager.show_checkpoint() missing 1 required positional argument: 'checkpoint_id'",
		`{"x": 1, "provider_id": 1}`:   "ProtectionManager.show_checkpoint() got an unexpected keyword argument 'x'",
		`{"provider_id": "p", "y": 1}`: "ProtectionManager.show_checkpoint() got an unexpected keyword argument 'y'",
		`{"context": {}}`:              "ProtectionManager.show_checkpoint() got multiple values for argument 'context'",
		`{"Skip": 1}`:                  "ProtectionManager.show_checkpoint() got an unexpected keyword argument 'Skip'",
		`{"provider_id": 5, "checkpoint_id": "c"}`: "ProtectionManager.show_checkpoint() argument 'provider_id': expected string, got a JSON number",
	}
	for args, want := range tests {
		t.Run(args, func(t *testing.T) {
			err := call(args).Bind(&params{})
			var e *Exception
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "TypeError", e.Class)
			assert.Equal(t, "builtins", e.Module)
			assert.Equal(t, want, e.Message)
		})
	}

	type three struct {
		A int `json:"a"`
		B int `json:"b"`
		C int `json:"c"`
		D int `json:"d" rpc:"optional"`
	}
	err := (&Call{Method: "m", Class: "E", Args: json.RawMessage(`{}`)}).Bind(&three{})
	assert.EqualError(t, err, "E.m() missing 3 required positional arguments: 'a', 'b', and 'c'")
	assert.Error(t, call(`{}`).Bind(params{}), "needs a pointer")
	err = call(`[1]`).Bind(&params{})
	assert.EqualError(t, err, "'list' object has no attribute 'items'")
}

func TestDispatchRules(t *testing.T) {
	d := dispatcher{endpoints: demoEndpoints(demoOptions{})}
	req := func(msg string) *request {
		var m message
		require.NoError(t, json.Unmarshal([]byte(msg), &m))
		return requestFromMessage(m)
	}
	tests := []struct {
		msg, class, text string
	}{
		{`{"method": "echo", "version": null}`, "UnsupportedVersion", "Endpoint does not support RPC version None. Attempted method: echo"},
		{`{"method": "ns_echo", "namespace": "other", "version": "2.4"}`, "UnsupportedVersion", "Endpoint does not support RPC version 2.4. Attempted method: ns_echo"},
		{`{"method": "echo", "namespace": 5}`, "UnsupportedVersion", "Endpoint does not support RPC version 1.0. Attempted method: echo"},
		{`{"version": "3.0"}`, "UnsupportedVersion", "Endpoint does not support RPC version 3.0"},
		{`{"method": "echo", "namespace": "other", "version": "2.0"}`, "NoSuchMethod", "Endpoint does not support RPC method echo"},
		{`{"args": {}}`, "TypeError", "attribute name must be string, not 'NoneType'"},
		{`{"method": 7}`, "TypeError", "attribute name must be string, not 'int'"},
		{`{"method": "echo", "args": null}`, "AttributeError", "'NoneType' object has no attribute 'items'"},
		{`{"method": "echo", "args": [1]}`, "AttributeError", "'list' object has no attribute 'items'"},
		{`{"method": "echo", "version": 1.0}`, "AttributeError", "'float' object has no attribute 'split'"},
		{`{"method": "echo", "version": "one.zero"}`, "ValueError", "invalid literal for int() with base 10: 'one'"},
		{`{"method": "echo", "version": "1"}`, "IndexError", "list index out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			_, _, err := d.dispatch(context.Background(), req(tt.msg))
			var e *Exception
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.class, e.Class)
			assert.Equal(t, tt.text, e.Message)
		})
	}

	call, res, err := d.dispatch(context.Background(), req(`{"method": "ns_echo", "namespace": "other", "version": "2.3", "args": {"x": 8}}`))
	require.NoError(t, err)
	assert.Equal(t, "OtherEndpoint", call.Class)
	out, _ := json.Marshal(res)
	assert.JSONEq(t, `{"ns": "other", "x": 8}`, string(out))

	_, _, err = d.dispatch(context.Background(), req(`{"method": "panic"}`))
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "handler bug", pe.Value)
	assert.Contains(t, string(pe.Stack), "demoEndpoints")
	assert.Equal(t, "RuntimeError", failureFor(err, "x").Class)
}

func TestRespondFailures(t *testing.T) {
	s := goldenServer(t)
	for method, class := range map[string]string{"panic": "RuntimeError", "fail_plain": "RuntimeError", "unmarshalable": "TypeError"} {
		t.Run(method, func(t *testing.T) {
			req := requestFromMessage(message{
				{"method", json.RawMessage(`"` + method + `"`)}, {"_msg_id", json.RawMessage(`"id1"`)}, {"_reply_q", json.RawMessage(`"reply_q"`)},
			})
			body, _, _ := s.respond(context.Background(), req, quietLog)
			r, err := decodeReply(contentTypeJSON, nil, body, testMaxInflated)
			require.NoError(t, err)
			assert.Equal(t, "id1", r.MsgID)
			assert.True(t, r.Ending)
			_, rerr := r.outcome()
			var re *RemoteError
			require.ErrorAs(t, rerr, &re)
			assert.Equal(t, class, re.Class)
		})
	}
}

func TestEndpointPanicsOnMisuse(t *testing.T) {
	h := func(context.Context, *Call) (any, error) { return nil, nil }
	assert.Panics(t, func() { NewEndpoint("E", "1").Handle("m", h) })
	assert.Panics(t, func() { NewEndpoint("E", "").Handle("_m", h) })
	assert.Panics(t, func() { NewEndpoint("E", "").Handle("m", nil) })
	assert.Panics(t, func() { NewEndpoint("E", "").Handle("m", h).Handle("m", h) })
}

func TestRequestHelpers(t *testing.T) {
	tests := []struct {
		timeout string
		want    time.Duration
	}{
		{"", 0}, {"null", 0}, {"1", 0}, {"2", time.Second}, {"3", 1500 * time.Millisecond}, {"5.9", 2500 * time.Millisecond},
		{`"4"`, 2 * time.Second}, {`"x"`, 0}, {"true", 0}, {"[4]", 0}, {"-4", 0},
	}
	for _, tt := range tests {
		r := &request{Timeout: json.RawMessage(tt.timeout)}
		assert.Equal(t, tt.want, r.heartbeatInterval(), tt.timeout)
	}
	r := &request{UniqueID: json.RawMessage(`"abc"`)}
	assert.Equal(t, "abc", r.dedupKey())
	r.UniqueID = json.RawMessage(`[1, 2]`)
	assert.Equal(t, "\x00[1,2]", r.dedupKey())
	r.UniqueID = json.RawMessage(`""`)
	assert.Equal(t, "", r.dedupKey())
}

func TestEncodeRequest(t *testing.T) {
	type ctxT struct {
		UserID    string `json:"user_id"`
		RequestID string `json:"request_id"`
		Roles     []string
	}
	body, err := encodeRequest("show", map[string]any{"a": "<&>"}, Target{Topic: "t", Version: "1.0", Namespace: "ns"},
		ctxT{"u", "req-1", []string{"admin"}}, &callFields{msgID: "m1", replyQ: "reply_x", callMonitorTimeout: 2 * time.Second})
	require.NoError(t, err)
	var outer map[string]string
	require.NoError(t, json.Unmarshal(body, &outer))
	assert.Equal(t, "2.0", outer["oslo.version"])
	inner := outer["oslo.message"]
	assert.Equal(t, `{"method": "show", "args": {"a":"<&>"}, "namespace": "ns", "version": "1.0", "_msg_id": "m1", "_reply_q": "reply_x", "_timeout": 2, "_unique_id": "`,
		inner[:strings.Index(inner, `_unique_id": "`)+len(`_unique_id": "`)])
	assert.True(t, strings.HasSuffix(inner, `, "_context_user_id": "u", "_context_request_id": "req-1", "_context_Roles": ["admin"]}`), inner)

	req, err := decodeRequest(contentTypeJSON, nil, body, testMaxInflated)
	require.NoError(t, err)
	assert.Equal(t, "req-1", req.RequestID())
	assert.Equal(t, time.Second, req.heartbeatInterval())

	cast, err := encodeRequest("c", nil, Target{Topic: "t"}, nil, nil)
	require.NoError(t, err)
	req, err = decodeRequest(contentTypeJSON, nil, cast, testMaxInflated)
	require.NoError(t, err)
	assert.False(t, req.WantsReply())
	assert.Nil(t, req.Version, "no version member without a target version")
	assert.Nil(t, req.Namespace)
	assert.JSONEq(t, `{}`, string(req.Args))

	_, err = encodeRequest("c", []int{1}, Target{}, nil, nil)
	assert.Error(t, err)
	_, err = encodeRequest("c", nil, Target{}, "ctx", nil)
	assert.Error(t, err)
	assert.Equal(t, "1.5", secondsJSON(1500*time.Millisecond))
}

func TestCaches(t *testing.T) {
	var c msgIDCache
	assert.False(t, c.seen(""))
	assert.False(t, c.seen(""))
	assert.False(t, c.seen("a"))
	assert.True(t, c.seen("a"))
	for i := range dedupWindow {
		assert.False(t, c.seen(fmt.Sprint(i)))
	}
	assert.False(t, c.seen("a"), "forgotten after 16 newer ids")

	o := newObsoleteReplyQueues()
	now := time.Unix(0, 0)
	o.now = func() time.Time { return now }
	o.add("q")
	assert.True(t, o.contains("q"))
	now = now.Add(61 * time.Second)
	assert.False(t, o.contains("q"), "expires after 60 s")
	for i := range 300 {
		o.add(fmt.Sprint(i))
	}
	assert.False(t, o.contains("0"), "keeps 200")
	assert.True(t, o.contains("299"))
}

// TestDecompressLimit: a compressed body inflates to at most the limit; a
// bigger one (a compression bomb) is refused once the limit is read, not
// after inflating it all.
func TestDecompressLimit(t *testing.T) {
	const limit = 1 << 20
	zeros := func(n int) []byte {
		c, err := compress(make([]byte, n))
		require.NoError(t, err)
		return c
	}
	bz2, err := os.ReadFile("testdata/bomb/zeros-2MiB.bz2") // bzip2 -9 of 2 MiB of zeros
	require.NoError(t, err)
	tests := []struct {
		name    string
		kind    string
		body    []byte
		limit   int64
		wantLen int // -1: ErrTooLarge
	}{
		{"zlib at the limit", zlibContentType, zeros(limit), limit, limit},
		{"zlib one byte over", zlibContentType, zeros(limit + 1), limit, -1},
		{"zlib bomb", zlibContentType, zeros(64 << 20), limit, -1},
		{"zlib without limit", zlibContentType, zeros(2 << 20), 0, 2 << 20},
		{"bzip2 bomb", bzip2ContentType, bz2, limit, -1},
		{"bzip2 under the limit", bzip2ContentType, bz2, 4 << 20, 2 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := decompress(map[string]any{compressionHeader: tt.kind}, tt.body, tt.limit)
			if tt.wantLen < 0 {
				require.ErrorIs(t, err, ErrTooLarge)
				require.ErrorIs(t, err, ErrUndecodable)
				assert.Contains(t, err.Error(), fmt.Sprintf("inflates to more than %d bytes", tt.limit))
				return
			}
			require.NoError(t, err)
			assert.Len(t, out, tt.wantLen)
		})
	}
}

// Every message's _unique_id is a uuid4 in hex, as oslo's uuid.uuid4().hex.
func TestUniqueIDIsUUID4Hex(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := newUniqueID()
		require.Len(t, id, 32)
		u, err := uuid.Parse(id)
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(4), u.Version())
		assert.Equal(t, uuid.RFC4122, u.Variant())
		assert.Equal(t, strings.ReplaceAll(u.String(), "-", ""), id, "lower-case hex")
		assert.False(t, seen[id])
		seen[id] = true
	}
}

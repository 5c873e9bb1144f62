package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from what the server builds")

// fixture is one captured AMQP message (testdata/oslo: messages captured
// between real oslo.messaging 14 processes).
type fixture struct {
	Exchange   string         `json:"exchange"`
	RoutingKey string         `json:"routing_key"`
	Properties map[string]any `json:"properties"`
	Body       string         `json:"body"`
	Meta       struct {
		Description string          `json:"description"`
		Decoded     json.RawMessage `json:"decoded_oslo_message"`
	} `json:"meta"`
}

func (f fixture) contentType() string {
	s, _ := f.Properties["content_type"].(string)
	return s
}

func loadFixture(t testing.TB, name string) fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "oslo", name))
	require.NoError(t, err)
	var f fixture
	require.NoError(t, json.Unmarshal(data, &f))
	return f
}

func fixtureNames(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "oslo", "index.json"))
	require.NoError(t, err)
	var idx struct {
		Files map[string]string `json:"files"`
	}
	require.NoError(t, json.Unmarshal(data, &idx))
	var names []string
	for n := range idx.Files {
		names = append(names, n)
	}
	require.Len(t, names, 38)
	return names
}

// TestFixturesDecode: every captured request decodes to the message the
// capture recorded, and every captured reply to its result or failure.
func TestFixturesDecode(t *testing.T) {
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			msg, err := decodeBody(f.contentType(), nil, []byte(f.Body), testMaxInflated)
			require.NoError(t, err)
			got, err := json.Marshal(msg)
			require.NoError(t, err)
			assert.JSONEq(t, string(f.Meta.Decoded), string(got))

			var want map[string]any
			require.NoError(t, json.Unmarshal(f.Meta.Decoded, &want))
			if strings.HasPrefix(name, "request_") {
				req, err := decodeRequest(f.contentType(), nil, []byte(f.Body), testMaxInflated)
				require.NoError(t, err)
				assert.Equal(t, want["method"], req.MethodName())
				assert.Equal(t, want["_msg_id"] != nil, req.WantsReply())
				if id, ok := want["_context_request_id"]; ok {
					assert.Equal(t, id, req.RequestID())
				}
				for k, v := range want {
					if name, ok := strings.CutPrefix(k, contextPrefix); ok {
						sent, err := json.Marshal(v)
						require.NoError(t, err)
						got := contextValue(req.Context, name)
						require.NotNil(t, got, "context member %s", name)
						assert.JSONEq(t, string(sent), string(got), "context member %s", name)
					}
				}
				return
			}
			r, err := decodeReply(f.contentType(), nil, []byte(f.Body), testMaxInflated)
			require.NoError(t, err)
			assert.Equal(t, want["_msg_id"], r.MsgID)
			assert.Equal(t, want["ending"], r.Ending)
			value, rerr := r.outcome()
			if fs, _ := want["failure"].(string); fs != "" {
				var wf map[string]any
				require.NoError(t, json.Unmarshal([]byte(fs), &wf))
				var re *RemoteError
				require.ErrorAs(t, rerr, &re)
				assert.Equal(t, wf["class"], re.Class)
				assert.Equal(t, wf["module"], re.Module)
				assert.Equal(t, wf["message"], re.Message)
				assert.Equal(t, wf["kwargs"], re.Kwargs)
				assert.Equal(t, wf["args"], re.Args)
				assert.NotEmpty(t, re.Traceback)
				return
			}
			require.NoError(t, rerr)
			if want["result"] == nil {
				assert.Nil(t, value)
			} else {
				wantResult, _ := json.Marshal(want["result"])
				assert.JSONEq(t, string(wantResult), string(value))
			}
		})
	}
}

// goldenCase pairs a captured reply with the request that produced it: a
// captured request, or request_call_topic with its members changed (the
// capture has no request fixture for every reply).
type goldenCase struct {
	reply   string
	request string
	change  map[string]any // members to set; nil deletes
}

var goldenCases = []goldenCase{
	{reply: "reply_result_dict.json", request: "request_call_topic.json"},
	{reply: "reply_result_call_server.json", request: "request_call_server.json"},
	{reply: "reply_result_null.json", request: "request_call_no_args.json"},
	{reply: "reply_result_namespace.json", request: "request_call_namespace.json"},
	{reply: "reply_result_unicode.json", request: "request_call_unicode_dict_context.json"},
	{reply: "reply_result_to_minimal_request.json", request: "request_handmade_minimal.json"},
	{reply: "reply_result_to_unenveloped_request.json", request: "request_handmade_without_envelope.json"},
	{reply: "reply_result_after_heartbeats.json", request: "request_call_with_call_monitor_timeout.json"},
	{reply: "reply_result_string.json", change: map[string]any{"method": "ret_str", "args": map[string]any{}}},
	{reply: "reply_result_list.json", change: map[string]any{"method": "ret_list", "args": map[string]any{}}},
	{reply: "reply_failure_karbor_exception.json", change: map[string]any{"method": "fail", "args": map[string]any{"provider_id": "prov-9"}}},
	{reply: "reply_failure_expected_exception.json", change: map[string]any{"method": "fail_expected", "args": map[string]any{"checkpoint_id": "cp-1"}}},
	{reply: "reply_failure_builtin_valueerror.json", change: map[string]any{"method": "fail_builtin", "args": map[string]any{}}},
	{reply: "reply_failure_builtin_keyerror.json", change: map[string]any{"method": "fail_keyerror", "args": map[string]any{}}},
	{reply: "reply_failure_no_such_method.json", change: map[string]any{"method": "no_such_method"}},
	{reply: "reply_failure_private_method.json", change: map[string]any{"method": "_private", "args": map[string]any{}}},
	{reply: "reply_failure_method_in_other_namespace.json", change: map[string]any{"method": "ns_echo", "args": map[string]any{"x": 1}}},
	{reply: "reply_failure_namespace_mismatch.json", change: map[string]any{"namespace": "nonexistent"}},
	{reply: "reply_failure_type_error_missing_arg.json", change: map[string]any{"method": "slow", "args": map[string]any{}}},
	{reply: "reply_failure_type_error_unexpected_kwarg.json", change: map[string]any{"method": "ret_none", "args": map[string]any{"bogus": 1}}},
	{reply: "reply_failure_unsupported_version_major.json", change: map[string]any{"version": "2.0"}},
	{reply: "reply_failure_unsupported_version_minor.json", change: map[string]any{"version": "1.1"}},
	{reply: "reply_failure_unsupported_version_revision.json", change: map[string]any{"version": "1.0.1"}},
}

func goldenServer(t testing.TB) *Server {
	t.Helper()
	s, err := NewServer(ServerConfig{TransportURL: "rabbit://", Exchange: "karbor", Topic: "karbor-protection", Server: "host1"},
		demoEndpoints(demoOptions{})...)
	require.NoError(t, err)
	return s
}

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(bytes.NewBuffer(nil))
	return logrus.NewEntry(l)
}

// requestFor builds the request body of a golden case.
func requestFor(t *testing.T, c goldenCase, replyMsgID any) fixture {
	t.Helper()
	if c.request != "" {
		return loadFixture(t, c.request)
	}
	base := loadFixture(t, "request_call_topic.json")
	var msg map[string]any
	require.NoError(t, json.Unmarshal(base.Meta.Decoded, &msg))
	for k, v := range c.change {
		msg[k] = v
	}
	msg["_msg_id"] = replyMsgID
	inner, err := json.Marshal(msg)
	require.NoError(t, err)
	base.Body = string(envelope(inner))
	return base
}

// normalizeReply decodes a reply body for comparison: _unique_id and the
// failure's tb dropped, the failure string parsed.
func normalizeReply(t *testing.T, body []byte) map[string]any {
	t.Helper()
	msg, err := decodeBody(contentTypeJSON, nil, body, testMaxInflated)
	require.NoError(t, err)
	raw, err := json.Marshal(msg)
	require.NoError(t, err)
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&m))
	require.Contains(t, m, "_unique_id")
	delete(m, "_unique_id")
	if s, ok := m["failure"].(string); ok {
		var f map[string]any
		require.NoError(t, json.Unmarshal([]byte(s), &f))
		tb, _ := f["tb"].([]any)
		require.NotEmpty(t, tb, "a failure carries a traceback")
		require.True(t, strings.HasSuffix(tb[len(tb)-1].(string), "\n"))
		delete(f, "tb")
		m["failure"] = f
	}
	return m
}

// TestRepliesMatchCaptured: for each captured reply, the reply our server
// builds for the same request equals it but for ids, tracebacks and key
// order. Our own output is also kept in testdata/golden (-update).
func TestRepliesMatchCaptured(t *testing.T) {
	s := goldenServer(t)
	for _, c := range goldenCases {
		t.Run(strings.TrimSuffix(c.reply, ".json"), func(t *testing.T) {
			captured := loadFixture(t, c.reply)
			want := normalizeReply(t, []byte(captured.Body))
			reqFix := requestFor(t, c, want["_msg_id"])
			req, err := decodeRequest(reqFix.contentType(), nil, []byte(reqFix.Body), testMaxInflated)
			require.NoError(t, err)
			body, _, _ := s.respond(context.Background(), req, quietLog)
			require.NotNil(t, body)
			got := normalizeReply(t, body)
			assert.Equal(t, want, got)
			checkGolden(t, c.reply, got)
		})
	}
}

func checkGolden(t *testing.T, name string, got map[string]any) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	data, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	data = append(data, '\n')
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, data, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), string(data))
}

// TestHeartbeatMatchesCaptured: a call-monitor heartbeat is the captured one.
func TestHeartbeatMatchesCaptured(t *testing.T) {
	captured := loadFixture(t, "reply_call_monitor_heartbeat.json")
	want := normalizeReply(t, []byte(captured.Body))
	req, err := decodeRequest(contentTypeJSON, nil, []byte(loadFixture(t, "request_call_with_call_monitor_timeout.json").Body), testMaxInflated)
	require.NoError(t, err)
	assert.Equal(t, want, normalizeReply(t, encodeReply(nil, nil, false, req.MsgID)))
	assert.Equal(t, "1s", req.heartbeatInterval().String(), "_timeout 2 means a heartbeat every second")
}

// TestCastsGetNoReply: casts never get a reply, not even a failure.
func TestCastsGetNoReply(t *testing.T) {
	s := goldenServer(t)
	for _, name := range []string{"request_cast_topic.json", "request_cast_server.json", "request_cast_fanout.json"} {
		f := loadFixture(t, name)
		for _, method := range []string{"echo", "fail_plain", "no_such_method"} {
			body := strings.Replace(f.Body, `\"method\": \"echo\"`, `\"method\": \"`+method+`\"`, 1)
			req, err := decodeRequest(f.contentType(), nil, []byte(body), testMaxInflated)
			require.NoError(t, err)
			require.Equal(t, method, req.MethodName())
			reply, _, _ := s.respond(context.Background(), req, quietLog)
			assert.Nil(t, reply, "%s %s", name, method)
		}
	}
}

// TestRepliesProperties: the AMQP properties of our replies and requests are
// the captured ones.
func TestRepliesProperties(t *testing.T) {
	reply := loadFixture(t, "reply_result_dict.json")
	p := replyPublishing(nil)
	assert.Equal(t, reply.Properties["content_type"], p.ContentType)
	assert.Equal(t, reply.Properties["content_encoding"], p.ContentEncoding)
	assert.EqualValues(t, reply.Properties["delivery_mode"], p.DeliveryMode)
	assert.EqualValues(t, reply.Properties["priority"], p.Priority)
	assert.NotNil(t, p.Headers)
	assert.Empty(t, p.Headers)
	assert.Empty(t, p.Expiration)

	req := loadFixture(t, "request_call_topic.json")
	q := requestPublishing(nil)
	assert.Equal(t, req.Properties["content_type"], q.ContentType)
	assert.Equal(t, req.Properties["content_encoding"], q.ContentEncoding)
	assert.EqualValues(t, req.Properties["delivery_mode"], q.DeliveryMode)
	assert.Equal(t, req.Properties["expiration"], expirationMillis(60e9))
}

// Package karbortest holds the fixtures that the tests of several packages
// share: one session of karbor's own API RPC client (ProtectionAPI,
// oslo.messaging 14) against the real Python karbor-protection, recorded
// with the noop provider and a file-system bank, and the database rows the
// Python service wrote during it (SQLite). Tests replay its requests and
// compare their replies and rows with the recorded ones.
package karbortest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

//go:embed api-session-noop-fs.json
var apiSession []byte

//go:embed db-rows-after-session.json
var dbRows []byte

// NoopProviderID is the provider every request of the session names.
const NoopProviderID = "b766f37c-d011-4026-8228-28730d734a3f"

// Exchange is one request of the session and the Python service's reply.
type Exchange struct {
	Method string
	// Request is the decoded oslo.message: method, args, version, _msg_id,
	// _reply_q, _unique_id and the flattened _context_* members.
	Request map[string]json.RawMessage
	// Args are the keyword arguments, as sent.
	Args map[string]json.RawMessage
	// Context is the request context: the _context_* members of Request
	// without their prefix.
	Context map[string]json.RawMessage
	// Result is the reply's result (null for a failure).
	Result json.RawMessage
	// Failure is the reply's failure, nil when the call succeeded.
	Failure *Failure
}

// Failure is a failure reply as oslo.messaging serializes it.
type Failure struct {
	Class   string         `json:"class"`
	Module  string         `json:"module"`
	Message string         `json:"message"`
	Args    []any          `json:"args"`
	Kwargs  map[string]any `json:"kwargs"`
	// Text is the serialized failure, the JSON text of the reply's
	// "failure" member.
	Text string `json:"-"`
}

// ArgValues returns Args decoded as encoding/json decodes into any.
func (x *Exchange) ArgValues() (map[string]any, error) { return values(x.Args) }

// ContextValues returns Context decoded as encoding/json decodes into any.
func (x *Exchange) ContextValues() (map[string]any, error) { return values(x.Context) }

func values(raw map[string]json.RawMessage) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		var val any
		if err := json.Unmarshal(v, &val); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = val
	}
	return out, nil
}

// Session decodes the recorded session, in call order. Every call returns
// new values, so a test may change them. It fails t if the fixture does not
// decode.
func Session(t testing.TB) []Exchange {
	t.Helper()
	out, err := decodeSession(apiSession)
	if err != nil {
		t.Fatalf("karbortest: the recorded session: %v", err)
	}
	return out
}

func decodeSession(data []byte) ([]Exchange, error) {
	var s struct {
		Exchanges []struct {
			Method  string                     `json:"method"`
			Request map[string]json.RawMessage `json:"request"`
			Reply   struct {
				Result  json.RawMessage `json:"result"`
				Failure *string         `json:"failure"`
			} `json:"reply"`
		} `json:"exchanges"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	out := make([]Exchange, len(s.Exchanges))
	for i, e := range s.Exchanges {
		x := Exchange{Method: e.Method, Request: e.Request, Result: e.Reply.Result, Context: map[string]json.RawMessage{}}
		if err := json.Unmarshal(e.Request["args"], &x.Args); err != nil {
			return nil, fmt.Errorf("exchange %d (%s): args: %w", i, e.Method, err)
		}
		for k, v := range e.Request {
			if name, ok := strings.CutPrefix(k, "_context_"); ok {
				x.Context[name] = v
			}
		}
		if e.Reply.Failure != nil {
			x.Failure = &Failure{Text: *e.Reply.Failure}
			if err := json.Unmarshal([]byte(*e.Reply.Failure), x.Failure); err != nil {
				return nil, fmt.Errorf("exchange %d (%s): failure: %w", i, e.Method, err)
			}
		}
		out[i] = x
	}
	return out, nil
}

// DBRows decodes the rows the Python service wrote during the session, by
// table, in the order it wrote them; numbers decode as float64. Every call
// returns new values. It fails t if the fixture does not decode.
func DBRows(t testing.TB) map[string][]map[string]any {
	t.Helper()
	var f struct {
		Rows map[string][]map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(dbRows, &f); err != nil {
		t.Fatalf("karbortest: the recorded database rows: %v", err)
	}
	return f.Rows
}

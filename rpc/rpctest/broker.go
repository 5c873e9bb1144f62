// Package rpctest is test support for code that talks oslo.messaging over
// RabbitMQ: a throw-away virtual host per test, forced connection closes
// through the management API, and real Python oslo.messaging client and
// server processes driven over JSON lines.
//
// Environment (set by tox-like-test.sh):
//
//	KARBOR_TEST_AMQP_URL    amqp://guest:guest@127.0.0.1:5672/ (host and credentials)
//	KARBOR_TEST_RABBIT_API  http://guest:guest@127.0.0.1:15672 (management plugin)
//	KARBOR_TEST_PYTHON      /usr/bin/python3 with python3-oslo.messaging
//	CI                      "true": a missing service fails the test instead of skipping it
package rpctest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	defaultAMQPURL = "amqp://guest:guest@127.0.0.1:5672/"
	defaultAPIURL  = "http://guest:guest@127.0.0.1:15672"
)

// InCI reports whether missing services must fail tests (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips the test, or fails it under CI, because a service it
// needs is missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and "+format, args...)
	}
	t.Skipf(format, args...)
}

// EnvOr is the environment variable name, or def when it is unset or empty:
// how every test peer finds its address and credentials.
func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// httpClient keeps no idle connections, so that tests counting goroutines
// see none of its own.
var httpClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}

// api is the RabbitMQ management HTTP API.
type api struct {
	base *url.URL
	user string
	pass string
}

func managementAPI(t testing.TB) *api {
	t.Helper()
	raw := EnvOr("KARBOR_TEST_RABBIT_API", defaultAPIURL)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("KARBOR_TEST_RABBIT_API %q: %v", raw, err)
	}
	a := &api{base: u, user: u.User.Username()}
	a.pass, _ = u.User.Password()
	a.base.User = nil
	return a
}

func (a *api) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(a.base.String(), "/")+path, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth(a.user, a.pass)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Reason", "rpctest")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (a *api) call(t testing.TB, method, path string, body, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.do(ctx, method, path, body, out); err != nil {
		t.Fatalf("RabbitMQ management API: %v", err)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Vhost creates a virtual host for this test, gives the AMQP user of
// KARBOR_TEST_AMQP_URL full rights on it, deletes it when the test ends, and
// returns the oslo transport URL that opens it
// (rabbit://user:pass@host:port/<vhost>).
func Vhost(t testing.TB) string {
	t.Helper()
	amqpURL, err := url.Parse(EnvOr("KARBOR_TEST_AMQP_URL", defaultAMQPURL))
	if err != nil {
		t.Fatalf("KARBOR_TEST_AMQP_URL: %v", err)
	}
	a := managementAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.do(ctx, http.MethodGet, "/api/overview", nil, nil); err != nil {
		Unavailable(t, "RabbitMQ management API unreachable: %v", err)
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := unsafeName.ReplaceAllString(t.Name(), "_")
	if len(name) > 60 {
		name = name[:60]
	}
	name = "rpctest-" + name + "-" + hex.EncodeToString(rnd[:])
	path := "/api/vhosts/" + url.PathEscape(name)
	a.call(t, http.MethodPut, path, map[string]any{}, nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.do(ctx, http.MethodDelete, path, nil, nil); err != nil {
			t.Errorf("deleting vhost %s: %v", name, err)
		}
	})
	user := amqpURL.User.Username()
	a.call(t, http.MethodPut, "/api/permissions/"+url.PathEscape(name)+"/"+url.PathEscape(user),
		map[string]string{"configure": ".*", "write": ".*", "read": ".*"}, nil)
	amqpURL.Scheme = "rabbit"
	amqpURL.Path = "/" + name
	amqpURL.RawPath = "/" + url.PathEscape(name)
	return amqpURL.String()
}

// AMQPURL turns an oslo transport URL from Vhost into the amqp:// URL a
// plain AMQP client (amqp091-go) dials.
func AMQPURL(transportURL string) string {
	return "amqp" + strings.TrimPrefix(transportURL, "rabbit")
}

// VhostOf returns the (decoded) virtual host of a transport URL.
func VhostOf(t testing.TB, transportURL string) string {
	t.Helper()
	u, err := url.Parse(transportURL)
	if err != nil {
		t.Fatalf("transport URL %q: %v", transportURL, err)
	}
	v := strings.TrimPrefix(u.Path, "/")
	if v == "" {
		v = "/"
	}
	return v
}

// Connection is what the management API tells of one connection.
type Connection struct {
	Name             string         `json:"name"`
	User             string         `json:"user"`
	ClientProperties map[string]any `json:"client_properties"`
}

// ConnectionName is the client's connection_name property.
func (c Connection) ConnectionName() string {
	s, _ := c.ClientProperties["connection_name"].(string)
	return s
}

// Connections lists the connections to the transport URL's vhost. The
// management API learns of new connections with a delay of a few seconds.
func Connections(t testing.TB, transportURL string) []Connection {
	t.Helper()
	var conns []Connection
	managementAPI(t).call(t, http.MethodGet, "/api/vhosts/"+url.PathEscape(VhostOf(t, transportURL))+"/connections", nil, &conns)
	return conns
}

// WaitConnections waits until at least n connections to the vhost are known
// to the management API, and returns them.
func WaitConnections(t testing.TB, transportURL string, n int, within time.Duration) []Connection {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		conns := Connections(t, transportURL)
		if len(conns) >= n {
			return conns
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connection(s) to vhost %s after %s, want at least %d", len(conns), VhostOf(t, transportURL), within, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// CloseConnections force-closes every connection to the transport URL's
// vhost as an operator would (DELETE /api/connections/<name>; the client sees
// 320 CONNECTION_FORCED) and returns how many it closed.
func CloseConnections(t testing.TB, transportURL string) int {
	t.Helper()
	a := managementAPI(t)
	n := 0
	for _, c := range Connections(t, transportURL) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := a.do(ctx, http.MethodDelete, "/api/connections/"+url.PathEscape(c.Name), nil, nil)
		cancel()
		if err != nil && !strings.Contains(err.Error(), "404") {
			t.Fatalf("closing connection %s: %v", c.Name, err)
		}
		n++
	}
	return n
}

// Queue is what the management API tells of one queue.
type Queue struct {
	Name       string         `json:"name"`
	Durable    bool           `json:"durable"`
	AutoDelete bool           `json:"auto_delete"`
	Exclusive  bool           `json:"exclusive"`
	Arguments  map[string]any `json:"arguments"`
	Type       string         `json:"type"`
	Messages   int            `json:"messages"`
}

// Exchange is what the management API tells of one exchange.
type Exchange struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Durable    bool           `json:"durable"`
	AutoDelete bool           `json:"auto_delete"`
	Internal   bool           `json:"internal"`
	Arguments  map[string]any `json:"arguments"`
}

// Queues lists the queues of the transport URL's vhost.
func Queues(t testing.TB, transportURL string) []Queue {
	t.Helper()
	var qs []Queue
	managementAPI(t).call(t, http.MethodGet, "/api/queues/"+url.PathEscape(VhostOf(t, transportURL)), nil, &qs)
	return qs
}

// Exchanges lists the exchanges of the transport URL's vhost.
func Exchanges(t testing.TB, transportURL string) []Exchange {
	t.Helper()
	var xs []Exchange
	managementAPI(t).call(t, http.MethodGet, "/api/exchanges/"+url.PathEscape(VhostOf(t, transportURL)), nil, &xs)
	return xs
}

// DeleteQueue deletes a queue as an operator would; its consumers get a
// basic.cancel.
func DeleteQueue(t testing.TB, transportURL, name string) {
	t.Helper()
	managementAPI(t).call(t, http.MethodDelete, "/api/queues/"+url.PathEscape(VhostOf(t, transportURL))+"/"+url.PathEscape(name), nil, nil)
}

// SetPolicy applies a policy to the vhost's queues whose names match pattern
// (e.g. {"dead-letter-exchange": "dlx"}); policies change behaviour without
// changing declarations, so no party gets a 406.
func SetPolicy(t testing.TB, transportURL, name, pattern string, definition map[string]any) {
	t.Helper()
	managementAPI(t).call(t, http.MethodPut, "/api/policies/"+url.PathEscape(VhostOf(t, transportURL))+"/"+url.PathEscape(name),
		map[string]any{"pattern": pattern, "definition": definition, "apply-to": "queues", "priority": 10}, nil)
}

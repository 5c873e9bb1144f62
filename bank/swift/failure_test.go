package swift

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
)

func obj(s string, serialized bool) bank.Object {
	return bank.Object{Data: []byte(s), Serialized: serialized}
}

// eventually waits for cond with a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func containerErr(t *testing.T, err error) *bank.ContainerError {
	t.Helper()
	var ce *bank.ContainerError
	require.ErrorAs(t, err, &ce)
	return ce
}

func TestOptionsFromConfig(t *testing.T) {
	python := bank.ConfigMap{
		"swift_client": {
			"swift_auth_url": "http://keystone/identity", "swift_user": "karbor", "swift_key": "pw",
			"swift_tenant_name": "service", "swift_user_domain_name": "Users", "swift_project_domain_name": "Projects",
			"swift_retry_attempts": "5", "swift_retry_backoff": "1", "swift_auth_insecure": "True",
		},
		"swift_bank_plugin": {"bank_swift_object_container": "bank", "lease_expire_window": "120", "lease_renew_window": "100", "lease_validity_window": "100"},
	}
	o, err := OptionsFromConfig(python)
	require.NoError(t, err)
	assert.Equal(t, Options{
		AuthURL: "http://keystone/identity", User: "karbor", Key: "pw", TenantName: "service",
		UserDomainName: "Users", ProjectDomainName: "Projects", RetryAttempts: 5, RetryBackoff: time.Second,
		Insecure: true, Container: "bank",
		LeaseExpireWindow: 120 * time.Second, LeaseRenewWindow: 100 * time.Second, LeaseValidityWindow: 100 * time.Second,
	}, o)

	o, err = OptionsFromConfig(bank.ConfigMap{"swift_client": {"swift_auth_url": "http://k", "swift_user": "u"}})
	require.NoError(t, err)
	require.NoError(t, o.setDefaults())
	assert.Equal(t, "default", o.UserDomainName)
	assert.Equal(t, "default", o.ProjectDomainName)
	assert.Equal(t, 3, o.RetryAttempts)
	assert.Equal(t, 2*time.Second, o.RetryBackoff)
	assert.Equal(t, "karbor", o.Container)
	assert.Equal(t, bank.DefaultLeaseExpireWindow, o.LeaseExpireWindow)

	bad := []struct {
		name string
		conf bank.ConfigMap
		key  string
	}{
		{"no auth url", bank.ConfigMap{"swift_client": {"swift_user": "u"}}, "swift_auth_url"},
		{"no user", bank.ConfigMap{"swift_client": {"swift_auth_url": "http://k"}}, "swift_user"},
		{"retries", bank.ConfigMap{"swift_client": {"swift_auth_url": "http://k", "swift_user": "u", "swift_retry_attempts": "many"}}, "swift_retry_attempts"},
		{"backoff", bank.ConfigMap{"swift_client": {"swift_auth_url": "http://k", "swift_user": "u", "swift_retry_backoff": "-1"}}, "swift_retry_backoff"},
		{"insecure", bank.ConfigMap{"swift_client": {"swift_auth_url": "http://k", "swift_user": "u", "swift_auth_insecure": "maybe"}}, "swift_auth_insecure"},
		{"window", bank.ConfigMap{"swift_client": {"swift_auth_url": "http://k", "swift_user": "u"}, "swift_bank_plugin": {"lease_expire_window": "0"}}, "lease_expire_window"},
		{"renew >= expire", bank.ConfigMap{"swift_client": {"swift_auth_url": "http://k", "swift_user": "u"}, "swift_bank_plugin": {"lease_expire_window": "60", "lease_renew_window": "60"}}, "lease_renew_window"},
		{"container", bank.ConfigMap{"swift_client": {"swift_auth_url": "http://k", "swift_user": "u"}, "swift_bank_plugin": {"bank_swift_object_container": "a/b"}}, "bank_swift_object_container"},
		{"ca file", bank.ConfigMap{"swift_client": {"swift_auth_url": "http://k", "swift_user": "u", "swift_ca_cert_file": "/nonexistent/ca.pem"}}, "swift_ca_cert_file"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			o, err := OptionsFromConfig(tc.conf)
			if err == nil {
				err = o.setDefaults()
			}
			var ce *bank.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.key, ce.Key)
			_, err = bank.Open(context.Background(), PluginName, tc.conf, bank.Holder{})
			require.ErrorAs(t, err, &ce, "the provider does not load")
		})
	}
}

func TestKeystoneUnreachableAtStartThenBack(t *testing.T) {
	f := newFakeCloud(t)
	f.keystoneDown.Store(true)
	p := openFake(t, f.options())
	ctx := context.Background()
	assert.False(t, p.LeaseValid())

	_, err := p.GetObject(ctx, "/a")
	ce := containerErr(t, err)
	assert.Contains(t, ce.Error(), "keystone at "+f.srv.URL+"/identity")
	assert.Contains(t, containerErr(t, p.PutObject(ctx, "/a", obj("x", false))).Error(), "503")
	_, err = p.ListObjects(ctx, bank.ListOptions{Prefix: "/"})
	containerErr(t, err)

	// Back: the background loop connects and takes the lease.
	f.keystoneDown.Store(false)
	eventually(t, "connected with a valid lease", p.LeaseValid)
	require.NoError(t, p.PutObject(ctx, "/a", obj("x", false)))
}

func TestNothingListensAtStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	p := openFake(t, Options{AuthURL: "http://" + addr + "/v3", User: "u", Key: "k", RetryAttempts: 1, RetryBackoff: time.Millisecond})
	_, err = p.GetObject(context.Background(), "/a")
	ce := containerErr(t, err)
	assert.Contains(t, ce.Error(), "connection refused")
}

func TestWrongCredentials(t *testing.T) {
	f := newFakeCloud(t)
	opts := f.options()
	opts.Key = "wrong"
	p := openFake(t, opts)
	err := p.PutObject(context.Background(), "/a", obj("x", false))
	ce := containerErr(t, err)
	assert.Contains(t, ce.Error(), `refused the credentials of user "demo" (domain "default"), project "demo" (domain "default"): HTTP 401`)
}

func TestExpiredTokenIsRenewedOn401(t *testing.T) {
	f := newFakeCloud(t)
	p := openFake(t, f.options())
	ctx := context.Background()
	require.NoError(t, p.PutObject(ctx, "/a", obj("x", false)))
	require.EqualValues(t, 1, f.auths.Load())

	f.expireTokens()
	got, err := p.GetObject(ctx, "/a")
	require.NoError(t, err)
	assert.Equal(t, "x", string(got.Data))
	assert.EqualValues(t, 2, f.auths.Load(), "one new token")
	assert.EqualValues(t, 1, f.unauth.Load(), "one 401")

	// Keystone refusing the renewal (password changed) is a clear error.
	f.mu.Lock()
	f.password = "changed"
	f.mu.Unlock()
	f.expireTokens()
	_, err = p.GetObject(ctx, "/a")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	f := newFakeCloud(t)
	f.tokenTTL = reauthMargin / 2 // every token is already within the margin
	p := openFake(t, f.options())
	ctx := context.Background()
	before := f.auths.Load()
	require.NoError(t, p.PutObject(ctx, "/a", obj("x", false)))
	assert.Greater(t, f.auths.Load(), before, "a new token before the request")
	assert.Zero(t, f.unauth.Load(), "no request went out with the old token")
}

func TestContainerDeletedUnderTheBank(t *testing.T) {
	f := newFakeCloud(t)
	p := openFake(t, f.options())
	ctx := context.Background()
	require.NoError(t, p.PutObject(ctx, "/a", obj("x", false)))

	f.deleteContainer("karbor")
	_, err := p.GetObject(ctx, "/a")
	assert.ErrorIs(t, err, bank.ErrNotFound, "its objects are gone")
	keys, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/"})
	require.NoError(t, err)
	assert.Empty(t, keys)
	require.NoError(t, p.PutObject(ctx, "/b", obj("y", false)), "the container is made again")
	got, err := p.GetObject(ctx, "/b")
	require.NoError(t, err)
	assert.Equal(t, "y", string(got.Data))

	f.deleteContainer(leasesContainer)
	require.NoError(t, p.RenewLease(ctx), "the leases container is made again")
	_, ok, err := p.Lease(ctx, p.OwnerID())
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestServerErrorStorm(t *testing.T) {
	f := newFakeCloud(t)
	p := openFake(t, f.options())
	ctx := context.Background()
	var failures atomic.Int64
	f.setFail(func(w http.ResponseWriter, r *http.Request) bool {
		failures.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("<html><h1>Service Unavailable</h1><p>The server is currently unavailable. Please try again at a later time.</p></html>"))
		return true
	})
	for name, call := range map[string]func() error{
		"put":    func() error { return p.PutObject(ctx, "/a", obj("x", false)) },
		"get":    func() error { _, err := p.GetObject(ctx, "/a"); return err },
		"delete": func() error { return p.DeleteObject(ctx, "/a") },
		"list":   func() error { _, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "/"}); return err },
		"renew":  func() error { return p.RenewLease(ctx) },
	} {
		failures.Store(0)
		err := call()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "HTTP 503: <html><h1>Service Unavailable</h1>", name)
		assert.Contains(t, err.Error(), "(after 4 attempts)", name)
		assert.EqualValues(t, 4, failures.Load(), "%s: one try and swift_retry_attempts retries", name)
		assert.NotErrorIs(t, err, bank.ErrNotFound)
	}

	// A storm that passes within the retries is not seen.
	failures.Store(0)
	f.setFail(func(w http.ResponseWriter, r *http.Request) bool {
		if failures.Add(1) > 2 {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		return true
	})
	require.NoError(t, p.PutObject(ctx, "/a", obj("x", false)))
	got, err := p.GetObject(ctx, "/a")
	require.NoError(t, err)
	assert.Equal(t, "x", string(got.Data))
}

func TestSwiftUnreachableMidOperation(t *testing.T) {
	f := newFakeCloud(t)
	p := openFake(t, f.options())
	ctx := context.Background()
	require.NoError(t, p.PutObject(ctx, "/a", obj("x", false)))
	f.setFail(func(w http.ResponseWriter, r *http.Request) bool {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // the connection drops without an answer
		}
		return true
	})
	_, err := p.GetObject(ctx, "/a")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "swift GET karbor//a")
	assert.Contains(t, err.Error(), "(after 4 attempts)")

	// A cancelled call stops retrying at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = p.GetObject(cctx, "/a")
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
}

// A missing object costs one second look, at once, and no retries with
// backoff; a 404 the second look does not confirm (an object server that
// raced a rewrite of the object) is not seen at all.
func TestNotFoundIsAskedOnce(t *testing.T) {
	f := newFakeCloud(t)
	p := openFake(t, f.options())
	ctx := context.Background()
	before := f.swiftReqs.Load()
	_, err := p.GetObject(ctx, "/missing")
	require.ErrorIs(t, err, bank.ErrNotFound)
	assert.EqualValues(t, 2, f.swiftReqs.Load()-before)
	assert.NotContains(t, err.Error(), "attempts", "a second look is no retry")

	require.NoError(t, p.PutObject(ctx, "/a", obj("x", false)))
	var notFound atomic.Int32
	f.setFail(func(w http.ResponseWriter, r *http.Request) bool {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && notFound.Add(1) == 1 {
			w.WriteHeader(http.StatusNotFound)
			return true
		}
		return false
	})
	got, err := p.GetObject(ctx, "/a")
	require.NoError(t, err)
	assert.Equal(t, "x", string(got.Data))
	notFound.Store(0)
	l, ok, err := p.Lease(ctx, p.OwnerID())
	require.NoError(t, err)
	assert.True(t, ok, "a lease a racing read missed once is there")
	assert.Equal(t, p.OwnerID(), l.OwnerID)
}

// TestCapturedListings: Swift's own JSON listings, objects and rolled-up
// subdirs, read as bank keys.
func TestCapturedListings(t *testing.T) {
	f := newFakeCloud(t)
	p := openFake(t, f.options())
	for _, tc := range []struct {
		file string
		opts bank.ListOptions
		want []string
	}{
		{"swift-listing-delimiter.json", bank.ListOptions{Prefix: "/", Delimiter: true}, []string{"/checkpoints/", "/top"}},
		{"swift-listing.json", bank.ListOptions{Prefix: "/checkpoints/c1/", Limit: 10}, []string{"/checkpoints/c1/index.json", "/checkpoints/c1/status"}},
	} {
		body := captured(t, tc.file)
		f.setFail(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodGet || r.URL.Query().Get("format") != "json" {
				return false
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Write([]byte(body))
			return true
		})
		keys, err := p.ListObjects(context.Background(), tc.opts)
		require.NoError(t, err, tc.file)
		assert.Equal(t, tc.want, keys, tc.file)
	}
}

// TestSupersededPutIsSuccess: Swift answers 202 to a PUT that lost to a
// concurrent one with a later timestamp; the write happened (and was
// replaced), as the Python plugin's swiftclient also takes it.
func TestSupersededPutIsSuccess(t *testing.T) {
	f := newFakeCloud(t)
	p := openFake(t, f.options())
	f.setFail(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut || !strings.HasSuffix(r.URL.Path, "/shared") {
			return false
		}
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte("<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>"))
		return true
	})
	require.NoError(t, p.PutObject(context.Background(), "/shared", obj("x", false)))
}

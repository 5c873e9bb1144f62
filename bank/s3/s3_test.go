package s3

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/config"
)

// newTestPlugin opens a plugin on the fake, with retries that do not wait.
func newTestPlugin(t testing.TB, f *fakeS3, mutate ...func(*Options)) *Plugin {
	t.Helper()
	p, err := New(context.Background(), testOptions(f, mutate...))
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func testOptions(f *fakeS3, mutate ...func(*Options)) Options {
	opts := Options{Endpoint: f.srv.URL, AccessKey: "test:tester", SecretKey: "testing", RetryAttempts: 3, RetryBackoff: 0,
		Holder: bank.Holder{Host: "node-1", Incarnation: "inc-1"}}
	for _, m := range mutate {
		m(&opts)
	}
	return opts
}

func TestOptionsFromConfig(t *testing.T) {
	t.Setenv("AWS_DEFAULT_REGION", "")
	full := bank.ConfigMap{
		ClientSection: {"s3_endpoint": "http://127.0.0.1:7480", "s3_access_key": "ak", "s3_secret_key": "sk", "s3_retry_attempts": "5", "s3_retry_backoff": "0"},
		PluginSection: {"bank_s3_object_bucket": "bank1", "bank_s3_lease_bucket": "lease1", "lease_expire_window": "120", "lease_renew_window": "100", "lease_validity_window": "100"},
	}
	opts, err := OptionsFromConfig(full)
	require.NoError(t, err)
	require.NoError(t, opts.setDefaults())
	assert.Equal(t, "http://127.0.0.1:7480", opts.Endpoint)
	assert.Equal(t, "ak", opts.AccessKey)
	assert.Equal(t, "sk", opts.SecretKey)
	assert.Equal(t, 5, opts.RetryAttempts)
	assert.Equal(t, time.Duration(0), opts.RetryBackoff)
	assert.Equal(t, "bank1", opts.ObjectBucket)
	assert.Equal(t, "lease1", opts.LeaseBucket)
	assert.Equal(t, 120*time.Second, opts.LeaseExpireWindow)
	assert.Equal(t, 100*time.Second, opts.LeaseRenewWindow)
	assert.Equal(t, 100*time.Second, opts.LeaseValidityWindow)
	assert.Equal(t, "us-east-1", opts.Region)

	defaults, err := OptionsFromConfig(bank.ConfigMap{ClientSection: {"s3_access_key": "ak", "s3_secret_key": "sk"}})
	require.NoError(t, err)
	require.NoError(t, defaults.setDefaults())
	assert.Equal(t, Options{AccessKey: "ak", SecretKey: "sk", Region: "us-east-1", RetryAttempts: 3, RetryBackoff: 2 * time.Second,
		ObjectBucket: "karbor", LeaseBucket: "lease", LeaseExpireWindow: 600 * time.Second, LeaseRenewWindow: 120 * time.Second,
		LeaseValidityWindow: 100 * time.Second}, func() Options { o := defaults; o.OwnerID, o.Clock, o.Log = "", nil, nil; return o }())

	bad := []struct {
		name string
		conf bank.ConfigMap
		want string
	}{
		{"retry not a number", bank.ConfigMap{ClientSection: {"s3_access_key": "a", "s3_secret_key": "s", "s3_retry_attempts": "x"}}, "[s3_client] s3_retry_attempts"},
		{"negative backoff", bank.ConfigMap{ClientSection: {"s3_access_key": "a", "s3_secret_key": "s", "s3_retry_backoff": "-1"}}, "[s3_client] s3_retry_backoff"},
		{"zero lease window", bank.ConfigMap{ClientSection: {"s3_access_key": "a", "s3_secret_key": "s"}, PluginSection: {"lease_expire_window": "0"}}, "[s3_bank_plugin] lease_expire_window"},
		{"no credentials", bank.ConfigMap{ClientSection: {"s3_endpoint": "http://h"}}, "s3_access_key and s3_secret_key are required"},
		{"endpoint without scheme", bank.ConfigMap{ClientSection: {"s3_endpoint": "127.0.0.1:8080", "s3_access_key": "a", "s3_secret_key": "s"}}, "[s3_client] s3_endpoint"},
		{"bad bucket", bank.ConfigMap{ClientSection: {"s3_access_key": "a", "s3_secret_key": "s"}, PluginSection: {"bank_s3_object_bucket": "a/b"}}, "[s3_bank_plugin] bank_s3_object_bucket"},
		{"short bucket", bank.ConfigMap{ClientSection: {"s3_access_key": "a", "s3_secret_key": "s"}, PluginSection: {"bank_s3_lease_bucket": "ab"}}, "[s3_bank_plugin] bank_s3_lease_bucket"},
		{"same buckets", bank.ConfigMap{ClientSection: {"s3_access_key": "a", "s3_secret_key": "s"}, PluginSection: {"bank_s3_lease_bucket": "karbor"}}, "also bank_s3_object_bucket"},
		{"renew not shorter", bank.ConfigMap{ClientSection: {"s3_access_key": "a", "s3_secret_key": "s"}, PluginSection: {"lease_expire_window": "100", "lease_renew_window": "100"}}, "lease_renew_window"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "")
			opts, err := OptionsFromConfig(tc.conf)
			if err == nil {
				err = opts.setDefaults()
			}
			var ce *bank.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("keys from the environment", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "envak")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "envsk")
		t.Setenv("AWS_DEFAULT_REGION", "eu-west-1")
		opts, err := OptionsFromConfig(bank.ConfigMap{})
		require.NoError(t, err)
		require.NoError(t, opts.setDefaults())
		assert.Equal(t, []string{"envak", "envsk", "eu-west-1"}, []string{opts.AccessKey, opts.SecretKey, opts.Region})
	})
}

// TestRegistered opens the plugin by its entry-point name from a provider
// configuration, as the provider registry does.
func TestRegistered(t *testing.T) {
	f := newFakeS3(t)
	p, err := bank.Open(context.Background(), PluginName, bank.ConfigMap{
		ClientSection: {"s3_endpoint": f.srv.URL, "s3_access_key": "test:tester", "s3_secret_key": "testing"},
		PluginSection: {"bank_s3_object_bucket": "bank-a", "bank_s3_lease_bucket": "bank-a-lease"},
	}, bank.Holder{Host: "h"})
	require.NoError(t, err)
	defer p.Close()
	_, ok := f.object("bank-a-lease", p.OwnerID())
	assert.True(t, ok, "lease object written at start")
	assert.Contains(t, bank.Plugins(), PluginName)
}

// TestWireFormat checks what goes on the wire: path-style addressing with
// the key's leading slash kept (as botocore sends it), SigV4 for
// us-east-1, and the metadata Python writes and reads.
func TestWireFormat(t *testing.T) {
	f := newFakeS3(t)
	p := newTestPlugin(t, f)
	ctx := context.Background()

	var seen atomic.Pointer[http.Request]
	f.fault = func(r *http.Request) (captured, bool) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "index.json") {
			seen.Store(r.Clone(context.Background()))
		}
		return captured{}, false
	}
	require.NoError(t, p.PutObject(ctx, "/checkpoints/c1/index.json", bank.Object{Data: []byte(`{"a": 1}`), Serialized: true}))
	r := seen.Load()
	require.NotNil(t, r)
	assert.Equal(t, "/karbor//checkpoints/c1/index.json", r.URL.EscapedPath())
	assert.Equal(t, strings.TrimPrefix(f.srv.URL, "http://"), r.Host)
	assert.Equal(t, "True", r.Header.Get("X-Amz-Meta-X-Object-Meta-Serialized"))
	auth := r.Header.Get("Authorization")
	assert.True(t, strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=test:tester/"), auth)
	assert.Contains(t, auth, "/us-east-1/s3/aws4_request")
	assert.NotEmpty(t, r.Header.Get("X-Amz-Content-Sha256"))
	assert.Empty(t, r.Header.Get("X-Amz-Sdk-Checksum-Algorithm"), "no flexible checksums: old S3 clones refuse them")
	assert.Empty(t, r.Header.Get("Content-Encoding"))

	require.NoError(t, p.PutObject(ctx, "/checkpoints/c1/status", bank.Object{Data: []byte("available")}))
	o, _ := f.object("karbor", "/checkpoints/c1/status")
	assert.Equal(t, "False", o.meta["X-Amz-Meta-X-Object-Meta-Serialized"])

	for _, tc := range []struct {
		meta       map[string]string
		serialized bool
	}{
		{map[string]string{"X-Amz-Meta-X-Object-Meta-Serialized": "True"}, true},
		{map[string]string{"X-Amz-Meta-X-Object-Meta-Serialized": "true"}, true},
		{map[string]string{"X-Amz-Meta-X-Object-Meta-Serialized": "False"}, false},
		{map[string]string{}, false},
	} {
		f.put("karbor", "/k", fakeObject{data: []byte(`"x"`), meta: tc.meta})
		got, err := p.GetObject(ctx, "/k")
		require.NoError(t, err)
		assert.Equal(t, bank.Object{Data: []byte(`"x"`), Serialized: tc.serialized}, got, "%v", tc.meta)
	}
}

// TestHostNameEndpointIsPathStyle: botocore addresses every endpoint_url
// path-style, a host name too (virtual-host style is for AWS itself).
func TestHostNameEndpointIsPathStyle(t *testing.T) {
	f := newFakeS3(t)
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)
	dialer := &net.Dialer{}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, addr)
	}}}
	p := newTestPlugin(t, f, func(o *Options) { o.Endpoint = "http://s3.example.test:" + port; o.HTTPClient = client })
	require.NoError(t, p.PutObject(context.Background(), "/a", bank.Object{Data: []byte("x")}))
	f.mu.Lock()
	r := f.last
	f.mu.Unlock()
	assert.Equal(t, "s3.example.test:"+port, r.Host)
	assert.Equal(t, "/karbor//a", r.URL.EscapedPath())
}

func TestStartTwiceBucketAlreadyOwned(t *testing.T) {
	f := newFakeS3(t)
	first := newTestPlugin(t, f)
	second := newTestPlugin(t, f)
	assert.NotEqual(t, first.OwnerID(), second.OwnerID())
	assert.Equal(t, 4, f.count("PUT bucket"), "each start creates both buckets; the second gets BucketAlreadyOwnedByYou")
}

func TestObjectRoundTrip(t *testing.T) {
	f := newFakeS3(t)
	p := newTestPlugin(t, f)
	ctx := context.Background()
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	require.NoError(t, p.PutObject(ctx, "/checkpoints/c/resource-data/r/data_0", bank.Object{Data: big}))
	got, err := p.GetObject(ctx, "/checkpoints/c/resource-data/r/data_0")
	require.NoError(t, err)
	assert.Equal(t, big, got.Data)
	require.NoError(t, p.DeleteObject(ctx, "/checkpoints/c/resource-data/r/data_0"))
	_, err = p.GetObject(ctx, "/checkpoints/c/resource-data/r/data_0")
	assert.ErrorIs(t, err, bank.ErrNotFound)
	assert.ErrorIs(t, p.DeleteObject(ctx, "/checkpoints/c/resource-data/r/data_0"), bank.ErrNotFound,
		"S3 deletes a missing object without complaint; the plugin looks first")
}

// A missing object costs one second look; a "missing" the second look
// does not confirm (a Swift object server behind s3api that raced a
// rewrite of the object) is not seen at all.
func TestMissingIsAskedTwice(t *testing.T) {
	f := newFakeS3(t)
	p := newTestPlugin(t, f)
	ctx := context.Background()
	const key = "/checkpoints/c/index.json"
	f.resetCounts()
	_, err := p.GetObject(ctx, key)
	require.ErrorIs(t, err, bank.ErrNotFound)
	assert.Equal(t, 2, f.count("GET object"))

	require.NoError(t, p.PutObject(ctx, key, bank.Object{Data: []byte("x")}))
	var missed atomic.Int32
	f.mu.Lock()
	f.fault = func(r *http.Request) (captured, bool) {
		if missed.Add(1) > 1 {
			return captured{}, false
		}
		if r.Method == http.MethodHead {
			return loadCaptured(f.t, "head-lease-missing"), true
		}
		return f.errorAnswer("get-object-missing", "", key), true
	}
	f.mu.Unlock()
	got, err := p.GetObject(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, "x", string(got.Data))
	missed.Store(0)
	l, ok, err := p.Lease(ctx, p.OwnerID())
	require.NoError(t, err)
	assert.True(t, ok, "a lease a racing read missed once is there")
	assert.Equal(t, p.OwnerID(), l.OwnerID)
	missed.Store(0)
	require.NoError(t, p.DeleteObject(ctx, key))
}

func TestBadKeysRefused(t *testing.T) {
	f := newFakeS3(t)
	p := newTestPlugin(t, f)
	f.resetCounts()
	ctx := context.Background()
	for _, key := range []string{"", "relative", "/a b", "/a/../b", "/a/./b", "/trailing/", "/", "/a\n"} {
		err := p.PutObject(ctx, key, bank.Object{Data: []byte("x")})
		assert.Error(t, err, "%q", key)
		_, err = p.GetObject(ctx, key)
		assert.Error(t, err, "%q", key)
		assert.Error(t, p.DeleteObject(ctx, key), "%q", key)
	}
	_, err := p.ListObjects(ctx, bank.ListOptions{Prefix: "no-slash"})
	assert.Error(t, err)
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Empty(t, f.requests, "nothing reached the server")
}

// TestFailures checks the error of each failure the server can give: the
// text is botocore's (what Python puts in its Bank*Failed reason), and
// Bank turns it into the right exception.
func TestFailures(t *testing.T) {
	ctx := context.Background()

	t.Run("missing key", func(t *testing.T) {
		f := newFakeS3(t)
		b := bank.New(newTestPlugin(t, f))
		_, err := b.GetObject(ctx, "/checkpoints/none/index.json")
		var oe *bank.ObjectError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, bank.OpGet, oe.Op)
		assert.ErrorIs(t, err, bank.ErrNotFound)
		assert.Equal(t, "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.", oe.Reason())
	})

	t.Run("bucket deleted under us", func(t *testing.T) {
		f := newFakeS3(t)
		b := bank.New(newTestPlugin(t, f))
		f.dropBucket("karbor")
		err := b.PutObject(ctx, "/checkpoints/c/index.json", bank.Object{Data: []byte("{}")})
		var oe *bank.ObjectError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, bank.OpUpdate, oe.Op)
		assert.Equal(t, "An error occurred (NoSuchBucket) when calling the PutObject operation: The specified bucket does not exist.", oe.Reason())
		_, err = b.ListObjects(ctx, bank.ListOptions{Prefix: "/checkpoints/"})
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, bank.OpList, oe.Op)
		assert.Contains(t, oe.Reason(), "(NoSuchBucket) when calling the ListObjects operation")
		_, err = b.GetObject(ctx, "/checkpoints/c/index.json")
		assert.NotErrorIs(t, err, bank.ErrNotFound, "a vanished bucket is not a missing object")
	})

	t.Run("wrong credentials at start", func(t *testing.T) {
		f := newFakeS3(t)
		f.fault = func(*http.Request) (captured, bool) { return loadCaptured(t, "put-bucket-bad-secret"), true }
		_, err := New(ctx, testOptions(f, func(o *Options) { o.SecretKey = "wrong" }))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "create bucket karbor at "+f.srv.URL)
		assert.Contains(t, err.Error(), "An error occurred (SignatureDoesNotMatch) when calling the CreateBucket operation: The request signature we calculated does not match")
		assert.Equal(t, 1, f.count("PUT bucket"), "a refused signature is not retried")
	})

	t.Run("unreachable endpoint", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		endpoint := "http://" + l.Addr().String()
		require.NoError(t, l.Close())
		_, err = New(ctx, Options{Endpoint: endpoint, AccessKey: "a", SecretKey: "s", RetryAttempts: 2, RetryBackoff: 0})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `Could not connect to the endpoint URL: "`+endpoint+`" (reached max retries: 2)`)
		assert.Contains(t, err.Error(), "connection refused")
	})

	t.Run("5xx storm", func(t *testing.T) {
		f := newFakeS3(t)
		b := bank.New(newTestPlugin(t, f))
		f.resetCounts()
		f.fault = func(*http.Request) (captured, bool) { return loadCaptured(t, "service-unavailable-503"), true }
		err := b.PutObject(ctx, "/checkpoints/c/index.json", bank.Object{Data: []byte("{}")})
		var oe *bank.ObjectError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "An error occurred (ServiceUnavailable) when calling the PutObject operation (reached max retries: 3): Please reduce your request rate.", oe.Reason())
		assert.Equal(t, 4, f.count("PUT object"), "s3_retry_attempts = 3 retries after the first attempt")
	})

	t.Run("5xx then success", func(t *testing.T) {
		f := newFakeS3(t)
		p := newTestPlugin(t, f)
		var n atomic.Int32
		f.fault = func(*http.Request) (captured, bool) {
			if n.Add(1) <= 2 {
				return loadCaptured(t, "internal-error-500"), true
			}
			return captured{}, false
		}
		require.NoError(t, p.PutObject(ctx, "/a", bank.Object{Data: []byte("x")}))
		o, ok := f.object("karbor", "/a")
		require.True(t, ok)
		assert.Equal(t, "x", string(o.data), "the body is sent again in full on retry")
	})

	t.Run("cancelled", func(t *testing.T) {
		f := newFakeS3(t)
		b := bank.New(newTestPlugin(t, f))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := b.GetObject(cctx, "/a")
		assert.ErrorIs(t, err, context.Canceled)
		var oe *bank.ObjectError
		assert.False(t, errors.As(err, &oe), "a cancelled call is not a bank failure")
	})
}

// overrideConfig replaces some values of a provider configuration.
type overrideConfig struct {
	bank.Config
	values bank.ConfigMap
}

func (o overrideConfig) Get(section, key string) (string, bool) {
	if v, ok := o.values.Get(section, key); ok {
		return v, true
	}
	return o.Config.Get(section, key)
}

// TestSampleProviderFile loads etc/providers.d/s3-noop.conf.sample as the service
// does and opens its bank (on the fake instead of its endpoint).
func TestSampleProviderFile(t *testing.T) {
	c, err := config.Load(config.ProviderRegistry(), config.LoadOptions{Sources: []config.Source{{Path: filepath.Join("..", "..", "etc", "providers.d", "s3-noop.conf.sample")}}})
	require.NoError(t, err)
	pc, err := config.NewProvider(c)
	require.NoError(t, err)
	assert.Equal(t, PluginName, pc.Bank)
	assert.False(t, pc.Enabled, "the sample is disabled until pointed at an S3")
	opts, err := OptionsFromConfig(c)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080", opts.Endpoint)

	f := newFakeS3(t)
	p, err := bank.Open(context.Background(), pc.Bank, overrideConfig{Config: c, values: bank.ConfigMap{ClientSection: {"s3_endpoint": f.srv.URL}}}, bank.Holder{})
	require.NoError(t, err)
	require.NoError(t, p.Close())
	_, ok := f.object("lease", p.OwnerID())
	assert.True(t, ok)
}

package s3

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/gokarbor/karbor-protection/bank"
)

// Integration tests against real S3 endpoints: Swift's s3api with tempauth
// credentials and with Keystone EC2 credentials (s3token), as
// scripts/ensure-swift.sh starts them and exports:
//
//	KARBOR_TEST_S3_TEMPAUTH_ENDPOINT, _ACCESS_KEY, _SECRET_KEY
//	KARBOR_TEST_S3_KEYSTONE_ENDPOINT, _ACCESS_KEY, _SECRET_KEY
//	KARBOR_TEST_PYTHON  (a python3 with botocore, for the compatibility tests)
//
// Without them the tests skip, except under CI=true where they fail.

// peer is one S3 endpoint and its credentials.
type peer struct {
	name                     string
	endpoint, access, secret string
}

func inCI() bool { return os.Getenv("CI") == "true" }

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf("CI=true and "+format, args...)
	}
	t.Skipf(format, args...)
}

// s3Peers returns the configured endpoints, each checked to answer.
func s3Peers(t testing.TB) []peer {
	t.Helper()
	var out []peer
	for _, auth := range []string{"TEMPAUTH", "KEYSTONE"} {
		env := func(k string) string { return os.Getenv("KARBOR_TEST_S3_" + auth + "_" + k) }
		p := peer{name: strings.ToLower(auth), endpoint: env("ENDPOINT"), access: env("ACCESS_KEY"), secret: env("SECRET_KEY")}
		if p.endpoint == "" || p.access == "" || p.secret == "" {
			unavailable(t, "KARBOR_TEST_S3_%s_ENDPOINT, _ACCESS_KEY and _SECRET_KEY are not set (source scripts/ensure-swift.sh)", auth)
		}
		u, err := url.Parse(p.endpoint)
		require.NoError(t, err)
		c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err != nil {
			unavailable(t, "S3 endpoint %s does not answer: %v", p.endpoint, err)
		}
		_ = c.Close()
		out = append(out, p)
	}
	return out
}

// forEachPeer runs fn as a subtest per endpoint.
func forEachPeer(t *testing.T, fn func(t *testing.T, pr peer)) {
	for _, pr := range s3Peers(t) {
		t.Run(pr.name, func(t *testing.T) { fn(t, pr) })
	}
}

// bucketName is a fresh bucket name for one test.
func bucketName(t testing.TB, suffix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return strings.Trim("kgo-"+name, "-") + "-" + hex.EncodeToString(b[:]) + suffix
}

// peerOptions are the options of a plugin on its own pair of buckets,
// removed with everything in them when the test ends.
func peerOptions(t testing.TB, pr peer) Options {
	t.Helper()
	opts := Options{Endpoint: pr.endpoint, AccessKey: pr.access, SecretKey: pr.secret, RetryAttempts: -1, RetryBackoff: -1,
		ObjectBucket: bucketName(t, ""), LeaseBucket: bucketName(t, "-l"), Region: os.Getenv("KARBOR_TEST_S3_REGION")}
	t.Cleanup(func() {
		o := opts
		_ = o.setDefaults()
		c := newClient(o)
		ctx := context.Background()
		for _, b := range []string{o.ObjectBucket, o.LeaseBucket} {
			emptyBucket(ctx, c, b)
			_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
		}
	})
	return opts
}

func emptyBucket(ctx context.Context, c *s3.Client, b string) {
	for {
		out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(b)})
		if err != nil || len(out.Contents) == 0 {
			return
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(16)
		for _, o := range out.Contents {
			g.Go(func() error {
				_, err := c.DeleteObject(gctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: o.Key})
				return err
			})
		}
		if g.Wait() != nil {
			return
		}
	}
}

func openPeer(t testing.TB, pr peer, mutate ...func(*Options)) *Plugin {
	t.Helper()
	opts := peerOptions(t, pr)
	for _, m := range mutate {
		m(&opts)
	}
	p, err := New(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// putAll writes keys with 16 writers.
func putAll(t testing.TB, p *Plugin, keys []string) {
	t.Helper()
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(16)
	for _, k := range keys {
		g.Go(func() error { return p.PutObject(ctx, k, bank.Object{Data: []byte(k)}) })
	}
	require.NoError(t, g.Wait())
}

func TestPeerObjects(t *testing.T) {
	forEachPeer(t, func(t *testing.T, pr peer) {
		ctx := context.Background()
		p := openPeer(t, pr)
		b := bank.New(p)
		sec, err := b.Section("/checkpoints/c1")
		require.NoError(t, err)
		require.NoError(t, sec.PutJSON(ctx, "index.json", map[string]any{"id": "c1", "status": "protecting"}))
		require.NoError(t, sec.PutString(ctx, "status", "available"))
		obj, err := sec.GetObject(ctx, "index.json")
		require.NoError(t, err)
		assert.Equal(t, bank.Object{Data: []byte(`{"id": "c1", "status": "protecting"}`), Serialized: true}, obj)
		s, err := sec.GetString(ctx, "status")
		require.NoError(t, err)
		assert.Equal(t, "available", s)

		big := make([]byte, 10<<20+3)
		_, _ = rand.Read(big)
		require.NoError(t, sec.Put(ctx, "data_0", big))
		got, err := sec.Get(ctx, "data_0")
		require.NoError(t, err)
		assert.True(t, slices.Equal(big, got), "10 MiB object round trip")

		require.NoError(t, sec.DeleteObject(ctx, "data_0"))
		_, err = sec.Get(ctx, "data_0")
		var oe *bank.ObjectError
		require.ErrorAs(t, err, &oe)
		assert.ErrorIs(t, err, bank.ErrNotFound)
		assert.Equal(t, "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.", oe.Reason())
	})
}

// TestPeerStartTwice: the second start finds both buckets already ours
// (Swift's s3api says BucketAlreadyOwnedByYou) and starts.
func TestPeerStartTwice(t *testing.T) {
	forEachPeer(t, func(t *testing.T, pr peer) {
		opts := peerOptions(t, pr)
		ctx := context.Background()
		first, err := New(ctx, opts)
		require.NoError(t, err)
		defer first.Close()
		second, err := New(ctx, opts)
		require.NoError(t, err)
		defer second.Close()

		l, ok, err := second.Lease(ctx, first.OwnerID())
		require.NoError(t, err)
		require.True(t, ok)
		assert.False(t, l.Expired(time.Now()))
		leases, err := second.Leases(ctx)
		require.NoError(t, err)
		assert.Len(t, leases, 2)
		require.NoError(t, first.Close())
		l, ok, err = second.Lease(ctx, first.OwnerID())
		require.NoError(t, err)
		require.True(t, ok)
		assert.True(t, l.Expired(time.Now().Add(time.Second)), "released on Close")
		require.NoError(t, second.RemoveLease(ctx, first.OwnerID()))
		_, ok, err = second.Lease(ctx, first.OwnerID())
		require.NoError(t, err)
		assert.False(t, ok)
	})
}

func TestPeerFailures(t *testing.T) {
	forEachPeer(t, func(t *testing.T, pr peer) {
		ctx := context.Background()
		opts := peerOptions(t, pr)
		opts.SecretKey = "wrong-secret"
		_, err := New(ctx, opts)
		require.Error(t, err)
		assert.Regexp(t, `An error occurred \((SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId)\) when calling the CreateBucket operation`, err.Error())

		p := openPeer(t, pr)
		b := bank.New(p)
		emptyBucket(ctx, p.client, p.opts.ObjectBucket)
		_, err = p.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(p.opts.ObjectBucket)})
		require.NoError(t, err)
		err = b.PutObject(ctx, "/checkpoints/c/index.json", bank.Object{Data: []byte("{}")})
		var oe *bank.ObjectError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "An error occurred (NoSuchBucket) when calling the PutObject operation: The specified bucket does not exist.", oe.Reason())
	})
}

// TestPeerListings compares every kind of listing with the model on the
// real server, across its 1000-entry pages (on the tempauth proxy; the
// Keystone one validates each request with Keystone, so it gets fewer keys
// in one page).
func TestPeerListings(t *testing.T) {
	forEachPeer(t, func(t *testing.T, pr peer) {
		ctx := context.Background()
		p := openPeer(t, pr)
		rng := mrand.New(mrand.NewPCG(5, 6))
		dirs := []string{"/indices/by-provider/pv/p1/", "/indices/by-provider/pv/p2/", "/indices/by-date/2026-12-05/p1/"}
		n := 1050
		if pr.name == "keystone" {
			n = 150
		}
		var keys []string
		for i := range n {
			dir := dirs[0]
			if i%5 == 0 {
				dir = dirs[1+i%2]
			}
			keys = append(keys, entryKey(dir, 1_700_000_000+rng.Int64N(1_000_000), rng))
		}
		putAll(t, p, keys)
		slices.Sort(keys)
		prefixes := []string{"/", "/indices/", "/indices/by-provider/pv/", dirs[0], dirs[1], "/indices/by-provider/pv/p1/1700"}
		for i := range 40 {
			opts := bank.ListOptions{
				Prefix:    prefixes[rng.IntN(len(prefixes))],
				Desc:      rng.IntN(2) == 0,
				Delimiter: rng.IntN(2) == 0,
				Limit:     []int{0, 1, 50, 1000, 1100}[rng.IntN(5)],
			}
			switch rng.IntN(3) {
			case 1:
				opts.Marker = keys[rng.IntN(len(keys))]
			case 2:
				if m := model(keys, bank.ListOptions{Prefix: opts.Prefix, Delimiter: true}); len(m) > 0 {
					opts.Marker = m[rng.IntN(len(m))]
				}
			}
			got, err := p.ListObjects(ctx, opts)
			require.NoError(t, err, "%+v", opts)
			want := model(keys, opts)
			if !slices.Equal(want, got) {
				t.Fatalf("listing %d %+v:\n got %d %v\nwant %d %v", i, opts, len(got), head(got), len(want), head(want))
			}
		}
	})
}

// TestPeerCheckpoints runs the checkpoint collection on the real server.
func TestPeerCheckpoints(t *testing.T) {
	forEachPeer(t, func(t *testing.T, pr peer) {
		ctx := context.Background()
		cps := bank.NewCheckpoints(bank.New(openPeer(t, pr)))
		var ids []string
		for i := range 3 {
			cp, err := cps.Create(ctx, bank.NewCheckpoint{ProjectID: "proj", Plan: bank.Plan{ID: "plan-1", Name: "plan", ProviderID: "prov-1", Resources: json.RawMessage(`[]`)}, ExtraInfo: json.RawMessage(fmt.Sprint(i))})
			require.NoError(t, err)
			ids = append(ids, cp.ID)
		}
		list, err := cps.List(ctx, bank.ListQuery{ProviderID: "prov-1", ProjectID: "proj", SortDir: "desc", Limit: 2})
		require.NoError(t, err)
		require.Len(t, list, 2)
		for _, cp := range list {
			assert.Contains(t, ids, cp.ID)
		}
	})
}

// python drives testdata/python_s3_bank.py: karbor's S3 bank calls made
// with botocore as the Python plugin makes them.
type python struct {
	t   testing.TB
	in  *json.Encoder
	out *bufio.Scanner
}

func startPython(t testing.TB, opts Options) *python {
	t.Helper()
	py := os.Getenv("KARBOR_TEST_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if err := exec.Command(py, "-c", "import botocore").Run(); err != nil {
		unavailable(t, "%s cannot import botocore (apt-get install python3-boto3): %v", py, err)
	}
	cmd := exec.Command(py, "testdata/python_s3_bank.py", opts.Endpoint, opts.AccessKey, opts.SecretKey, opts.ObjectBucket, opts.LeaseBucket)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 64<<20)
	return &python{t: t, in: json.NewEncoder(stdin), out: sc}
}

// call runs one request; the answer's "error" is botocore's text.
func (p *python) call(req map[string]any) (result any, errText string) {
	p.t.Helper()
	require.NoError(p.t, p.in.Encode(req))
	require.True(p.t, p.out.Scan(), "python answered nothing: %v", p.out.Err())
	var ans struct {
		Result any    `json:"result"`
		Error  string `json:"error"`
	}
	require.NoError(p.t, json.Unmarshal(p.out.Bytes(), &ans))
	return ans.Result, ans.Error
}

// TestPythonCompat: what the Python plugin writes we read, and what we
// write it reads, on the real server.
func TestPythonCompat(t *testing.T) {
	forEachPeer(t, func(t *testing.T, pr peer) {
		ctx := context.Background()
		p := openPeer(t, pr)
		b := bank.New(p)
		py := startPython(t, p.opts)

		// Python writes, we read.
		_, errText := py.call(map[string]any{"op": "update_object", "key": "/checkpoints/py/index.json", "value": map[string]any{"id": "py", "status": "available"}})
		require.Empty(t, errText)
		_, errText = py.call(map[string]any{"op": "update_object", "key": "/checkpoints/py/status", "value": "available"})
		require.Empty(t, errText)
		obj, err := b.GetObject(ctx, "/checkpoints/py/index.json")
		require.NoError(t, err)
		assert.True(t, obj.Serialized)
		assert.JSONEq(t, `{"id": "py", "status": "available"}`, string(obj.Data))
		obj, err = b.GetObject(ctx, "/checkpoints/py/status")
		require.NoError(t, err)
		assert.Equal(t, bank.Object{Data: []byte("available")}, obj)

		// A Python lease is read as a lease without a holder.
		expire, errText := py.call(map[string]any{"op": "acquire_lease", "owner_id": "python-owner", "lease_expire_window": 600})
		require.Empty(t, errText)
		l, ok, err := p.Lease(ctx, "python-owner")
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, bank.Lease{OwnerID: "python-owner", ExpiresAt: time.Unix(int64(expire.(float64)), 0)}, l)

		// We write, Python reads and lists.
		sec, err := b.Section("/checkpoints/go")
		require.NoError(t, err)
		require.NoError(t, sec.PutJSON(ctx, "index.json", map[string]any{"id": "go", "n": 1}))
		require.NoError(t, sec.PutString(ctx, "status", "protecting"))
		v, errText := py.call(map[string]any{"op": "get_object", "key": "/checkpoints/go/index.json"})
		require.Empty(t, errText)
		assert.Equal(t, map[string]any{"id": "go", "n": float64(1)}, v)
		v, errText = py.call(map[string]any{"op": "get_object", "key": "/checkpoints/go/status"})
		require.Empty(t, errText)
		assert.Equal(t, "protecting", v)
		v, errText = py.call(map[string]any{"op": "list_objects", "prefix": "/checkpoints/", "limit": nil, "marker": nil})
		require.Empty(t, errText)
		assert.Equal(t, []any{"/checkpoints/go/index.json", "/checkpoints/go/status", "/checkpoints/py/index.json", "/checkpoints/py/status"}, v)
		v, errText = py.call(map[string]any{"op": "raw_get", "bucket": p.opts.LeaseBucket, "key": p.OwnerID()})
		require.Empty(t, errText)
		lease := v.(map[string]any)
		assert.Equal(t, p.OwnerID(), lease["body"])
		assert.Contains(t, lease["metadata"], "lease-expire-time", "our lease as Python's plugin would read it")

		// A missing object: Python's reason text is ours.
		_, errText = py.call(map[string]any{"op": "get_object", "key": "/checkpoints/none"})
		_, err = b.GetObject(ctx, "/checkpoints/none")
		var oe *bank.ObjectError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, errText, oe.Reason())
	})
}

// TestPythonReadsOurCheckpoint: a checkpoint written through our bank is
// the JSON the Python plugin decodes.
func TestPythonReadsOurCheckpoint(t *testing.T) {
	forEachPeer(t, func(t *testing.T, pr peer) {
		ctx := context.Background()
		p := openPeer(t, pr)
		cps := bank.NewCheckpoints(bank.New(p))
		cp, err := cps.Create(ctx, bank.NewCheckpoint{ProjectID: "proj", Plan: bank.Plan{ID: "plan-1", Name: "plan", ProviderID: "prov-1", Resources: json.RawMessage(`[]`)}})
		require.NoError(t, err)
		py := startPython(t, p.opts)
		v, errText := py.call(map[string]any{"op": "get_object", "key": bank.IndexKey(cp.ID)})
		require.Empty(t, errText)
		idx := v.(map[string]any)
		assert.Equal(t, cp.ID, idx["id"])
		assert.Equal(t, "protecting", idx["status"])
		keys, errText := py.call(map[string]any{"op": "list_objects", "prefix": "/indices/", "limit": nil, "marker": nil})
		require.Empty(t, errText)
		assert.Len(t, keys, 3, "the three index entries: %v", keys)
		for _, k := range keys.([]any) {
			assert.True(t, strings.HasSuffix(k.(string), fmt.Sprintf("@%s", cp.ID)), "%v", k)
		}
	})
}

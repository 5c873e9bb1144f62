package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gokarbor/karbor-protection/bank"
)

// recorder writes the next answer it sees to <dir>/<name>.http.
type recorder struct {
	name string
	dir  string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || r.name == "" {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", req.Method, req.URL.RequestURI())
	fmt.Fprintf(&b, "HTTP %d\n", resp.StatusCode)
	var keys []string
	for k := range resp.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(resp.Header[k], ", "))
	}
	b.WriteString("\n")
	b.Write(body)
	if err := os.WriteFile(filepath.Join(r.dir, r.name+".http"), []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	r.name = ""
	return resp, nil
}

// TestCaptureSwift re-records testdata/swift-s3api from a live s3api with
// tempauth's test:tester (S3_CAPTURE=http://127.0.0.1:8080). It is a
// generator, not a test of the plugin.
func TestCaptureSwift(t *testing.T) {
	endpoint := os.Getenv("S3_CAPTURE")
	if endpoint == "" {
		t.Skip("set S3_CAPTURE to an s3api endpoint to re-record testdata/swift-s3api")
	}
	ctx := context.Background()
	rec := &recorder{dir: filepath.Join("testdata", "swift-s3api")}
	opts := Options{Endpoint: endpoint, AccessKey: "test:tester", SecretKey: "testing", ObjectBucket: "capture", LeaseBucket: "capture-lease", RetryAttempts: 0, RetryBackoff: 0, HTTPClient: &http.Client{Transport: rec}}
	p, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, k := range []string{"/indices/by-provider/p/proj/1700000000@a", "/indices/by-provider/p/proj/1700000001@b", "/indices/by-provider/p/proj2/1700000002@c", "/indices/by-provider/p/x"} {
		p.PutObject(ctx, k, bank.Object{Data: []byte("x")})
	}
	rec.name = "put-bucket-owned"
	p.createBucket(ctx, "capture")
	rec.name = "put-object"
	p.PutObject(ctx, "/checkpoints/c1/index.json", bank.Object{Data: []byte(`{"id": "c1"}`), Serialized: true})
	rec.name = "get-object"
	p.GetObject(ctx, "/checkpoints/c1/index.json")
	rec.name = "get-object-missing"
	p.GetObject(ctx, "/checkpoints/none")
	rec.name = "head-lease-missing"
	p.Lease(ctx, "nobody")
	rec.name = "head-lease"
	p.Lease(ctx, p.OwnerID())
	rec.name = "delete-object-missing"
	p.DeleteObject(ctx, "/checkpoints/none")
	rec.name = "list-delimiter-truncated"
	p.listPage(ctx, "/indices/by-provider/p/", "", 2, true)
	rec.name = "list-marker"
	p.listPage(ctx, "/indices/by-provider/p/proj/", "/indices/by-provider/p/proj/1700000000@a", 1000, false)
	rec.name = "list-empty"
	p.listPage(ctx, "/nothing/", "", 1000, false)
	rec.name = "get-object-no-bucket"
	p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket-here"), Key: aws.String("/x")})
	rec.name = "put-object-no-bucket"
	p.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket-here"), Key: aws.String("/x"), Body: strings.NewReader("x")})
	rec.name = "list-no-bucket"
	p.client.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("no-such-bucket-here")})
	bad := opts
	bad.SecretKey = "wrong"
	rec.name = "put-bucket-bad-secret"
	New(ctx, bad)
}

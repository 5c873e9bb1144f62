package s3

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// captured is one answer recorded from Swift's s3api (testdata/swift-s3api).
type captured struct {
	status int
	header http.Header
	body   string
}

func loadCaptured(t testing.TB, name string) captured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "swift-s3api", name+".http"))
	require.NoError(t, err)
	head, body, _ := strings.Cut(string(raw), "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	c := captured{header: http.Header{}, body: body}
	for line := 0; sc.Scan(); line++ {
		switch {
		case line == 0: // request line
		case line == 1:
			c.status, err = strconv.Atoi(strings.TrimPrefix(sc.Text(), "HTTP "))
			require.NoError(t, err)
		default:
			k, v, _ := strings.Cut(sc.Text(), ": ")
			c.header.Set(k, v)
		}
	}
	return c
}

// write replays the answer, dated now: the SDK corrects its clock (and
// retries) when a server's Date is minutes off.
func (c captured) write(w http.ResponseWriter, r *http.Request) {
	for k, v := range c.header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	w.WriteHeader(c.status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, c.body)
	}
}

type fakeObject struct {
	data []byte
	meta map[string]string // x-amz-meta-* headers, canonical names
}

// fakeS3 is an in-memory S3 answering as Swift's s3api does (path-style,
// ListObjects v1), with the captured error bodies. It checks no signature.
type fakeS3 struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	buckets map[string]map[string]fakeObject
	// fault, when set, answers a request instead of the store.
	fault func(r *http.Request) (captured, bool)
	// requests counts requests by "METHOD kind" (kind: bucket, object, list).
	requests map[string]int
	// listed counts the entries returned by listings.
	listed int
	// last is the last request seen.
	last *http.Request
}

func newFakeS3(t testing.TB) *fakeS3 {
	f := &fakeS3{t: t, buckets: map[string]map[string]fakeObject{}, requests: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeS3) count(k string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[k]
}

func (f *fakeS3) resetCounts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests, f.listed = map[string]int{}, 0
}

func (f *fakeS3) object(bucket, key string) (fakeObject, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.buckets[bucket][key]
	return o, ok
}

func (f *fakeS3) put(bucket, key string, o fakeObject) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.buckets[bucket] == nil {
		f.buckets[bucket] = map[string]fakeObject{}
	}
	f.buckets[bucket][key] = o
}

func (f *fakeS3) dropBucket(bucket string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.buckets, bucket)
}

// errorAnswer is a captured error answer naming this request's key/bucket.
func (f *fakeS3) errorAnswer(name, bucket, key string) captured {
	c := loadCaptured(f.t, name)
	c.body = strings.NewReplacer("<Key>/checkpoints/none</Key>", "<Key>"+xmlEscape(key)+"</Key>",
		"<BucketName>no-such-bucket-here</BucketName>", "<BucketName>"+bucket+"</BucketName>",
		"<BucketName>capture</BucketName>", "<BucketName>"+bucket+"</BucketName>").Replace(c.body)
	return c
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (f *fakeS3) serve(w http.ResponseWriter, r *http.Request) {
	path, err := url.PathUnescape(r.URL.EscapedPath())
	require.NoError(f.t, err)
	bucket, key, hasKey := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	kind := "object"
	switch {
	case !hasKey && r.Method == http.MethodGet:
		kind = "list"
	case !hasKey:
		kind = "bucket"
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests[r.Method+" "+kind]++
	f.last = r
	fault := f.fault
	f.mu.Unlock()
	if fault != nil {
		if c, ok := fault(r); ok {
			c.write(w, r)
			return
		}
	}
	f.mu.Lock()
	objects, exists := f.buckets[bucket]
	f.mu.Unlock()
	switch {
	case kind == "bucket" && r.Method == http.MethodPut:
		if exists {
			f.errorAnswer("put-bucket-owned", bucket, "").write(w, r)
			return
		}
		f.mu.Lock()
		f.buckets[bucket] = map[string]fakeObject{}
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	case !exists:
		name := "get-object-no-bucket"
		if r.Method == http.MethodHead {
			name = "head-lease-missing" // no body either way
		}
		f.errorAnswer(name, bucket, key).write(w, r)
	case kind == "list":
		f.list(w, r, bucket, objects)
	case r.Method == http.MethodPut:
		meta := map[string]string{}
		for k, v := range r.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-meta-") {
				meta[k] = v[0]
			}
		}
		f.put(bucket, key, fakeObject{data: body, meta: meta})
		loadCaptured(f.t, "put-object").write(w, r)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		o, ok := f.object(bucket, key)
		if !ok {
			if r.Method == http.MethodHead {
				loadCaptured(f.t, "head-lease-missing").write(w, r)
				return
			}
			f.errorAnswer("get-object-missing", bucket, key).write(w, r)
			return
		}
		for k, v := range o.meta {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(o.data)))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(o.data)
		}
	case r.Method == http.MethodDelete:
		f.mu.Lock()
		delete(f.buckets[bucket], key)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "unsupported", http.StatusMethodNotAllowed)
	}
}

// list answers ListObjects (v1) as s3api does: keys after the marker under
// the prefix, rolled up at the delimiter, at most max-keys entries.
func (f *fakeS3) list(w http.ResponseWriter, r *http.Request, bucket string, objects map[string]fakeObject) {
	q := r.URL.Query()
	prefix, marker, delim := q.Get("prefix"), q.Get("marker"), q.Get("delimiter")
	max := 1000
	if v := q.Get("max-keys"); v != "" {
		max, _ = strconv.Atoi(v)
	}
	f.mu.Lock()
	keys := make([]string, 0, len(objects))
	sizes := map[string]int{}
	for k, o := range objects {
		if strings.HasPrefix(k, prefix) && k > marker {
			keys = append(keys, k)
			sizes[k] = len(o.data)
		}
	}
	f.mu.Unlock()
	slices.Sort(keys)
	type entry struct {
		name     string
		isPrefix bool
	}
	var entries []entry
	truncated := false
	for _, k := range keys {
		e := entry{name: k}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				e = entry{name: k[:len(prefix)+i+len(delim)], isPrefix: true}
				if len(entries) > 0 && entries[len(entries)-1].name == e.name || e.name <= marker {
					continue
				}
			}
		}
		if len(entries) == max {
			truncated = true
			break
		}
		entries = append(entries, e)
	}
	f.mu.Lock()
	f.listed += len(entries)
	f.mu.Unlock()
	var b strings.Builder
	b.WriteString(`<?xml version='1.0' encoding='UTF-8'?>` + "\n")
	fmt.Fprintf(&b, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>%s</Name><Prefix>%s</Prefix>`, bucket, xmlEscape(prefix))
	if marker == "" {
		b.WriteString("<Marker/>")
	} else {
		fmt.Fprintf(&b, "<Marker>%s</Marker>", xmlEscape(marker))
	}
	if truncated && delim != "" {
		fmt.Fprintf(&b, "<NextMarker>%s</NextMarker>", xmlEscape(entries[len(entries)-1].name))
	}
	fmt.Fprintf(&b, "<MaxKeys>%d</MaxKeys>", max)
	if delim != "" {
		fmt.Fprintf(&b, "<Delimiter>%s</Delimiter>", xmlEscape(delim))
	}
	fmt.Fprintf(&b, "<IsTruncated>%t</IsTruncated>", truncated)
	var prefixes strings.Builder
	for _, e := range entries {
		if e.isPrefix {
			fmt.Fprintf(&prefixes, "<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>", xmlEscape(e.name))
			continue
		}
		fmt.Fprintf(&b, `<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>"9dd4e461268c8034f5c8564e155c67a6"</ETag><Size>%d</Size><Owner><ID>test:tester</ID><DisplayName>test:tester</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>`,
			xmlEscape(e.name), time.Date(2026, 12, 5, 14, 7, 11, 0, time.UTC).Format("2006-01-02T15:04:05.000Z"), sizes[e.name])
	}
	b.WriteString(prefixes.String())
	b.WriteString("</ListBucketResult>")
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, b.String())
}

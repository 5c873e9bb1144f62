package swift

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeCloud is Keystone (under /identity) and Swift (under /swift) in one
// httptest server, answering with bodies captured from the real services
// (testdata/captured). Tests break it on purpose through its fields.
type fakeCloud struct {
	srv *httptest.Server

	mu         sync.Mutex
	password   string
	tokens     map[string]bool // valid tokens
	tokenTTL   time.Duration
	containers map[string]map[string]fakeObject

	auths     atomic.Int64 // token requests
	swiftReqs atomic.Int64
	unauth    atomic.Int64 // 401s answered by Swift
	// v2only makes Keystone an identity v2.0 service (no v3).
	v2only bool
	// keystoneDown, swiftDown make the service answer 503.
	keystoneDown, swiftDown atomic.Bool
	// swiftFail, when set, may answer a Swift request instead of the store
	// (return true when it wrote the response).
	swiftFail func(w http.ResponseWriter, r *http.Request) bool
}

type fakeObject struct {
	data   []byte
	header http.Header
}

func captured(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "captured", name))
	require.NoError(t, err)
	return string(b)
}

func newFakeCloud(t *testing.T) *fakeCloud {
	f := &fakeCloud{password: "secret", tokens: map[string]bool{}, tokenTTL: time.Hour, containers: map[string]map[string]fakeObject{}}
	versions := captured(t, "keystone-versions.json")
	token := captured(t, "keystone-token.json")
	unauthorized := captured(t, "keystone-401.json")
	notFound := captured(t, "swift-404.html")
	swift401 := captured(t, "swift-401.html")
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := "http://" + r.Host
		subst := strings.NewReplacer("{{KEYSTONE}}", base+"/identity", "{{SWIFT}}", base+"/swift")
		switch {
		case strings.HasPrefix(r.URL.Path, "/identity"):
			if f.keystoneDown.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			switch r.URL.Path {
			case "/identity", "/identity/":
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusMultipleChoices)
				if f.v2only {
					io.WriteString(w, subst.Replace(v2Versions))
					return
				}
				io.WriteString(w, subst.Replace(versions))
			case "/identity/v2.0/tokens":
				if !f.v2only {
					http.NotFound(w, r)
					return
				}
				f.auths.Add(1)
				var req struct {
					Auth struct {
						TenantName          string `json:"tenantName"`
						PasswordCredentials struct {
							Username, Password string
						} `json:"passwordCredentials"`
					} `json:"auth"`
				}
				_ = json.NewDecoder(r.Body).Decode(&req)
				if req.Auth.PasswordCredentials.Password != f.password || req.Auth.TenantName != "demo" {
					w.WriteHeader(http.StatusUnauthorized)
					io.WriteString(w, unauthorized)
					return
				}
				f.mu.Lock()
				f.tokens["tok-v2"] = true
				f.mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, strings.Replace(subst.Replace(v2Token), "{{EXPIRES}}", time.Now().Add(time.Hour).UTC().Format(time.RFC3339), 1))
			case "/identity/v3/auth/tokens":
				f.auths.Add(1)
				var req struct {
					Auth struct {
						Identity struct {
							Password struct {
								User struct {
									Password string `json:"password"`
								} `json:"user"`
							} `json:"password"`
						} `json:"identity"`
					} `json:"auth"`
				}
				_ = json.NewDecoder(r.Body).Decode(&req)
				w.Header().Set("Content-Type", "application/json")
				f.mu.Lock()
				ok := req.Auth.Identity.Password.User.Password == f.password
				ttl := f.tokenTTL
				f.mu.Unlock()
				if !ok {
					w.WriteHeader(http.StatusUnauthorized)
					io.WriteString(w, unauthorized)
					return
				}
				tok := "tok-" + strconv.FormatInt(f.auths.Load(), 10)
				f.mu.Lock()
				f.tokens[tok] = true
				f.mu.Unlock()
				body := strings.Replace(subst.Replace(token), "2026-12-05T15:22:06.000000Z", time.Now().Add(ttl).UTC().Format("2006-01-02T15:04:05.000000Z"), 1)
				w.Header().Set("X-Subject-Token", tok)
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, body)
			default:
				http.NotFound(w, r)
			}
		case strings.HasPrefix(r.URL.Path, "/swift/v1/AUTH_"):
			f.swiftReqs.Add(1)
			if f.swiftDown.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			f.mu.Lock()
			valid := f.tokens[r.Header.Get("X-Auth-Token")]
			fail := f.swiftFail
			f.mu.Unlock()
			if !valid {
				f.unauth.Add(1)
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, swift401)
				return
			}
			if fail != nil && fail(w, r) {
				return
			}
			f.serveSwift(w, r, notFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// Keystone's identity v2.0 API (removed from Keystone in Queens, so not
// captured from the test Keystone): its version document and a token with
// a v2 service catalog, as the v2.0 API reference gives them. Its status
// is "stable", what Keystone said before it deprecated v2.0: gophercloud's
// discovery skips a "deprecated" version (keystoneauth does not), so a
// Keystone offering only a deprecated v2.0 needs a /v2.0 swift_auth_url.
const (
	v2Versions = `{"versions": {"values": [{"id": "v2.0", "status": "stable", "updated": "2014-04-17T00:00:00Z",
		"links": [{"rel": "self", "href": "{{KEYSTONE}}/v2.0/"}],
		"media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v2.0+json"}]}]}}`
	v2Token = `{"access": {"token": {"id": "tok-v2", "expires": "{{EXPIRES}}", "issued_at": "2026-12-05T14:22:06.000000Z",
		"tenant": {"id": "d2240240672a451288650c7db86740cc", "name": "demo", "enabled": true}},
		"serviceCatalog": [{"type": "object-store", "name": "swift", "endpoints": [{"region": "RegionOne",
			"publicURL": "{{SWIFT}}/v1/AUTH_d2240240672a451288650c7db86740cc",
			"internalURL": "{{SWIFT}}/v1/AUTH_d2240240672a451288650c7db86740cc",
			"adminURL": "{{SWIFT}}/v1/AUTH_d2240240672a451288650c7db86740cc"}]}],
		"user": {"id": "u1", "name": "demo", "roles": [{"name": "member"}]}}}`
)

// serveSwift is a small in-memory Swift account: containers, objects with
// their X-Object-Meta-* headers, and JSON listings.
func (f *fakeCloud) serveSwift(w http.ResponseWriter, r *http.Request, notFound string) {
	rest := r.URL.Path[len("/swift/v1/"):]
	_, rest, _ = strings.Cut(rest, "/") // the account
	container, object, isObject := strings.Cut(rest, "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	objs, exists := f.containers[container]
	missing := func() {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, notFound)
	}
	if !isObject {
		switch r.Method {
		case http.MethodPut:
			if exists {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			f.containers[container] = map[string]fakeObject{}
			w.WriteHeader(http.StatusCreated)
		case http.MethodDelete:
			delete(f.containers, container)
			w.WriteHeader(http.StatusNoContent)
		case http.MethodGet:
			if !exists {
				missing()
				return
			}
			f.list(w, r, objs)
		}
		return
	}
	if !exists {
		missing()
		return
	}
	switch r.Method {
	case http.MethodPut:
		data, _ := io.ReadAll(r.Body)
		h := http.Header{}
		for k, v := range r.Header {
			if strings.HasPrefix(k, "X-Object-Meta-") {
				h[k] = v
			}
		}
		objs[object] = fakeObject{data: data, header: h}
		w.WriteHeader(http.StatusCreated)
	case http.MethodPost:
		o, ok := objs[object]
		if !ok {
			missing()
			return
		}
		o.header = http.Header{}
		for k, v := range r.Header {
			if strings.HasPrefix(k, "X-Object-Meta-") {
				o.header[k] = v
			}
		}
		objs[object] = o
		w.WriteHeader(http.StatusAccepted)
	case http.MethodGet, http.MethodHead:
		o, ok := objs[object]
		if !ok {
			missing()
			return
		}
		for k, v := range o.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(o.data)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(o.data)
		}
	case http.MethodDelete:
		if _, ok := objs[object]; !ok {
			missing()
			return
		}
		delete(objs, object)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (f *fakeCloud) list(w http.ResponseWriter, r *http.Request, objs map[string]fakeObject) {
	q := r.URL.Query()
	prefix, marker, reverse := q.Get("prefix"), q.Get("marker"), q.Get("reverse") == "true"
	limit, _ := strconv.Atoi(q.Get("limit"))
	var names []string
	for n := range objs {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if reverse {
		slices.Reverse(names)
	}
	type entry struct {
		Name   string `json:"name,omitempty"`
		Subdir string `json:"subdir,omitempty"`
	}
	out := []entry{}
	for _, n := range names {
		if marker != "" && (!reverse && n <= marker || reverse && n >= marker) {
			continue
		}
		e := entry{Name: n}
		if q.Get("delimiter") == "/" {
			if i := strings.IndexByte(n[len(prefix):], '/'); i >= 0 {
				e = entry{Subdir: n[:len(prefix)+i+1]}
				if len(out) > 0 && out[len(out)-1].Subdir == e.Subdir || e.Subdir == marker {
					continue
				}
			}
		}
		out = append(out, e)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(out)
}

// expireTokens makes every issued token invalid, as Keystone's expiry does.
func (f *fakeCloud) expireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

func (f *fakeCloud) deleteContainer(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.containers, name)
}

func (f *fakeCloud) setFail(fn func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.swiftFail = fn
}

func (f *fakeCloud) options() Options {
	return Options{
		AuthURL: f.srv.URL + "/identity", User: "demo", Key: "secret", TenantName: "demo",
		RetryAttempts: 3, RetryBackoff: time.Millisecond,
	}
}

// openFake opens a plugin on the fake, closed when the test ends.
func openFake(t *testing.T, opts Options) *Plugin {
	t.Helper()
	p, err := New(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestKeystoneV2ByDiscovery(t *testing.T) {
	f := newFakeCloud(t)
	f.v2only = true
	for _, authURL := range []string{f.srv.URL + "/identity", f.srv.URL + "/identity/v2.0"} {
		opts := f.options()
		opts.AuthURL = authURL
		p := openFake(t, opts)
		ctx := context.Background()
		require.NoError(t, p.PutObject(ctx, "/v2", obj("x", false)), authURL)
		got, err := p.GetObject(ctx, "/v2")
		require.NoError(t, err)
		assert.Equal(t, "x", string(got.Data))
	}
}

func TestFakeCloudRoundTrip(t *testing.T) {
	f := newFakeCloud(t)
	p := openFake(t, f.options())
	ctx := context.Background()
	require.NoError(t, p.PutObject(ctx, "/a/b", obj("x", true)))
	got, err := p.GetObject(ctx, "/a/b")
	require.NoError(t, err)
	assert.Equal(t, "x", string(got.Data))
	assert.True(t, got.Serialized)
	assert.EqualValues(t, 1, f.auths.Load())
}

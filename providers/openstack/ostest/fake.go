// Package ostest helps the tests of the OpenStack clients and plugins: Fake
// replays response bodies captured from real Keystone, Nova, Cinder, Glance
// and Neutron (testdata/, made by testdata/world.py and
// testdata/capture.py), and Real builds a request context from the real
// Keystone that scripts/ensure-openstack.sh registers the services in.
package ostest

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

//go:embed testdata/*.json
var captured embed.FS

// World is what testdata/world.py created before the capture: the demo
// project, its images, volumes (the first attached to the server) and
// network.
type World struct {
	ProjectID string   `json:"project_id"`
	Images    []string `json:"images"`
	Volumes   []string `json:"volumes"`
	Network   string   `json:"network"`
	Server    string   `json:"server"`
}

type route struct {
	Name        string `json:"name"`
	Method      string `json:"method"`
	Port        int    `json:"port"`
	Path        string `json:"path"`
	Query       string `json:"query"`
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
}

// The real services' ports, as captured, and the fake's name for each.
var ports = map[int]string{5000: "keystone", 8774: "nova", 8776: "cinder", 9292: "glance", 9696: "neutron"}

// ExpiredToken is a caller token the fake services refuse with their
// captured 401.
const ExpiredToken = "expired-token"

// Request is one request a fake service received.
type Request struct {
	Service string
	Method  string
	URI     string
	Header  http.Header
}

// Fake is the five services on httptest servers, answering the captured
// requests with the captured bodies (their links rewritten to the fakes).
// A request nothing was captured for gets 404 and is reported by
// Unmatched.
type Fake struct {
	World   World
	servers map[string]*httptest.Server // by service
	routes  map[string]route            // by "service METHOD path?query"
	byName  map[string]route
	rewrite *strings.Replacer

	mu        sync.Mutex
	requests  []Request
	unmatched []string
	stall     map[string]chan struct{}
}

// NewFake starts the fake services; they stop when the test ends.
func NewFake(t testing.TB) *Fake {
	t.Helper()
	var m struct {
		World  World   `json:"world"`
		Routes []route `json:"routes"`
	}
	raw, err := captured.ReadFile("testdata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	f := &Fake{World: m.World, servers: map[string]*httptest.Server{}, routes: map[string]route{}, byName: map[string]route{}, stall: map[string]chan struct{}{}}
	var pairs []string
	for port, svc := range ports {
		s := httptest.NewServer(f.handler(svc))
		t.Cleanup(s.Close)
		f.servers[svc] = s
		pairs = append(pairs, "http://127.0.0.1:"+strconv.Itoa(port), s.URL)
	}
	t.Cleanup(f.release)
	f.rewrite = strings.NewReplacer(pairs...)
	for _, r := range m.Routes {
		// The first capture of a request answers it; later ones (the
		// refusals of a bad token) are reached by name.
		k := key(ports[r.Port], r.Method, r.Path, r.Query)
		if _, dup := f.routes[k]; !dup {
			f.routes[k] = r
		}
		f.byName[r.Name] = r
	}
	return f
}

func key(svc, method, p, q string) string {
	if q != "" {
		p += "?" + q
	}
	return svc + " " + method + " " + p
}

// URL returns a fake service's base URL ("nova", "cinder", "glance",
// "neutron", "keystone").
func (f *Fake) URL(svc string) string { return f.servers[svc].URL }

// Alias makes a request answer with a captured response of another name
// (e.g. a listing without "limit" with the first of the captured pages).
func (f *Fake) Alias(svc, method, pathQuery, name string) {
	p, q, _ := strings.Cut(pathQuery, "?")
	r, ok := f.byName[name]
	if !ok {
		panic("ostest: no captured response " + name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[key(svc, method, p, q)] = r
}

// Stall makes a service hold every request until the test ends, to test
// timeouts.
func (f *Fake) Stall(svc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stall[svc] = make(chan struct{})
}

func (f *Fake) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for svc, ch := range f.stall {
		close(ch)
		delete(f.stall, svc)
	}
}

// Requests returns the requests received so far.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Unmatched returns the requests nothing was captured for.
func (f *Fake) Unmatched() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.unmatched...)
}

func (f *Fake) handler(svc string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, Request{Service: svc, Method: r.Method, URI: r.URL.RequestURI(), Header: r.Header.Clone()})
		stall := f.stall[svc]
		f.mu.Unlock()
		if stall != nil {
			select {
			case <-stall:
			case <-r.Context().Done():
			}
			return
		}
		name := ""
		switch {
		case svc == "keystone" && r.Method == http.MethodPost && r.URL.Path == "/v3/auth/tokens":
			name = "keystone-token-trustee"
			if strings.Contains(string(body), `"password":"wrong"`) {
				name = "keystone-token-wrong-password"
			}
		case r.Header.Get("X-Auth-Token") == ExpiredToken:
			name = map[string]string{"nova": "nova-servers-401", "cinder": "cinder-volumes-401",
				"glance": "glance-images-401", "neutron": "neutron-networks-401"}[svc]
		}
		p := r.URL.Path
		if svc == "nova" && !strings.HasPrefix(p, "/v2.1/"+f.World.ProjectID+"/") {
			// Nova serves its API with and without the project in the
			// path; the capture has it.
			p = strings.Replace(p, "/v2.1/", "/v2.1/"+f.World.ProjectID+"/", 1)
		}
		f.mu.Lock()
		rt, ok := f.byName[name]
		if name == "" {
			rt, ok = f.routes[key(svc, r.Method, p, r.URL.RawQuery)]
		}
		f.mu.Unlock()
		if !ok {
			f.mu.Lock()
			f.unmatched = append(f.unmatched, key(svc, r.Method, r.URL.Path, r.URL.RawQuery))
			f.mu.Unlock()
			http.NotFound(w, r)
			return
		}
		raw, err := captured.ReadFile(path.Join("testdata", rt.Name+".json"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if rt.ContentType != "" {
			w.Header().Set("Content-Type", rt.ContentType)
		}
		text := f.rewrite.Replace(string(raw))
		if rt.Name == "keystone-token-trustee" {
			w.Header().Set("X-Subject-Token", "trustee-token")
			// The captured token expired an hour after its capture; a token
			// issued now lasts, as Keystone's would.
			if text, err = renewed(text, time.Now().Add(time.Hour)); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.WriteHeader(rt.Status)
		_, _ = io.WriteString(w, text)
	})
}

// renewed is a captured Keystone token body whose token expires at
// expires.
func renewed(body string, expires time.Time) (string, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return "", err
	}
	tok, ok := doc["token"].(map[string]any)
	if !ok {
		return "", fmt.Errorf("ostest: a token body without a token")
	}
	tok["expires_at"] = expires.UTC().Format("2006-01-02T15:04:05.000000Z")
	out, err := json.Marshal(doc)
	return string(out), err
}

// Context is the demo user's request context as karbor-api sends it, from
// the captured token, its catalog pointing at the fakes; the token expires
// at expires.
func (f *Fake) Context(t testing.TB, token string, expires time.Time) karbor.RequestContext {
	t.Helper()
	raw, err := captured.ReadFile("testdata/keystone-token-demo.json")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(f.rewrite.Replace(string(raw))), &body); err != nil {
		t.Fatal(err)
	}
	body["token"].(map[string]any)["expires_at"] = expires.UTC().Format("2006-01-02T15:04:05.000000Z")
	return ContextFromToken(t, token, body)
}

// ContextFromToken builds a request context as karbor-api does from a
// Keystone v3 token body (ContextDict).
func ContextFromToken(t testing.TB, token string, body map[string]any) karbor.RequestContext {
	t.Helper()
	rc, err := karbor.FromMap(ContextDict(t, token, body))
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// ContextDict is the part of karbor-api's request context dict a token
// gives: the project, user and roles, the token, its body as
// auth_token_info and the catalog in the v2 shape keystonemiddleware's
// X-Service-Catalog has.
func ContextDict(t testing.TB, token string, body map[string]any) map[string]any {
	t.Helper()
	info, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Token struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			Project struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"project"`
			Roles []struct {
				Name string `json:"name"`
			} `json:"roles"`
			Catalog []struct {
				Type      string `json:"type"`
				Name      string `json:"name"`
				Endpoints []struct {
					Interface string `json:"interface"`
					URL       string `json:"url"`
					Region    string `json:"region"`
				} `json:"endpoints"`
			} `json:"catalog"`
		} `json:"token"`
	}
	if err := json.Unmarshal(info, &tok); err != nil {
		t.Fatal(err)
	}
	roles := []any{}
	for _, r := range tok.Token.Roles {
		roles = append(roles, r.Name)
	}
	catalog := []any{}
	for _, c := range tok.Token.Catalog {
		ep := map[string]any{}
		for _, e := range c.Endpoints {
			ep[e.Interface+"URL"] = e.URL
			ep["region"] = e.Region
		}
		catalog = append(catalog, map[string]any{"type": c.Type, "name": c.Name, "endpoints": []any{ep}})
	}
	return map[string]any{
		"user_id": tok.Token.User.ID, "project_id": tok.Token.Project.ID, "project_name": tok.Token.Project.Name,
		"roles": roles, "auth_token": token, "auth_token_info": body, "service_catalog": catalog,
	}
}

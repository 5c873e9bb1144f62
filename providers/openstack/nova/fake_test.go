package nova_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/python"
)

const fakeToken = "demo-token"

// fakeThing is a server or volume of the fake: the statuses it shows, one
// per GET, the last repeated; "not-found" answers 404.
type fakeThing struct {
	statuses []string
	// body is the captured body it is shown with, its id and status
	// replaced.
	body string
}

func (o *fakeThing) next() string {
	s := o.statuses[0]
	if len(o.statuses) > 1 {
		o.statuses = o.statuses[1:]
	}
	return s
}

// fakeOS is Keystone, Nova, Cinder and Neutron on one httptest server,
// answering with the bodies of testdata/ (captured from the real services,
// testdata/capture.py) and walking servers and volumes through scripted
// status sequences.
type fakeOS struct {
	t   *testing.T
	srv *httptest.Server
	// world is what the capture made: the server, its volume, its port.
	world captureWorld

	mu      sync.Mutex
	servers map[string]*fakeThing
	volumes map[string]*fakeThing
	// booted are the statuses of a server POST /servers makes; attached,
	// of a volume once attached; deleting, of a deleted server. Defaults:
	// the real services' (testdata/sequences.json).
	booted, attached, deleting []string
	// fail answers the next requests "METHOD kind" (kind: servers,
	// server, attach, action, volume, ports) with these statuses, one
	// each, and the service's captured or written error body.
	fail map[string][]int
	// log is every request, "METHOD kind[ id]".
	log []string
	// posts are the bodies of the POST requests, by kind, in order.
	posts map[string][]map[string]any
	// microversions are the compute microversions of the POST /servers.
	microversions []string
	// revoked refuses every token.
	revoked bool
	// onRequest, if set, runs after each request is answered, unlocked.
	onRequest func(line string)
}

// captureWorld is what the capture's bodies name.
type captureWorld struct {
	Project, Server, BootServer, Volume, BootVolume, Image, Network, MAC string
}

func newFakeOS(t *testing.T) *fakeOS {
	f := &fakeOS{t: t, servers: map[string]*fakeThing{}, volumes: map[string]*fakeThing{},
		fail: map[string][]int{}, posts: map[string][]map[string]any{}}
	seqs := map[string][]string{}
	if err := json.Unmarshal(readCaptured(t, "sequences"), &seqs); err != nil {
		t.Fatal(err)
	}
	f.booted = seqs["nova-server"]
	f.attached = seqs["cinder-volume"]
	f.deleting = seqs["nova-server-deleting"]
	f.world = worldOf(t)
	f.servers[f.world.Server] = &fakeThing{statuses: []string{"ACTIVE"}, body: "nova-server"}
	f.servers[f.world.BootServer] = &fakeThing{statuses: []string{"ACTIVE"}, body: "nova-server-bfv"}
	f.volumes[f.world.Volume] = &fakeThing{statuses: []string{"in-use"}, body: "cinder-volume-in-use"}
	f.volumes[f.world.BootVolume] = &fakeThing{statuses: []string{"in-use"}, body: "cinder-volume-boot"}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// worldOf reads the ids in the captured bodies.
func worldOf(t *testing.T) captureWorld {
	var srv, bfv struct {
		Server struct {
			ID        string `json:"id"`
			TenantID  string `json:"tenant_id"`
			Image     any    `json:"image"`
			Addresses map[string][]struct {
				MAC string `json:"OS-EXT-IPS-MAC:mac_addr"`
			} `json:"addresses"`
			Volumes []struct {
				ID string `json:"id"`
			} `json:"os-extended-volumes:volumes_attached"`
		} `json:"server"`
	}
	var port struct {
		Ports []struct {
			NetworkID string `json:"network_id"`
		} `json:"ports"`
	}
	for name, v := range map[string]any{"nova-server": &srv, "nova-server-bfv": &bfv, "neutron-ports-mac": &port} {
		if err := json.Unmarshal(readCaptured(t, name), v); err != nil {
			t.Fatal(name, err)
		}
	}
	w := captureWorld{Project: srv.Server.TenantID, Server: srv.Server.ID, BootServer: bfv.Server.ID,
		Volume: srv.Server.Volumes[0].ID, BootVolume: bfv.Server.Volumes[0].ID, Network: port.Ports[0].NetworkID}
	w.Image, _ = srv.Server.Image.(map[string]any)["id"].(string)
	for _, addrs := range srv.Server.Addresses {
		w.MAC = addrs[0].MAC
	}
	return w
}

// karborConf points karbor.conf's endpoints and trustee at the fake.
func (f *fakeOS) karborConf() string {
	return "[trustee]\nauth_type = password\nauth_url = " + f.srv.URL + "/v3\nusername = karbor\npassword = password\nuser_domain_id = default\n" +
		"[nova_client]\nnova_endpoint = " + f.srv.URL + "/v2.1\n" +
		"[cinder_client]\ncinder_endpoint = " + f.srv.URL + "/v3\n" +
		"[neutron_client]\nneutron_endpoint = " + f.srv.URL + "\n"
}

func (f *fakeOS) context() *karbor.RequestContext {
	return &karbor.RequestContext{AuthToken: fakeToken, ProjectID: f.world.Project, UserID: "user", RequestID: "req-1"}
}

// requests returns the request log.
func (f *fakeOS) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// posted returns the bodies POSTed to kind.
func (f *fakeOS) posted(kind string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.posts[kind]...)
}

// live lists the servers POST /servers made that are not gone.
func (f *fakeOS) live() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id, s := range f.servers {
		if id != f.world.Server && id != f.world.BootServer && s.statuses[len(s.statuses)-1] != "not-found" {
			out = append(out, id)
		}
	}
	return out
}

// set replaces the remaining statuses of a server or volume.
func (f *fakeOS) set(things map[string]*fakeThing, id string, statuses ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	things[id].statuses = statuses
}

func readCaptured(t testing.TB, name string) []byte {
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (f *fakeOS) reply(w http.ResponseWriter, status int, body []byte) {
	if len(body) > 0 {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// show is a thing's captured body with its id and status, in Nova's and
// Cinder's key order (the plugin keeps Cinder's attachments as they are).
func (f *fakeOS) show(key, id, status string, o *fakeThing) []byte {
	doc, err := python.LoadDict(readCaptured(f.t, o.body))
	if err != nil {
		f.t.Fatal(err)
	}
	raw, _ := doc.Get(key)
	inner, err := python.LoadDict(raw)
	if err != nil {
		f.t.Fatal(err)
	}
	inner.Set("id", quote(id))
	inner.Set("status", quote(status))
	if key == "server" && status == "ERROR" {
		var e struct {
			Server struct {
				Fault json.RawMessage `json:"fault"`
			} `json:"server"`
		}
		if err := json.Unmarshal(readCaptured(f.t, "nova-server-error-ERROR"), &e); err != nil {
			f.t.Fatal(err)
		}
		inner.Set("fault", e.Server.Fault)
	}
	raw, err = inner.AppendJSON(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	doc.Set(key, raw)
	out, err := doc.AppendJSON(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func quote(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func (f *fakeOS) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	line := f.answer(w, r, raw)
	hook := f.onRequest
	f.mu.Unlock()
	if hook != nil && line != "" {
		hook(line)
	}
}

// errorBodies are each service's captured answer to a bad token and to a
// request that failed.
var errorBodies = map[string][2]string{
	"nova":    {"nova-server-401", "nova-server-500"},
	"cinder":  {"cinder-volume-401", "cinder-volume-500"},
	"neutron": {"neutron-ports-401", "neutron-ports-500"},
}

// answer answers r, under f.mu; it returns the request's log line.
func (f *fakeOS) answer(w http.ResponseWriter, r *http.Request, raw []byte) string {
	p := r.URL.Path
	if p == "/v3/auth/tokens" {
		w.Header().Set("X-Subject-Token", "trustee-token")
		f.reply(w, http.StatusCreated, readCaptured(f.t, "keystone-token-trustee"))
		return ""
	}
	svc, kind, id := "", "", ""
	var parts []string
	switch {
	case p == "/v2.1/"+f.world.Project+"/os-volumes_boot":
		svc, kind, id = "nova", "servers", "os-volumes_boot"
	case strings.HasPrefix(p, "/v2.1/"+f.world.Project+"/servers"):
		svc, parts = "nova", strings.Split(strings.TrimPrefix(p, "/v2.1/"+f.world.Project+"/"), "/")
		switch {
		case len(parts) == 1:
			kind = "servers"
		case len(parts) == 2:
			kind, id = "server", parts[1]
		case len(parts) == 3 && parts[2] == "os-volume_attachments":
			kind, id = "attach", parts[1]
		case len(parts) == 3 && parts[2] == "action":
			kind, id = "action", parts[1]
		}
	case strings.HasPrefix(p, "/v3/"+f.world.Project+"/volumes/"):
		svc, kind, id = "cinder", "volume", strings.TrimPrefix(p, "/v3/"+f.world.Project+"/volumes/")
	case p == "/v2.0/ports":
		svc, kind, id = "neutron", "ports", r.URL.Query().Get("mac_address")
	}
	line := strings.TrimSpace(r.Method + " " + kind + " " + id)
	f.log = append(f.log, line)
	if kind == "" {
		f.t.Errorf("fake: unexpected %s %s", r.Method, r.URL)
		f.reply(w, http.StatusNotFound, nil)
		return line
	}
	if r.Header.Get("X-Auth-Token") != fakeToken || f.revoked {
		f.reply(w, http.StatusUnauthorized, readCaptured(f.t, errorBodies[svc][0]))
		return line
	}
	if r.Header.Get("X-Service-Token") != "trustee-token" {
		f.t.Errorf("fake: %s without the service token: %v", line, r.Header)
	}
	if codes := f.fail[r.Method+" "+kind]; len(codes) > 0 {
		f.fail[r.Method+" "+kind] = codes[1:]
		f.reply(w, codes[0], readCaptured(f.t, errorBodies[svc][1]))
		return line
	}
	var body map[string]any
	if r.Method == http.MethodPost {
		if err := json.Unmarshal(raw, &body); err != nil {
			f.t.Errorf("fake: %s: body %q: %v", line, raw, err)
		}
		f.posts[kind] = append(f.posts[kind], body)
	}
	switch kind {
	case "servers":
		if r.Method != http.MethodPost {
			break
		}
		f.microversions = append(f.microversions, r.Header.Get("X-OpenStack-Nova-API-Version"))
		id := uuid.NewString()
		f.servers[id] = &fakeThing{statuses: append([]string(nil), f.booted...), body: "nova-server-ACTIVE"}
		out := strings.ReplaceAll(string(readCaptured(f.t, "nova-server-create")), f.createdID(), id)
		f.reply(w, http.StatusAccepted, []byte(out))
		return line
	case "server":
		o := f.servers[id]
		if o == nil || o.statuses[0] == "not-found" {
			f.reply(w, http.StatusNotFound, readCaptured(f.t, "nova-server-404"))
			return line
		}
		switch r.Method {
		case http.MethodGet:
			st := o.next()
			if st == "not-found" {
				f.reply(w, http.StatusNotFound, readCaptured(f.t, "nova-server-404"))
				return line
			}
			f.reply(w, http.StatusOK, f.show("server", id, st, o))
			return line
		case http.MethodDelete:
			o.statuses = append([]string(nil), f.deleting...)
			f.reply(w, http.StatusNoContent, nil)
			return line
		}
	case "attach":
		if r.Method != http.MethodPost {
			break
		}
		va, _ := body["volumeAttachment"].(map[string]any)
		vol, _ := va["volumeId"].(string)
		v := f.volume(vol)
		if f.servers[id] == nil || v == nil {
			f.reply(w, http.StatusNotFound, readCaptured(f.t, "nova-volume-attach-404"))
			return line
		}
		v.statuses = append([]string(nil), f.attached...)
		out := strings.ReplaceAll(string(readCaptured(f.t, "nova-volume-attach")), f.world.Volume, vol)
		f.reply(w, http.StatusOK, []byte(out))
		return line
	case "action":
		if r.Method == http.MethodPost && f.servers[id] != nil {
			f.reply(w, http.StatusAccepted, nil)
			return line
		}
	case "volume":
		o := f.volume(id)
		if r.Method == http.MethodGet && o != nil {
			f.reply(w, http.StatusOK, f.show("volume", id, o.next(), o))
			return line
		}
		if r.Method == http.MethodGet {
			f.reply(w, http.StatusNotFound, readCaptured(f.t, "cinder-volume-404"))
			return line
		}
	case "ports":
		if r.Method == http.MethodGet && id == f.world.MAC {
			f.reply(w, http.StatusOK, readCaptured(f.t, "neutron-ports-mac"))
			return line
		}
		if r.Method == http.MethodGet {
			f.reply(w, http.StatusOK, []byte(`{"ports": []}`))
			return line
		}
	}
	f.t.Errorf("fake: unexpected %s", line)
	f.reply(w, http.StatusMethodNotAllowed, nil)
	return line
}

// createdID is the id in the captured answer to POST /servers.
func (f *fakeOS) createdID() string {
	var c struct {
		Server struct {
			ID string `json:"id"`
		} `json:"server"`
	}
	if err := json.Unmarshal(readCaptured(f.t, "nova-server-create"), &c); err != nil {
		f.t.Fatal(err)
	}
	return c.Server.ID
}

// volume is a volume of the fake, under f.mu: those the test plugin's
// restore names ("restored-<id>") exist, available.
func (f *fakeOS) volume(id string) *fakeThing {
	if v := f.volumes[id]; v != nil || !strings.HasPrefix(id, restoredPrefix) {
		return v
	}
	f.volumes[id] = &fakeThing{statuses: []string{"available"}, body: "cinder-volume-in-use"}
	return f.volumes[id]
}

// count counts the log lines starting with prefix.
func count(log []string, prefix string) int {
	n := 0
	for _, l := range log {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

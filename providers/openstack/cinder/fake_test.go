package cinder_test

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
)

const (
	fakeProject = "d2240240672a451288650c7db86740cc"
	fakeToken   = "demo-token"
)

// fakeObject is a volume, snapshot or backup of the fake: the statuses it
// shows, one per GET, the last repeated; "not-found" answers 404.
type fakeObject struct {
	statuses []string
	fields   map[string]any
}

func (o *fakeObject) next() string {
	s := o.statuses[0]
	if len(o.statuses) > 1 {
		o.statuses = o.statuses[1:]
	}
	return s
}

// fakeCinder is Cinder and Keystone on one httptest server, answering with
// the bodies of testdata/ (captured from the real services) and walking
// each object through scripted status sequences.
type fakeCinder struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	objects map[string]map[string]*fakeObject // kind (volumes, snapshots, backups) → id
	// created are the status sequences of what a POST makes, by kind
	// ("restored" for a backup's restore); deleting, what a DELETE
	// starts. Defaults: the real Cinder's (testdata/sequences.json).
	created, deleting map[string][]string
	// fail answers the next requests "METHOD kind" with these statuses,
	// one each, and the captured 5xx body.
	fail map[string][]int
	// log is every request, "METHOD /kind[/id][/action]".
	log []string
	// onRequest, if set, runs after each request is answered.
	onRequest func(line string)
}

func newFakeCinder(t *testing.T) *fakeCinder {
	f := &fakeCinder{t: t, objects: map[string]map[string]*fakeObject{"volumes": {}, "snapshots": {}, "backups": {}},
		created: map[string][]string{
			"snapshots": {"creating", "available"},
			"backups":   {"creating", "available"},
			"volumes":   {"creating", "available"},
			"restored":  {"restoring-backup", "available"},
		},
		deleting: map[string][]string{},
		fail:     map[string][]int{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// karborConf points karbor.conf's Cinder endpoint and trustee at the fake.
func (f *fakeCinder) karborConf() string {
	return "[trustee]\nauth_type = password\nauth_url = " + f.srv.URL + "/v3\nusername = karbor\npassword = password\nuser_domain_id = default\n" +
		"[cinder_client]\ncinder_endpoint = " + f.srv.URL + "/v3\n"
}

func (f *fakeCinder) context() *karbor.RequestContext {
	return &karbor.RequestContext{AuthToken: fakeToken, ProjectID: fakeProject, UserID: "user", RequestID: "req-1"}
}

// add makes an object of kind with the given statuses.
func (f *fakeCinder) add(kind string, fields map[string]any, statuses ...string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := uuid.NewString()
	f.objects[kind][id] = &fakeObject{statuses: statuses, fields: fields}
	return id
}

// requests returns the request log.
func (f *fakeCinder) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// live lists the objects of kind that are not gone.
func (f *fakeCinder) live(kind string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id, o := range f.objects[kind] {
		if o.statuses[len(o.statuses)-1] != "not-found" {
			out = append(out, id)
		}
	}
	return out
}

// setStatuses replaces an object's remaining statuses.
func (f *fakeCinder) setStatuses(kind, id string, statuses ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[kind][id].statuses = statuses
}

func captured(t testing.TB, name string) map[string]any {
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// singular is a kind's JSON key.
var singular = map[string]string{"volumes": "volume", "snapshots": "snapshot", "backups": "backup"}

func (f *fakeCinder) reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

// body is the captured body of an object of kind, with its fields.
func (f *fakeCinder) body(kind, id, status string, o *fakeObject) map[string]any {
	b := captured(f.t, singular[kind]+"-available")
	inner := b[singular[kind]].(map[string]any)
	inner["id"], inner["status"] = id, status
	for k, v := range o.fields {
		inner[k] = v
	}
	return b
}

func (f *fakeCinder) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	line := f.answer(w, r, raw)
	hook := f.onRequest
	f.mu.Unlock()
	if hook != nil && line != "" {
		hook(line)
	}
}

// answer answers r, under f.mu; it returns the request's log line.
func (f *fakeCinder) answer(w http.ResponseWriter, r *http.Request, raw []byte) string {
	if r.URL.Path == "/v3/auth/tokens" {
		w.Header().Set("X-Subject-Token", "trustee-token")
		f.reply(w, http.StatusCreated, captured(f.t, "keystone-token-trustee"))
		return ""
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v3/"+fakeProject+"/")
	if !ok {
		f.t.Errorf("fake cinder: unexpected path %s", r.URL.Path)
		f.reply(w, http.StatusNotFound, nil)
		return ""
	}
	parts := strings.Split(rest, "/")
	line := r.Method + " /" + rest
	f.log = append(f.log, line)
	if r.Header.Get("X-Auth-Token") != fakeToken {
		f.reply(w, http.StatusUnauthorized, captured(f.t, "volume-401"))
		return line
	}
	if r.Header.Get("X-Service-Token") != "trustee-token" || r.Header.Get("OpenStack-API-Version") != "volume 3.43" {
		f.t.Errorf("fake cinder: %s without the service token or microversion: %v", line, r.Header)
	}
	kind := parts[0]
	if codes := f.fail[r.Method+" "+kind]; len(codes) > 0 {
		f.fail[r.Method+" "+kind] = codes[1:]
		f.reply(w, codes[0], captured(f.t, "server-error-500"))
		return line
	}
	objs := f.objects[kind]
	if objs == nil {
		f.t.Errorf("fake cinder: unexpected %s", line)
		f.reply(w, http.StatusNotFound, nil)
		return line
	}
	var req map[string]map[string]any
	_ = json.Unmarshal(raw, &req)
	switch {
	case r.Method == http.MethodPost && len(parts) == 1:
		id := uuid.NewString()
		fields := map[string]any{}
		for _, k := range []string{"volume_id", "name", "description", "size", "snapshot_id"} {
			if v, ok := req[singular[kind]][k]; ok {
				fields[k] = v
			}
		}
		o := &fakeObject{statuses: append([]string(nil), f.created[kind]...), fields: fields}
		objs[id] = o
		f.reply(w, http.StatusAccepted, f.body(kind, id, o.statuses[0], o))
		return line
	case len(parts) == 3 && parts[2] == "restore" && r.Method == http.MethodPost:
		if o := objs[parts[1]]; o == nil || o.statuses[0] == "not-found" {
			f.reply(w, http.StatusNotFound, captured(f.t, "backup-404"))
			return line
		}
		id := uuid.NewString()
		f.objects["volumes"][id] = &fakeObject{statuses: append([]string(nil), f.created["restored"]...), fields: map[string]any{}}
		b := captured(f.t, "backup-restore")
		b["restore"].(map[string]any)["volume_id"] = id
		b["restore"].(map[string]any)["backup_id"] = parts[1]
		f.reply(w, http.StatusAccepted, b)
		return line
	case len(parts) != 2:
		f.t.Errorf("fake cinder: unexpected %s", line)
		f.reply(w, http.StatusNotFound, nil)
		return line
	}
	id := parts[1]
	o := objs[id]
	if o == nil || o.statuses[0] == "not-found" {
		f.reply(w, http.StatusNotFound, captured(f.t, singular[kind]+"-404"))
		return line
	}
	switch r.Method {
	case http.MethodGet:
		st := o.next()
		if st == "not-found" {
			f.reply(w, http.StatusNotFound, captured(f.t, singular[kind]+"-404"))
			return line
		}
		if st == "error" && kind == "backups" {
			o.fields["fail_reason"] = "the backup driver failed"
		}
		f.reply(w, http.StatusOK, f.body(kind, id, st, o))
	case http.MethodPut:
		for k, v := range req[singular[kind]] {
			o.fields[k] = v
		}
		f.reply(w, http.StatusOK, f.body(kind, id, o.statuses[0], o))
	case http.MethodDelete:
		seq, ok := f.deleting[kind]
		if !ok {
			seq = []string{"deleting", "not-found"}
		}
		o.statuses = append([]string(nil), seq...)
		f.reply(w, http.StatusAccepted, nil)
	default:
		f.t.Errorf("fake cinder: unexpected %s", line)
		f.reply(w, http.StatusMethodNotAllowed, nil)
	}
	return line
}

// count counts the requests starting with prefix.
func count(log []string, prefix string) int {
	n := 0
	for _, l := range log {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

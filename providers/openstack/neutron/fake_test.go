package neutron_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

const fakeToken = "demo-token"

// singular is each collection's object key.
var singular = map[string]string{
	"networks": "network", "subnets": "subnet", "ports": "port", "routers": "router",
	"security-groups": "security_group", "security-group-rules": "security_group_rule",
}

// listKey is each collection's key in a listing.
func listKey(collection string) string { return strings.ReplaceAll(collection, "-", "_") }

// world is what testdata/capture.py built in the demo project.
type world struct {
	ProjectID     string   `json:"project_id"`
	Network       string   `json:"network"`
	NetworkDown   string   `json:"network_down"`
	Subnet        string   `json:"subnet"`
	SubnetNoGW    string   `json:"subnet_nogw"`
	Router        string   `json:"router"`
	SecurityGroup string   `json:"security_group"`
	Port          string   `json:"port"`
	External      []string `json:"external"`
}

func captured(t testing.TB, name string) map[string]any {
	t.Helper()
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

func capturedWorld(t testing.TB) world {
	t.Helper()
	raw, err := os.ReadFile("testdata/world.json")
	if err != nil {
		t.Fatal(err)
	}
	var w world
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	return w
}

// clone deep-copies a JSON value.
func clone[T any](v T) T {
	raw, _ := json.Marshal(v)
	var out T
	_ = json.Unmarshal(raw, &out)
	return out
}

// fakeNeutron is Neutron and Keystone on one httptest server: it keeps the
// objects it holds (at first, the captured topology), answers with the
// captured bodies' shapes and walks what it creates through scripted status
// sequences.
type fakeNeutron struct {
	t   *testing.T
	srv *httptest.Server
	w   world

	mu sync.Mutex
	// objects by collection, in creation order.
	objects map[string][]map[string]any
	// statuses are the statuses shown by the GETs of what a POST to a
	// collection makes, one per GET, the last repeated; the POST answers
	// the first. Unset: the captured object's.
	statuses map[string][]string
	seqs     map[string][]string // object id → statuses left
	// fail answers the next requests "METHOD collection" with these
	// statuses, one each.
	fail map[string][]int
	// log is every request to Neutron, "METHOD /collection[/id[/action]]".
	log []string
	// onRequest, if set, runs after each request to Neutron is answered.
	onRequest func(line string)
}

func newFakeNeutron(t *testing.T) *fakeNeutron {
	f := &fakeNeutron{t: t, w: capturedWorld(t), objects: map[string][]map[string]any{},
		statuses: map[string][]string{}, seqs: map[string][]string{}, fail: map[string][]int{}}
	for c := range singular {
		if c == "security-group-rules" {
			continue
		}
		for _, o := range captured(t, c+"-list")[listKey(c)].([]any) {
			f.objects[c] = append(f.objects[c], o.(map[string]any))
		}
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// empty removes every object: a project with nothing, to restore into.
func (f *fakeNeutron) empty() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects = map[string][]map[string]any{}
}

// karborConf points karbor.conf's Neutron endpoint and trustee at the fake.
func (f *fakeNeutron) karborConf() string {
	return "[trustee]\nauth_type = password\nauth_url = " + f.srv.URL + "/v3\nusername = karbor\npassword = password\nuser_domain_id = default\n" +
		"[neutron_client]\nneutron_endpoint = " + f.srv.URL + "\n"
}

func (f *fakeNeutron) context() *karbor.RequestContext {
	return &karbor.RequestContext{AuthToken: fakeToken, ProjectID: f.w.ProjectID, UserID: "user", RequestID: "req-1"}
}

func (f *fakeNeutron) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// all returns a copy of the objects of a collection.
func (f *fakeNeutron) all(collection string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return clone(f.objects[collection])
}

func (f *fakeNeutron) find(collection, id string) (int, map[string]any) {
	for i, o := range f.objects[collection] {
		if o["id"] == id {
			return i, o
		}
	}
	return -1, nil
}

func (f *fakeNeutron) reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

// serverError is Neutron's fault body for a 500 (no request makes the
// real Neutron fail so; neutron/api/v2/base.py's format).
var serverError = map[string]any{"NeutronError": map[string]any{"type": "HTTPInternalServerError",
	"message": "Request Failed: internal server error while processing your request.", "detail": ""}}

// errorBody is Neutron's body for an error status: the captured one of
// its kind, or the fault body of a 5xx.
func (f *fakeNeutron) errorBody(code int) any {
	switch code {
	case http.StatusBadRequest:
		return captured(f.t, "subnet-create-overlap")
	case http.StatusNotFound:
		return captured(f.t, "network-404")
	case http.StatusConflict:
		return captured(f.t, "security-group-rule-conflict")
	}
	return serverError
}

func (f *fakeNeutron) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	n := len(f.log)
	f.answer(w, r, raw)
	hook, logged := f.onRequest, len(f.log) > n
	line := ""
	if logged {
		line = f.log[len(f.log)-1]
	}
	f.mu.Unlock()
	if hook != nil && logged {
		hook(line)
	}
}

// answer answers r, under f.mu.
func (f *fakeNeutron) answer(w http.ResponseWriter, r *http.Request, raw []byte) {
	if r.URL.Path == "/v3/auth/tokens" {
		w.Header().Set("X-Subject-Token", "trustee-token")
		f.reply(w, http.StatusCreated, captured(f.t, "keystone-token-trustee"))
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2.0/")
	if !ok {
		f.t.Errorf("fake neutron: unexpected path %s", r.URL.Path)
		f.reply(w, http.StatusNotFound, nil)
		return
	}
	parts := strings.Split(rest, "/")
	f.log = append(f.log, r.Method+" /"+rest)
	if r.Header.Get("X-Auth-Token") != fakeToken {
		f.reply(w, http.StatusUnauthorized, captured(f.t, "networks-401"))
		return
	}
	if r.Header.Get("X-Service-Token") != "trustee-token" {
		f.t.Errorf("fake neutron: %s %s without the service token", r.Method, rest)
	}
	coll := parts[0]
	if codes := f.fail[r.Method+" "+coll]; len(codes) > 0 {
		f.fail[r.Method+" "+coll] = codes[1:]
		f.reply(w, codes[0], f.errorBody(codes[0]))
		return
	}
	key, ok := singular[coll]
	if !ok {
		f.t.Errorf("fake neutron: unexpected %s %s", r.Method, rest)
		f.reply(w, http.StatusNotFound, nil)
		return
	}
	var req map[string]map[string]any
	_ = json.Unmarshal(raw, &req)
	switch {
	case r.Method == http.MethodGet && len(parts) == 1:
		var items []map[string]any
		q := r.URL.Query()
		for _, o := range f.objects[coll] {
			if p := q.Get("project_id"); p != "" && o["project_id"] != p {
				continue
			}
			if n := q.Get("name"); n != "" && o["name"] != n {
				continue
			}
			items = append(items, o)
		}
		if items == nil {
			items = []map[string]any{}
		}
		f.reply(w, http.StatusOK, map[string]any{listKey(coll): items})
	case r.Method == http.MethodPost && len(parts) == 1:
		f.create(w, coll, key, req[key])
	case r.Method == http.MethodPut && len(parts) == 3 && coll == "routers":
		f.routerInterface(w, parts[1], parts[2], raw)
	case len(parts) == 2:
		i, o := f.find(coll, parts[1])
		if o == nil {
			f.reply(w, http.StatusNotFound, captured(f.t, "network-404"))
			return
		}
		switch r.Method {
		case http.MethodGet:
			if seq := f.seqs[parts[1]]; len(seq) > 0 {
				o["status"] = seq[0]
				if len(seq) > 1 {
					f.seqs[parts[1]] = seq[1:]
				}
			}
			f.reply(w, http.StatusOK, map[string]any{key: o})
		case http.MethodDelete:
			f.objects[coll] = slices.Delete(f.objects[coll], i, i+1)
			if coll == "security-groups" {
				f.objects["security-group-rules"] = slices.DeleteFunc(f.objects["security-group-rules"],
					func(r map[string]any) bool { return r["security_group_id"] == o["id"] })
			}
			if coll == "security-group-rules" {
				_, g := f.find("security-groups", o["security_group_id"].(string))
				if g != nil {
					rules := g["security_group_rules"].([]any)
					g["security_group_rules"] = slices.DeleteFunc(rules, func(r any) bool { return r.(map[string]any)["id"] == o["id"] })
				}
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			f.t.Errorf("fake neutron: unexpected %s %s", r.Method, rest)
			f.reply(w, http.StatusMethodNotAllowed, nil)
		}
	default:
		f.t.Errorf("fake neutron: unexpected %s %s", r.Method, rest)
		f.reply(w, http.StatusMethodNotAllowed, nil)
	}
}

// create makes an object from the captured create answer of its kind and
// the request's fields.
func (f *fakeNeutron) create(w http.ResponseWriter, coll, key string, fields map[string]any) {
	if netID, ok := fields["network_id"].(string); ok && coll != "routers" {
		if _, n := f.find("networks", netID); n == nil {
			f.reply(w, http.StatusNotFound, captured(f.t, "port-create-network-404"))
			return
		}
	}
	o := captured(f.t, strings.ReplaceAll(key, "_", "-")+"-create")[key].(map[string]any)
	id := uuid.NewString()
	if coll == "security-group-rules" {
		// What the request leaves out is null, not the captured rule's.
		for _, k := range []string{"protocol", "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id"} {
			o[k] = nil
		}
	}
	for k, v := range fields {
		o[k] = v
	}
	o["id"] = id
	if _, ok := fields["admin_state_up"]; !ok && coll != "security-groups" && coll != "security-group-rules" && coll != "subnets" {
		o["admin_state_up"] = true // Neutron's default
	}
	switch coll {
	case "networks":
		o["subnets"] = []any{}
	case "subnets":
		_, n := f.find("networks", o["network_id"].(string))
		n["subnets"] = append(n["subnets"].([]any), id)
	case "security-groups":
		var rules []any
		for _, r := range o["security_group_rules"].([]any) {
			rule := r.(map[string]any)
			rule["id"], rule["security_group_id"] = uuid.NewString(), id
			rules = append(rules, rule)
			f.objects["security-group-rules"] = append(f.objects["security-group-rules"], rule)
		}
		o["security_group_rules"] = rules
	case "security-group-rules":
		_, g := f.find("security-groups", o["security_group_id"].(string))
		if g == nil {
			f.reply(w, http.StatusNotFound, captured(f.t, "network-404"))
			return
		}
		for _, r := range g["security_group_rules"].([]any) {
			if sameRule(r.(map[string]any), o) {
				f.reply(w, http.StatusConflict, captured(f.t, "security-group-rule-conflict"))
				return
			}
		}
		g["security_group_rules"] = append(g["security_group_rules"].([]any), o)
	}
	if seq := f.statuses[coll]; len(seq) > 0 {
		o["status"] = seq[0]
		f.seqs[id] = append([]string(nil), seq[1:]...)
	}
	f.objects[coll] = append(f.objects[coll], o)
	f.reply(w, http.StatusCreated, map[string]any{key: o})
}

// sameRule compares two rules as Neutron's duplicate check does.
func sameRule(a, b map[string]any) bool {
	for _, k := range []string{"direction", "ethertype", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix", "remote_group_id"} {
		if norm(a[k]) != norm(b[k]) {
			return false
		}
	}
	return true
}

func norm(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

// routerInterface adds or removes a router's interface port on a subnet.
func (f *fakeNeutron) routerInterface(w http.ResponseWriter, router, action string, raw []byte) {
	var req struct {
		SubnetID string `json:"subnet_id"`
	}
	_ = json.Unmarshal(raw, &req)
	_, rt := f.find("routers", router)
	_, sub := f.find("subnets", req.SubnetID)
	if rt == nil || sub == nil {
		f.reply(w, http.StatusNotFound, captured(f.t, "network-404"))
		return
	}
	switch action {
	case "add_router_interface":
		port := clone(captured(f.t, "port-create")["port"].(map[string]any))
		port["id"], port["name"], port["network_id"] = uuid.NewString(), "", sub["network_id"]
		port["device_owner"], port["device_id"] = "network:router_interface", router
		port["fixed_ips"] = []any{map[string]any{"subnet_id": req.SubnetID, "ip_address": sub["gateway_ip"]}}
		f.objects["ports"] = append(f.objects["ports"], port)
		body := captured(f.t, "router-add-interface")
		body["id"], body["subnet_id"], body["port_id"], body["network_id"] = router, req.SubnetID, port["id"], sub["network_id"]
		body["subnet_ids"] = []any{req.SubnetID}
		f.reply(w, http.StatusOK, body)
	case "remove_router_interface":
		f.objects["ports"] = slices.DeleteFunc(f.objects["ports"], func(p map[string]any) bool {
			ips, _ := p["fixed_ips"].([]any)
			return p["device_id"] == router && p["device_owner"] == "network:router_interface" &&
				len(ips) > 0 && ips[0].(map[string]any)["subnet_id"] == req.SubnetID
		})
		body := captured(f.t, "router-remove-interface")
		body["id"], body["subnet_id"] = router, req.SubnetID
		f.reply(w, http.StatusOK, body)
	default:
		f.t.Errorf("fake neutron: unexpected router action %s", action)
		f.reply(w, http.StatusNotFound, nil)
	}
}

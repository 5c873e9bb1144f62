package glance

import (
	"crypto/md5" //nolint:gosec // Glance's checksum
	"crypto/sha512"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
)

//go:embed testdata/*.json testdata/*.html
var captured embed.FS

// goodToken is the only token the fake Glance accepts.
const goodToken = "fake-demo-token"

// fakeImage is an image the fake Glance holds.
type fakeImage struct {
	name, diskFormat string
	data             []byte
	// statuses are answered by the next GETs of the image, one each, then
	// status.
	statuses []string
	status   string
	// serve, when set, replaces the bytes a download gives.
	serve []byte
	// stall makes a download stop after this many bytes (0: never) until
	// the client goes away.
	stall int
	// hashAlgo, when set, replaces os_hash_algo (sha512; "": no
	// multihash at all), and noChecksum answers a null checksum.
	hashAlgo   *string
	noChecksum bool
}

// fakeGlance is a stateful Glance v2 on an httptest server answering with
// the bodies captured from the real one (testdata/README.md).
type fakeGlance struct {
	t   testing.TB
	srv *httptest.Server

	mu     sync.Mutex
	images map[string]*fakeImage
	// fail answers "<METHOD> <path suffix>" with a status and a body.
	fail map[string]failure
	// onGet runs at each GET of an image, before it is answered.
	onGet   func(id string)
	created []string
	deleted []string
}

type failure struct {
	code int
	body string
}

func newFakeGlance(t testing.TB) *fakeGlance {
	g := &fakeGlance{t: t, images: map[string]*fakeImage{}, fail: map[string]failure{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func capturedBody(t testing.TB, name string) string {
	raw, err := captured.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(raw)
}

// add makes an active image holding data; statuses precede active.
func (g *fakeGlance) add(data []byte, statuses ...string) string {
	id := uuid.NewString()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.images[id] = &fakeImage{name: "image", diskFormat: "raw", data: data, statuses: statuses, status: "active"}
	return id
}

func (g *fakeGlance) image(id string) *fakeImage {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.images[id]
}

// body renders the captured image of status for img.
func (g *fakeGlance) body(id string, img *fakeImage, status string) string {
	file := map[string]string{"queued": "glance-image-queued.json", "deactivated": "glance-image-deactivated.json"}[status]
	if file == "" {
		file = "glance-image-active.json"
	}
	var doc map[string]any
	require.NoError(g.t, json.Unmarshal([]byte(capturedBody(g.t, file)), &doc))
	doc["id"], doc["status"], doc["name"], doc["disk_format"] = id, status, img.name, img.diskFormat
	if status != "queued" {
		sum := md5.Sum(img.data) //nolint:gosec // Glance's checksum
		multi := sha512.Sum512(img.data)
		doc["checksum"], doc["os_hash_value"], doc["size"] = hex.EncodeToString(sum[:]), hex.EncodeToString(multi[:]), len(img.data)
		switch {
		case img.hashAlgo == nil:
		case *img.hashAlgo == "":
			doc["os_hash_algo"], doc["os_hash_value"] = nil, nil
		default:
			doc["os_hash_algo"] = *img.hashAlgo
		}
		if img.noChecksum {
			doc["checksum"] = nil
		}
	}
	raw, err := json.Marshal(doc)
	require.NoError(g.t, err)
	return string(raw)
}

func (g *fakeGlance) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Auth-Token") != goodToken {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, capturedBody(g.t, "glance-image-401.html"))
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v2/images")
	g.mu.Lock()
	for k, f := range g.fail {
		method, suffix, _ := strings.Cut(k, " ")
		if method == r.Method && strings.HasSuffix(path, suffix) {
			g.mu.Unlock()
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(f.code)
			_, _ = io.WriteString(w, f.body)
			return
		}
	}
	g.mu.Unlock()
	id, file := strings.TrimPrefix(path, "/"), false
	if strings.HasSuffix(id, "/file") {
		id, file = strings.TrimSuffix(id, "/file"), true
	}
	switch {
	case r.Method == http.MethodPost && path == "":
		g.create(w, r)
	case r.Method == http.MethodGet && !file:
		if g.onGet != nil {
			g.onGet(id)
		}
		g.mu.Lock()
		img := g.images[id]
		status := ""
		if img != nil {
			status = img.status
			if len(img.statuses) > 0 {
				status, img.statuses = img.statuses[0], img.statuses[1:]
			}
		}
		g.mu.Unlock()
		if img == nil {
			g.notFound(w, id)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, g.body(id, img, status))
	case r.Method == http.MethodGet && file:
		img := g.image(id)
		if img == nil {
			g.notFound(w, id)
			return
		}
		data := img.data
		if img.serve != nil {
			data = img.serve
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if img.stall > 0 {
			_, _ = w.Write(data[:img.stall])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		_, _ = w.Write(data)
	case r.Method == http.MethodPut && file:
		data, err := io.ReadAll(r.Body)
		require.NoError(g.t, err)
		g.mu.Lock()
		img := g.images[id]
		if img != nil {
			img.data, img.status = data, "active"
		}
		g.mu.Unlock()
		if img == nil {
			g.notFound(w, id)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete && !file:
		g.mu.Lock()
		_, ok := g.images[id]
		delete(g.images, id)
		g.deleted = append(g.deleted, id)
		g.mu.Unlock()
		if !ok {
			g.notFound(w, id)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusMethodNotAllowed)
	}
}

func (g *fakeGlance) notFound(w http.ResponseWriter, id string) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, strings.ReplaceAll(capturedBody(g.t, "glance-image-404.html"), "da4542dc-4292-4d3a-b97e-cb5f6bd6e55c", id))
}

func (g *fakeGlance) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name            string `json:"name"`
		DiskFormat      string `json:"disk_format"`
		ContainerFormat string `json:"container_format"`
	}
	require.NoError(g.t, json.NewDecoder(r.Body).Decode(&req))
	if !strings.Contains(" ami ari aki vhd vhdx vmdk raw qcow2 vdi iso ploop ", " "+req.DiskFormat+" ") {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, capturedBody(g.t, "glance-image-create-400.html"))
		return
	}
	id := uuid.NewString()
	img := &fakeImage{name: req.Name, diskFormat: req.DiskFormat, status: "queued"}
	g.mu.Lock()
	g.images[id] = img
	g.created = append(g.created, id)
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, g.body(id, img, "queued"))
}

// plugin is the plugin talking to the fake Glance (and the fake Keystone
// of providers/openstack/ostest for karbor's service token).
func (g *fakeGlance) plugin(t testing.TB, objectSize int) *Plugin {
	t.Helper()
	return g.pluginWithNova(t, objectSize, "")
}

// pluginWithNova is plugin with a Nova endpoint.
func (g *fakeGlance) pluginWithNova(t testing.TB, objectSize int, nova string) *Plugin {
	t.Helper()
	ks := ostest.NewFake(t)
	c, err := clients.New(clients.Options{
		Trustee: clients.Trustee{AuthType: "password", AuthURL: ks.URL("keystone") + "/v3", Username: "karbor",
			Password: "password", UserDomainID: "default", ProjectName: "service", ProjectDomainID: "default"},
		Services: map[clients.Service]clients.ServiceOptions{clients.Glance: {Endpoint: g.srv.URL}, clients.Nova: {Endpoint: nova}},
		Timeout:  30 * time.Second,
	})
	require.NoError(t, err)
	return New(Options{ObjectSize: objectSize, PollInterval: time.Millisecond, ServerSnapshot: true}, c)
}

// fakeContext is a caller's context the fake Glance accepts.
func fakeContext(token string) *karbor.RequestContext {
	return &karbor.RequestContext{AuthToken: token, ProjectID: "d2240240672a451288650c7db86740cc", UserID: "demo"}
}

// fakeNova answers the server calls of the snapshot mode: GET of a server
// (the captured server, its status from statuses then status) and
// createImage, which makes an image in the fake Glance holding disk.
type fakeNova struct {
	t   testing.TB
	g   *fakeGlance
	srv *httptest.Server

	mu       sync.Mutex
	statuses []string
	status   string
	disk     []byte
	// imageStatuses precede active for the snapshot image.
	imageStatuses []string
	snapshots     []string
	names         []string
	metadata      map[string]string
	// onCreate runs when createImage has made the image, before Nova
	// answers.
	onCreate func()
}

func newFakeNova(t testing.TB, g *fakeGlance, disk []byte, statuses ...string) *fakeNova {
	n := &fakeNova{t: t, g: g, disk: disk, statuses: statuses, status: "ACTIVE", imageStatuses: []string{"queued", "saving"}}
	n.srv = httptest.NewServer(http.HandlerFunc(n.serve))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *fakeNova) serve(w http.ResponseWriter, r *http.Request) {
	i := strings.Index(r.URL.Path, "/servers/")
	if i < 0 || r.Header.Get("X-Auth-Token") != goodToken {
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
		return
	}
	id, action := strings.CutSuffix(r.URL.Path[i+len("/servers/"):], "/action")
	w.Header().Set("X-OpenStack-Nova-API-Version", "2.1")
	switch {
	case r.Method == http.MethodGet && !action:
		n.mu.Lock()
		status := n.status
		if len(n.statuses) > 0 {
			status, n.statuses = n.statuses[0], n.statuses[1:]
		}
		n.mu.Unlock()
		var doc map[string]map[string]any
		require.NoError(n.t, json.Unmarshal([]byte(capturedBody(n.t, "nova-server.json")), &doc))
		doc["server"]["id"], doc["server"]["status"] = id, status
		w.Header().Set("Content-Type", "application/json")
		require.NoError(n.t, json.NewEncoder(w).Encode(doc))
	case r.Method == http.MethodPost && action:
		var req struct {
			CreateImage struct {
				Name     string            `json:"name"`
				Metadata map[string]string `json:"metadata"`
			} `json:"createImage"`
		}
		require.NoError(n.t, json.NewDecoder(r.Body).Decode(&req))
		n.mu.Lock()
		imageID := n.g.add(n.disk, n.imageStatuses...)
		n.snapshots = append(n.snapshots, imageID)
		n.names = append(n.names, req.CreateImage.Name)
		n.metadata = req.CreateImage.Metadata
		onCreate := n.onCreate
		n.mu.Unlock()
		if onCreate != nil {
			onCreate()
		}
		w.Header().Set("Location", n.g.srv.URL+"/v2/images/"+imageID)
		w.WriteHeader(http.StatusAccepted)
	default:
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusMethodNotAllowed)
	}
}

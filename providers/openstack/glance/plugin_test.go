package glance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

func TestOptionsFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		conf string
		want Options
		err  string
	}{
		{"defaults", "", Options{ObjectSize: 655360, PollInterval: 10e9, ServerSnapshot: true}, ""},
		{"set", "backup_image_object_size = 131072\npoll_interval = 2\nenable_server_snapshot = False\n", Options{ObjectSize: 131072, PollInterval: 2e9}, ""},
		{"not a multiple", "backup_image_object_size = 100000\n", Options{}, "The value of CONF.backup_image_object_size is invalid!"},
		{"zero", "backup_image_object_size = 0\n", Options{}, "The value of CONF.backup_image_object_size is invalid!"},
		{"negative poll", "poll_interval = -1\n", Options{}, "poll_interval = -1"},
		{"not a number", "poll_interval = soon\n", Options{}, "poll_interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := config.ParseFile("p.conf", []byte("[image_backup_plugin]\n"+tc.conf))
			require.NoError(t, err)
			got, err := OptionsFrom(config.New(config.ProviderRegistry(), []*config.File{f}, nil))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestHooksAndSchemas(t *testing.T) {
	p := New(Options{}, nil)
	assert.Equal(t, []string{karbor.ImageResourceType}, p.ResourceTypes())
	s := p.Schemas(karbor.ImageResourceType)
	for _, raw := range []json.RawMessage{s.Options, s.Restore, s.SavedInfo} {
		assert.True(t, json.Valid(raw))
	}
	for _, op := range []providers.Op{providers.OpProtect, providers.OpRestore, providers.OpVerify, providers.OpDelete} {
		h, err := p.Hooks(op, graph.Resource{})
		require.NoError(t, err)
		assert.NotNil(t, h)
	}
	_, err := p.Hooks(providers.OpCopy, graph.Resource{})
	assert.ErrorIs(t, err, providers.ErrNotImplemented)
}

func TestProtect(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(t, 3*glanceChunk+17)
	for _, tc := range []struct {
		name     string
		statuses []string
		setup    func(g *fakeGlance, id string)
		token    string
		reason   string
	}{
		{name: "queued, saving, active", statuses: []string{"queued", "saving", "saving"}},
		{name: "image not found", setup: func(g *fakeGlance, id string) { delete(g.images, id) }, reason: "The status of image %s is invalid: not-found"},
		{name: "deactivated", statuses: []string{"deactivated"}, reason: "The status of image %s is invalid: deactivated"},
		{name: "killed while saving", statuses: []string{"saving", "killed"}, reason: "The status of image %s is invalid: killed"},
		{name: "invalid token", token: "expired", reason: "glance refused the request's token"},
		{name: "get fails", setup: func(g *fakeGlance, _ string) {
			g.fail["GET "+""] = failure{http.StatusServiceUnavailable, "Service Unavailable"}
		}, reason: "503"},
		{name: "download fails", setup: func(g *fakeGlance, _ string) {
			g.fail["GET /file"] = failure{http.StatusInternalServerError, "Internal Server Error"}
		}, reason: "download image %s"},
		{name: "data differ from the checksum", setup: func(g *fakeGlance, id string) {
			g.images[id].serve = append(bytes.Clone(data[:len(data)-1]), data[len(data)-1]^1)
		}, reason: "the downloaded data's checksum"},
		{name: "data cut short", setup: func(g *fakeGlance, id string) {
			g.images[id].serve = data[:glanceChunk]
		}, reason: "the downloaded data's checksum"},
		{name: "deleted during the download", setup: func(g *fakeGlance, id string) {
			gets := 0
			g.onGet = func(string) {
				if gets++; gets == 2 {
					g.mu.Lock()
					delete(g.images, id)
					g.mu.Unlock()
				}
			}
		}, reason: "image %s after its download"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGlance(t)
			id := g.add(data, tc.statuses...)
			if tc.setup != nil {
				tc.setup(g, id)
			}
			if tc.token == "" {
				tc.token = goodToken
			}
			p := g.plugin(t, 2*glanceChunk)
			sec := section(t, fsBank(t, nil), id)
			err := protectHooks{p: p}.run(ctx, args(providers.OpProtect, fakeContext(tc.token), id, nil), sec)
			status, serr := sec.GetString(ctx, "status")
			require.NoError(t, serr)
			if tc.reason != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "Create Image Backup failed: ")
				assert.Contains(t, err.Error(), strings.ReplaceAll(tc.reason, "%s", id))
				assert.Equal(t, karbor.ResourceStatusError, status)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, karbor.ResourceStatusAvailable, status)
			raw, err := sec.Get(ctx, "metadata")
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprintf(`{"resource_id": "%s", "image_metadata": {"disk_format": "raw", "container_format": "bare", "checksum": "%s"}, "chunks_num": 2}`, id, md5hex(data)), string(raw))
			var got []byte
			for _, name := range []string{"data_1", "data_2"} {
				chunk, err := sec.Get(ctx, name)
				require.NoError(t, err)
				got = append(got, chunk...)
			}
			assert.Len(t, got, len(data))
			assert.True(t, bytes.Equal(data, got), "the bank holds the image's bytes, raw")
		})
	}
}

// The download is checked as glanceclient checks it: against the
// multihash when Glance has one, else against the MD5 checksum.
func TestProtectChecksTheDownload(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(t, 2*glanceChunk+3)
	bad := append(bytes.Clone(data[:len(data)-1]), data[len(data)-1]^1)
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name       string
		algo       *string
		noChecksum bool
		serve      []byte
		reason     string
	}{
		{name: "sha512 multihash, good data"},
		{name: "sha512 multihash, bad data", serve: bad, reason: "the downloaded data's checksum (sha512)"},
		{name: "sha256 multihash: the algorithm Glance names is used", algo: str("sha256"), reason: "the downloaded data's checksum (sha256)"},
		{name: "no multihash: the MD5 checksum, bad data", algo: str(""), serve: bad, reason: "the downloaded data's checksum (md5)"},
		{name: "an algorithm Go lacks falls back to the checksum", algo: str("blake3"), serve: bad, reason: "the downloaded data's checksum (md5)"},
		{name: "an algorithm Go lacks and no checksum", algo: str("blake3"), noChecksum: true, reason: `hash "blake3" is not supported and it has no checksum`},
		{name: "neither: not checked, as in Python", algo: str(""), noChecksum: true, serve: bad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGlance(t)
			id := g.add(data)
			img := g.image(id)
			img.hashAlgo, img.noChecksum, img.serve = tc.algo, tc.noChecksum, tc.serve
			sec := section(t, fsBank(t, nil), id)
			err := protectHooks{p: g.plugin(t, glanceChunk)}.run(ctx, args(providers.OpProtect, fakeContext(goodToken), id, nil), sec)
			if tc.reason != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.reason)
				return
			}
			require.NoError(t, err)
		})
	}
}

// An image found as a server's dependent is protected from a snapshot of
// the server, which goes afterwards whatever happens.
func TestProtectServerSnapshot(t *testing.T) {
	ctx := context.Background()
	disk := randomBytes(t, 3*glanceChunk+5)
	for _, tc := range []struct {
		name          string
		serverStatus  []string
		imageStatuses []string
		setup         func(g *fakeGlance)
		reason        string
		snapshots     int
	}{
		{name: "built, then snapshotted", serverStatus: []string{"BUILD"}, snapshots: 1},
		{name: "server in error", serverStatus: []string{"ERROR"}, reason: "The parent server s1 of the image is not in valid status: ERROR"},
		{name: "server gone", serverStatus: []string{"not-found"}, reason: "not in valid status"},
		{name: "snapshot killed", imageStatuses: []string{"queued", "killed"}, reason: "the snapshot of server s1: The status of image", snapshots: 1},
		{name: "copy fails", setup: func(g *fakeGlance) {
			g.fail["GET /file"] = failure{http.StatusInternalServerError, "Internal Server Error"}
		}, reason: "download image", snapshots: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGlance(t)
			id := g.add([]byte("the image the server booted from"))
			n := newFakeNova(t, g, disk, tc.serverStatus...)
			if tc.imageStatuses != nil {
				n.imageStatuses = tc.imageStatuses
			}
			if tc.setup != nil {
				tc.setup(g)
			}
			sec := section(t, fsBank(t, nil), id)
			a := args(providers.OpProtect, fakeContext(goodToken), id, map[string]string{"backup_name": "b"})
			a.Resource.ExtraInfo = json.RawMessage(`"{\"server_id\": \"s1\"}"`)
			err := protectHooks{p: g.pluginWithNova(t, 2*glanceChunk, n.srv.URL)}.run(ctx, a, sec)
			require.Len(t, n.snapshots, tc.snapshots)
			assert.Equal(t, n.snapshots, g.deleted, "the snapshot is deleted")
			if tc.reason != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{"Temp_image_name_for_karbors1"}, n.names)
			assert.Equal(t, map[string]string{"backup_name": "b"}, n.metadata)
			var md metadata
			require.NoError(t, sec.GetJSON(ctx, "metadata", &md))
			assert.Equal(t, id, md.ResourceID)
			assert.Equal(t, "s1", md.ServerID)
			assert.Equal(t, md5hex(disk), *md.ImageMetadata.Checksum)
			raw, err := sec.Get(ctx, "metadata")
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(raw), fmt.Sprintf(`{"resource_id": "%s", "server_id": "s1", "image_metadata": `, id)), string(raw))
		})
	}
}

// A protect cancelled while Nova creates the snapshot still learns its id
// and deletes it.
func TestProtectServerSnapshotCancelledDuringCreate(t *testing.T) {
	g := newFakeGlance(t)
	id := g.add([]byte("image"))
	n := newFakeNova(t, g, []byte("disk"))
	ctx, cancel := context.WithCancel(context.Background())
	n.onCreate = cancel
	sec := section(t, fsBank(t, nil), id)
	a := args(providers.OpProtect, fakeContext(goodToken), id, nil)
	a.Resource.ExtraInfo = json.RawMessage(`{"server_id": "s1"}`)
	err := protectHooks{p: g.pluginWithNova(t, glanceChunk, n.srv.URL)}.run(ctx, a, sec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "context canceled")
	require.Len(t, n.snapshots, 1)
	assert.Equal(t, n.snapshots, g.deleted)
}

// With enable_server_snapshot off, such an image is protected itself.
func TestProtectServerSnapshotOff(t *testing.T) {
	g := newFakeGlance(t)
	data := []byte("the image itself")
	id := g.add(data)
	sec := section(t, fsBank(t, nil), id)
	a := args(providers.OpProtect, fakeContext(goodToken), id, nil)
	a.Resource.ExtraInfo = json.RawMessage(`{"server_id": "s1"}`)
	p := g.plugin(t, glanceChunk)
	p.opts.ServerSnapshot = false
	require.NoError(t, protectHooks{p: p}.run(context.Background(), a, sec))
	got, err := sec.Get(context.Background(), "data_1")
	require.NoError(t, err)
	assert.Equal(t, data, got)
}

// A protect cancelled while it waits for a queued image ends in error. The
// reason names the status it waited for once a look has seen it, also when
// the cancel lands in a later look. (A cancel during the first look may or
// may not beat that look's answer, so that case checks only the cause.)
func TestProtectCancelledWhileWaiting(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cancelAt int // the GET of the image during which the cancel comes
		queued   bool
	}{
		{"during the first look", 1, false},
		{"during a later look", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGlance(t)
			id := g.add([]byte("x"), "queued")
			p := g.plugin(t, glanceChunk)
			p.opts.PollInterval = time.Millisecond
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			gets := 0
			g.onGet = func(string) {
				if gets++; gets == tc.cancelAt {
					cancel()
				}
			}
			sec := section(t, fsBank(t, nil), id)
			err := protectHooks{p: p}.run(ctx, args(providers.OpProtect, fakeContext(goodToken), id, nil), sec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "context canceled")
			if tc.queued {
				assert.Contains(t, err.Error(), "waiting for image "+id+" (queued) to become active")
			}
			status, serr := sec.GetString(context.Background(), "status")
			require.NoError(t, serr)
			assert.Equal(t, karbor.ResourceStatusError, status, "recorded after the cancellation")
		})
	}
}

// A protect cancelled while Glance stalls mid-download ends at once, in
// error.
func TestProtectCancelledDuringDownload(t *testing.T) {
	g := newFakeGlance(t)
	id := g.add(randomBytes(t, 4*glanceChunk))
	g.images[id].stall = glanceChunk + 10
	ctx, cancel := context.WithCancel(context.Background())
	b := fsBank(t, func(p bank.Plugin) bank.Plugin {
		return putHook{Plugin: p, before: func(_ context.Context, key string) error {
			if strings.HasSuffix(key, "/data_1") {
				cancel()
			}
			return nil
		}}
	})
	sec := section(t, b, id)
	err := protectHooks{p: g.plugin(t, glanceChunk)}.run(ctx, args(providers.OpProtect, fakeContext(goodToken), id, nil), sec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "context canceled")
	status, serr := sec.GetString(context.Background(), "status")
	require.NoError(t, serr)
	assert.Equal(t, karbor.ResourceStatusError, status)
}

// protected returns a section holding data protected from the fake.
func protected(t *testing.T, g *fakeGlance, p *Plugin, data []byte) (string, *bank.Section) {
	t.Helper()
	id := g.add(data)
	sec := section(t, fsBank(t, nil), id)
	require.NoError(t, protectHooks{p: p}.run(context.Background(), args(providers.OpProtect, fakeContext(goodToken), id, nil), sec))
	return id, sec
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(t, 5*glanceChunk+3)
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, g *fakeGlance, sec *bank.Section)
		token   string
		reason  string
		created bool
	}{
		{name: "restored"},
		{name: "a chunk missing", setup: func(t *testing.T, _ *fakeGlance, sec *bank.Section) {
			require.NoError(t, sec.DeleteObject(ctx, "data_2"))
		}, reason: "The chunks num of restored image is invalid: 2 objects, metadata says 3"},
		{name: "no metadata", setup: func(t *testing.T, _ *fakeGlance, sec *bank.Section) {
			require.NoError(t, sec.DeleteObject(ctx, "metadata"))
		}, reason: "metadata"},
		{name: "a stray object", setup: func(t *testing.T, _ *fakeGlance, sec *bank.Section) {
			require.NoError(t, sec.Put(ctx, "data_x", []byte("?")))
		}, reason: `unexpected object "data_x"`},
		{name: "invalid disk format", setup: func(t *testing.T, _ *fakeGlance, sec *bank.Section) {
			var md metadata
			require.NoError(t, sec.GetJSON(ctx, "metadata", &md))
			md.ImageMetadata.DiskFormat = "bogus"
			require.NoError(t, sec.PutJSON(ctx, "metadata", md))
		}, reason: "create image: "},
		{name: "invalid token", token: "expired", reason: "glance refused the request's token"},
		{name: "upload fails", setup: func(_ *testing.T, g *fakeGlance, _ *bank.Section) {
			g.fail["PUT /file"] = failure{http.StatusServiceUnavailable, "Service Unavailable"}
		}, reason: "upload image", created: true},
		{name: "a chunk altered", setup: func(t *testing.T, _ *fakeGlance, sec *bank.Section) {
			require.NoError(t, sec.Put(ctx, "data_3", []byte("changed")))
		}, reason: "The checksum of restored image is invalid", created: true},
		{name: "new image killed", setup: func(_ *testing.T, g *fakeGlance, _ *bank.Section) {
			g.onGet = func(id string) {
				g.mu.Lock()
				defer g.mu.Unlock()
				if img := g.images[id]; img != nil && img.name == "restored" {
					img.status = "killed"
				}
			}
		}, reason: "is invalid: killed", created: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGlance(t)
			p := g.plugin(t, 2*glanceChunk)
			id, sec := protected(t, g, p, data)
			if tc.setup != nil {
				tc.setup(t, g, sec)
			}
			if tc.token == "" {
				tc.token = goodToken
			}
			newID, err := restoreHooks{p: p}.restore(ctx, args(providers.OpRestore, fakeContext(tc.token), id, map[string]string{"restore_name": "restored"}), sec.ReadOnly())
			if tc.reason != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.reason)
				assert.Len(t, g.created, map[bool]int{true: 1}[tc.created])
				assert.Equal(t, g.created, g.deleted, "what the restore created is deleted")
				return
			}
			require.NoError(t, err)
			img := g.image(newID)
			require.NotNil(t, img)
			assert.Equal(t, "restored", img.name)
			assert.True(t, bytes.Equal(data, img.data))
			assert.Empty(t, g.deleted)
		})
	}
}

func TestRestoreDefaultName(t *testing.T) {
	g := newFakeGlance(t)
	p := g.plugin(t, glanceChunk)
	id, sec := protected(t, g, p, []byte("small"))
	newID, err := restoreHooks{p: p}.restore(context.Background(), args(providers.OpRestore, fakeContext(goodToken), id, nil), sec.ReadOnly())
	require.NoError(t, err)
	assert.Equal(t, "karbor-restore-image", g.image(newID).name)
}

// copyDir copies a directory of objects into a section.
func copyDir(t *testing.T, dir string, sec *bank.Section) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		require.NoError(t, sec.Put(context.Background(), e.Name(), raw))
	}
}

// A checkpoint the Python plugin wrote (every chunk a JSON string, a
// trailing empty chunk) restores the original bytes.
func TestRestorePythonCheckpoint(t *testing.T) {
	want, err := os.ReadFile("testdata/python-section.bin")
	require.NoError(t, err)
	g := newFakeGlance(t)
	p := g.plugin(t, glanceChunk)
	const id = "5f0c6a4e-2f4c-4a57-9a53-4d7d3f3c1e11"
	sec := section(t, fsBank(t, nil), id)
	copyDir(t, "testdata/python-section", sec)
	require.NoError(t, verify(context.Background(), args(providers.OpVerify, fakeContext(goodToken), id, nil), sec.ReadOnly(), nil))
	newID, err := restoreHooks{p: p}.restore(context.Background(), args(providers.OpRestore, fakeContext(goodToken), id, nil), sec.ReadOnly())
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, g.image(newID).data), "the Python checkpoint's bytes")
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, status, reason string
	}{
		{"available", "available", ""},
		{"error", "error", "The status of image backup status is error."},
		{"protecting", "protecting", "The status of image backup status is protecting."},
		{"no status", "", "The status of image backup cannot be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := section(t, fsBank(t, nil), "img")
			if tc.status != "" {
				require.NoError(t, sec.PutString(ctx, "status", tc.status))
			}
			err := verify(ctx, args(providers.OpVerify, fakeContext(goodToken), "img", nil), sec.ReadOnly(), nil)
			if tc.reason == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Verify Image backup failed: "+tc.reason)
		})
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	g := newFakeGlance(t)
	_, sec := protected(t, g, g.plugin(t, glanceChunk), randomBytes(t, 3*glanceChunk))
	require.NoError(t, providers.DeleteSectionData(ctx, sec))
	keys, err := sec.ListObjects(ctx, bank.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"status"}, keys)
	status, err := sec.GetString(ctx, "status")
	require.NoError(t, err)
	assert.Equal(t, karbor.ResourceStatusDeleted, status)
	assert.Empty(t, g.deleted, "Glance is not touched")
}

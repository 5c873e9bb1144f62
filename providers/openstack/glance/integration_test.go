package glance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
)

// real is the plugin and a Glance client as the demo user of the real
// services.
type real struct {
	rc     karbor.RequestContext
	plugin *Plugin
	glance *gophercloud.ServiceClient
	prefix string
}

func newReal(t *testing.T, objectSize int) real {
	t.Helper()
	return newRealB(t, objectSize)
}

func newRealB(t testing.TB, objectSize int) real {
	t.Helper()
	peers := ostest.RealPeers(t)
	rc := peers.Context(t)
	f := peers.Factory(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	glance, err := f.Client(ctx, &rc, clients.Glance)
	require.NoError(t, err)
	return real{rc: rc, glance: glance, prefix: "karbor-go-glance-" + uuid.NewString()[:8],
		plugin: New(Options{ObjectSize: objectSize, PollInterval: 100 * time.Millisecond, ServerSnapshot: true}, f)}
}

// image creates an image holding data (none: left queued), deleted when
// the test ends.
func (r real) image(t *testing.T, ctx context.Context, data []byte) string {
	t.Helper()
	img, err := images.Create(ctx, r.glance, images.CreateOpts{Name: r.prefix, DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { _ = deleteImage(context.Background(), r.glance, img.ID) })
	if data != nil {
		require.NoError(t, imagedata.Upload(ctx, r.glance, img.ID, bytes.NewReader(data)).ExtractErr())
		_, err := waitActive(ctx, r.glance, img.ID, 100*time.Millisecond)
		require.NoError(t, err)
	}
	return img.ID
}

// named lists the caller's images called name.
func (r real) named(t *testing.T, ctx context.Context, name string) []images.Image {
	t.Helper()
	pages, err := images.List(r.glance, images.ListOpts{Name: name}).AllPages(ctx)
	require.NoError(t, err)
	all, err := images.ExtractImages(pages)
	require.NoError(t, err)
	return all
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// jsonText is n bytes of spaces with a digit early on: its first object
// parses as JSON (the number 7), which Python's file-system bank would
// decode.
func jsonText(n int) []byte {
	b := bytes.Repeat([]byte(" "), n)
	b[10] = '7'
	return b
}

func TestRealGlanceProtectVerifyRestoreDelete(t *testing.T) {
	r := newReal(t, 2*glanceChunk)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name   string
		data   []byte
		chunks int
	}{
		{"binary, a partial last object", randomBytes(t, 5*glanceChunk+1234), 3},
		{"text that parses as JSON, an exact multiple", jsonText(4 * glanceChunk), 2},
		{"empty", []byte{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := r.image(t, ctx, tc.data)
			b := fsBank(t, nil)
			sec := section(t, b, id)
			require.NoError(t, protectHooks{p: r.plugin}.run(ctx, args(providers.OpProtect, &r.rc, id, nil), sec))

			status, err := sec.GetString(ctx, "status")
			require.NoError(t, err)
			assert.Equal(t, karbor.ResourceStatusAvailable, status)
			var md metadata
			require.NoError(t, sec.GetJSON(ctx, "metadata", &md))
			require.NotNil(t, md.ChunksNum)
			assert.Equal(t, tc.chunks, *md.ChunksNum)
			assert.Equal(t, id, md.ResourceID)
			assert.Equal(t, "raw", md.ImageMetadata.DiskFormat)
			assert.Equal(t, "bare", md.ImageMetadata.ContainerFormat)
			require.NotNil(t, md.ImageMetadata.Checksum)
			assert.Equal(t, md5hex(tc.data), *md.ImageMetadata.Checksum)

			require.NoError(t, verify(ctx, args(providers.OpVerify, &r.rc, id, nil), sec.ReadOnly(), nil))

			name := r.prefix + "-restored-" + uuid.NewString()[:8]
			a := args(providers.OpRestore, &r.rc, id, map[string]string{"restore_name": name})
			newID, err := restoreHooks{p: r.plugin}.restore(ctx, a, sec.ReadOnly())
			require.NoError(t, err)
			t.Cleanup(func() { _ = deleteImage(context.Background(), r.glance, newID) })
			got, err := images.Get(ctx, r.glance, newID).Extract()
			require.NoError(t, err)
			assert.Equal(t, name, got.Name)
			assert.Equal(t, *md.ImageMetadata.Checksum, got.Checksum)
			body, err := imagedata.Download(ctx, r.glance, newID).Extract()
			require.NoError(t, err)
			restored, err := io.ReadAll(body)
			_ = body.Close()
			require.NoError(t, err)
			assert.True(t, bytes.Equal(tc.data, restored), "the restored image carries the original bytes")

			require.NoError(t, providers.DeleteSectionData(ctx, sec))
			keys, err := sec.ListObjects(ctx, bank.ListOptions{})
			require.NoError(t, err)
			assert.Equal(t, []string{"status"}, keys)
			status, err = sec.GetString(ctx, "status")
			require.NoError(t, err)
			assert.Equal(t, karbor.ResourceStatusDeleted, status)
		})
	}
}

func TestRealGlanceProtectFailures(t *testing.T) {
	r := newReal(t, glanceChunk)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	data := randomBytes(t, 4*glanceChunk)

	t.Run("image deleted mid-protect", func(t *testing.T) {
		id := r.image(t, ctx, data)
		b := fsBank(t, func(p bank.Plugin) bank.Plugin {
			return putHook{Plugin: p, before: func(ctx context.Context, key string) error {
				if strings.HasSuffix(key, "/data_1") {
					return images.Delete(ctx, r.glance, id).ExtractErr()
				}
				return nil
			}}
		})
		sec := section(t, b, id)
		err := protectHooks{p: r.plugin}.run(ctx, args(providers.OpProtect, &r.rc, id, nil), sec)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Create Image Backup failed")
		assert.Contains(t, err.Error(), id)
		status, serr := sec.GetString(ctx, "status")
		require.NoError(t, serr)
		assert.Equal(t, karbor.ResourceStatusError, status)
	})

	t.Run("invalid token", func(t *testing.T) {
		id := r.image(t, ctx, data)
		rc := r.rc
		rc.AuthToken = "gAAAAAinvalid"
		sec := section(t, fsBank(t, nil), id)
		err := protectHooks{p: r.plugin}.run(ctx, args(providers.OpProtect, &rc, id, nil), sec)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "refused the request's token")
		status, serr := sec.GetString(ctx, "status")
		require.NoError(t, serr)
		assert.Equal(t, karbor.ResourceStatusError, status)
	})

	t.Run("image not active", func(t *testing.T) {
		id := r.image(t, ctx, data)
		resp, err := r.glance.Post(ctx, r.glance.ServiceURL("images", id, "actions", "deactivate"), nil, nil, &gophercloud.RequestOpts{OkCodes: []int{http.StatusNoContent}})
		if resp != nil {
			_ = resp.Body.Close()
		}
		require.NoError(t, err)
		sec := section(t, fsBank(t, nil), id)
		err = protectHooks{p: r.plugin}.run(ctx, args(providers.OpProtect, &r.rc, id, nil), sec)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "The status of image "+id+" is invalid: deactivated")
	})

	// The cancel comes with the plugin's second look at the image, through
	// a proxy in front of Glance: the first look has seen "queued", and the
	// error names it whether the cancel lands in the look or in the wait.
	t.Run("queued image, cancelled while waiting", func(t *testing.T) {
		id := r.image(t, ctx, nil)
		cctx, ccancel := context.WithCancel(ctx)
		defer ccancel()
		target, err := url.Parse(r.glance.Endpoint)
		require.NoError(t, err)
		var looks atomic.Int32
		forward := httputil.NewSingleHostReverseProxy(target)
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/images/"+id) && looks.Add(1) == 2 {
				ccancel()
			}
			forward.ServeHTTP(w, req)
		}))
		defer proxy.Close()
		peers := ostest.RealPeers(t)
		slow := *New(Options{ObjectSize: glanceChunk, PollInterval: 10 * time.Millisecond},
			peers.FactoryWith(t, "[glance_client]\nglance_endpoint = "+proxy.URL+"\n"))
		sec := section(t, fsBank(t, nil), id)
		err = protectHooks{p: &slow}.run(cctx, args(providers.OpProtect, &r.rc, id, nil), sec)
		require.Error(t, err)
		assert.GreaterOrEqual(t, looks.Load(), int32(2), "the plugin went through the proxy")
		assert.Contains(t, err.Error(), "waiting for image "+id+" (queued)")
		assert.Contains(t, err.Error(), "context canceled")
	})
}

func TestRealGlanceRestoreFailuresLeaveNoImage(t *testing.T) {
	r := newReal(t, glanceChunk)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	id := r.image(t, ctx, randomBytes(t, 3*glanceChunk))
	sec := section(t, fsBank(t, nil), id)
	require.NoError(t, protectHooks{p: r.plugin}.run(ctx, args(providers.OpProtect, &r.rc, id, nil), sec))

	for _, tc := range []struct {
		name    string
		damage  func(t *testing.T)
		reason  string
		created bool
	}{
		{"a chunk altered", func(t *testing.T) {
			require.NoError(t, sec.Put(ctx, "data_2", randomBytes(t, glanceChunk)))
		}, "The checksum of restored image is invalid", true},
		{"a chunk missing", func(t *testing.T) {
			require.NoError(t, sec.DeleteObject(ctx, "data_3"))
		}, "The chunks num of restored image is invalid", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.damage(t)
			name := r.prefix + "-restored-" + uuid.NewString()[:8]
			_, err := restoreHooks{p: r.plugin}.restore(ctx, args(providers.OpRestore, &r.rc, id, map[string]string{"restore_name": name}), sec.ReadOnly())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.reason)
			assert.Empty(t, r.named(t, ctx, name), "no half-created restored image is left in Glance")
		})
	}
}

// The snapshot mode against the real Nova: the server is snapshotted
// through createImage. Nova's fake driver never uploads the snapshot, so
// the snapshot image stays queued; the protect is cancelled while it waits
// and must leave no snapshot image behind.
func TestRealNovaServerSnapshotCancelled(t *testing.T) {
	r := newReal(t, glanceChunk)
	peers := ostest.RealPeers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nova, err := peers.Factory(t).Client(ctx, &r.rc, clients.Nova)
	require.NoError(t, err)
	id := r.image(t, ctx, randomBytes(t, 4096))

	pages, err := flavors.ListDetail(nova, nil).AllPages(ctx)
	require.NoError(t, err)
	fl, err := flavors.ExtractFlavors(pages)
	require.NoError(t, err)
	i := slices.IndexFunc(fl, func(f flavors.Flavor) bool { return f.Name == "m1.tiny" })
	require.GreaterOrEqual(t, i, 0, "no flavor m1.tiny (scripts/ensure-openstack.sh makes it)")
	boot := *nova
	boot.Microversion = "2.37" // "networks": "none"
	srv, err := servers.Create(ctx, &boot, servers.CreateOpts{Name: r.prefix + "-server", ImageRef: id, FlavorRef: fl[i].ID, Networks: "none"}, nil).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { _ = servers.Delete(context.Background(), nova, srv.ID).ExtractErr() })

	sec := section(t, fsBank(t, nil), id)
	a := args(providers.OpProtect, &r.rc, id, nil)
	a.Resource.ExtraInfo = json.RawMessage(fmt.Sprintf(`{"server_id": %q}`, srv.ID))
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	done := make(chan error, 1)
	go func() { done <- protectHooks{p: r.plugin}.run(pctx, a, sec) }()
	temp := tempImagePrefix + srv.ID
	ostest.WaitFor(t, ctx, "the snapshot image", func() (bool, error) {
		return len(r.named(t, ctx, temp)) == 1, nil
	})
	pcancel()
	err = <-done
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the snapshot of server "+srv.ID)
	assert.Contains(t, err.Error(), "context canceled")
	assert.Empty(t, r.named(t, ctx, temp), "the snapshot image is deleted")
}

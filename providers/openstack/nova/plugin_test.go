package nova_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/config"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/nova"
)

// pollMS is the poll interval of the unit tests' provider files (0: the
// fake's statuses are read back to back).
const pollMS = "[nova_backup_protection_plugin]\npoll_interval = 0\n"

func fakeEnv(t *testing.T, f *fakeOS, extra string) *env {
	return newEnv(t, []string{nova.PluginName, dependentsPlugin}, pollMS+extra, f.karborConf(), f.context())
}

// imageServer is the captured server booted from an image, with its
// volume and image as dependents.
func imageServer(f *fakeOS) graph.Graph {
	return serverGraph(f.world.Server, volume(f.world.Volume), image(f.world.Image))
}

// volumeServer is the captured server booted from a volume.
func volumeServer(f *fakeOS) graph.Graph {
	return serverGraph(f.world.BootServer, volume(f.world.BootVolume))
}

func TestProtectWritesPythonsMetadata(t *testing.T) {
	for _, tc := range []struct {
		name   string
		graph  func(*fakeOS) graph.Graph
		golden string
	}{
		{"booted from an image, a volume attached, on a network", imageServer, "python-metadata-image"},
		{"booted from a volume, no network", volumeServer, "python-metadata-volume"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOS(t)
			e := fakeEnv(t, f, "")
			g := tc.graph(f)
			cp, err := e.protect(t, e.ctx, g)
			require.NoError(t, err)
			assert.Equal(t, bank.StatusAvailable, cp.Status)
			id := g[0].Resource.ID
			assert.Equal(t, "available", e.section(t, cp, id, "status"))
			assert.Equal(t, string(readCaptured(t, tc.golden)), e.section(t, cp, id, "metadata"), "byte for byte what Python writes")
			assert.Empty(t, f.live(), "protect boots nothing")
		})
	}
}

func TestProtectFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(*fakeOS, *karbor.RequestContext)
		reason string
	}{
		{"the server is gone", func(f *fakeOS, _ *karbor.RequestContext) { f.set(f.servers, f.world.Server, "not-found") },
			"get server %s: Expected HTTP response code [200] when accessing [GET "},
		{"Nova fails", func(f *fakeOS, _ *karbor.RequestContext) { f.fail["GET server"] = []int{500} }, "but got 500 instead: {\"computeFault\""},
		{"Cinder fails", func(f *fakeOS, _ *karbor.RequestContext) { f.fail["GET volume"] = []int{503} }, "get volume"},
		{"Neutron fails", func(f *fakeOS, _ *karbor.RequestContext) { f.fail["GET ports"] = []int{500} }, "list the ports of MAC address"},
		{"the token is refused", func(_ *fakeOS, rc *karbor.RequestContext) { rc.AuthToken = "revoked" },
			"refused the request's token (expired, revoked or invalid)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOS(t)
			rc := f.context()
			tc.setup(f, rc)
			e := newEnv(t, []string{nova.PluginName, dependentsPlugin}, pollMS, f.karborConf(), rc)
			cp, err := e.protect(t, e.ctx, imageServer(f))
			var ke *karbor.Error
			require.ErrorAs(t, err, &ke)
			assert.Equal(t, "CreateResourceFailed", ke.PythonClass())
			assert.Contains(t, ke.Error(), strings.ReplaceAll(tc.reason, "%s", f.world.Server))
			assert.Equal(t, bank.StatusError, cp.Status)
			assert.Equal(t, "error", e.section(t, cp, f.world.Server, "status"))
			assert.True(t, e.missing(t, cp, f.world.Server, "metadata"), "no metadata of a failed protect")
		})
	}
}

func TestProtectExpiredTokenFailsBeforeAnyRequest(t *testing.T) {
	f := newFakeOS(t)
	rc := f.context()
	rc.AuthTokenInfo = json.RawMessage(`{"token": {"expires_at": "2020-01-01T00:00:00.000000Z"}}`)
	e := newEnv(t, []string{nova.PluginName, dependentsPlugin}, pollMS, f.karborConf(), rc)
	cp, err := e.protect(t, e.ctx, imageServer(f))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the token expired at 2020-01-01T00:00:00Z")
	assert.Equal(t, bank.StatusError, cp.Status)
	assert.Empty(t, f.requests())
}

// protected is a checkpoint of the captured image-booted server.
func protected(t *testing.T, f *fakeOS, e *env, g graph.Graph) *bank.Checkpoint {
	t.Helper()
	cp, err := e.protect(t, e.ctx, g)
	require.NoError(t, err)
	return cp
}

func TestRestoreBootsAttachesAndRecords(t *testing.T) {
	f := newFakeOS(t)
	e := fakeEnv(t, f, "")
	cp := protected(t, f, e, imageServer(f))
	rec, row, err := e.restore(t, e.ctx, cp, map[string]string{"restore_name": "back"})
	require.NoError(t, err)
	assert.Equal(t, karbor.RestoreStatusSuccess, last(row.Statuses))
	statuses, reasons := of(rec, karbor.ServerResourceType)
	assert.Equal(t, []string{"restoring", "available"}, statuses)
	assert.Equal(t, []string{"", ""}, reasons)

	// The captured server: flavor, key pair and the volume's device.
	var saved struct {
		Attach map[string]struct {
			Device string `json:"device"`
		} `json:"attach_metadata"`
		Server struct {
			Flavor  string `json:"flavor"`
			KeyName string `json:"key_name"`
		} `json:"server_metadata"`
	}
	require.NoError(t, json.Unmarshal(readCaptured(t, "python-metadata-image"), &saved))
	boots := f.posted("servers")
	require.Len(t, boots, 1)
	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"server": {"name": "back", "imageRef": "`+restoredPrefix+f.world.Image+`",
		"flavorRef": "`+saved.Server.Flavor+`", "min_count": 1, "max_count": 1, "availability_zone": "nova",
		"key_name": "`+saved.Server.KeyName+`", "security_groups": [{"name": "default"}],
		"networks": [{"uuid": "`+f.world.Network+`"}]}}`), &want))
	assert.Equal(t, want, boots[0], "novaclient's request: the restored image, the original networks")
	assert.Equal(t, []string{""}, f.microversions, "no microversion, as novaclient('2')")

	attaches := f.posted("attach")
	require.Len(t, attaches, 1)
	assert.Equal(t, map[string]any{"volumeAttachment": map[string]any{"volumeId": restoredPrefix + f.world.Volume,
		"device": saved.Attach[f.world.Volume].Device}}, attaches[0])
	live := f.live()
	require.Len(t, live, 1)
	log := f.requests()
	assert.Equal(t, len(f.booted), count(log, "GET server "+live[0]), "polled through the captured statuses")
	assert.Equal(t, len(f.attached), count(log, "GET volume "+restoredPrefix+f.world.Volume))
	assert.Zero(t, count(log, "POST action"), "no floating IP to associate")
}

func TestRestoreFromAVolumeWithoutNetworks(t *testing.T) {
	f := newFakeOS(t)
	e := fakeEnv(t, f, "")
	cp := protected(t, f, e, volumeServer(f))
	_, _, err := e.restore(t, e.ctx, cp, map[string]string{"restore_flavor_id": "42"})
	require.NoError(t, err)
	boots := f.posted("servers")
	require.Len(t, boots, 1)
	srv := boots[0]["server"].(map[string]any)
	assert.Equal(t, "karbor-restore-server", srv["name"])
	assert.Equal(t, "", srv["imageRef"])
	assert.Equal(t, "42", srv["flavorRef"])
	assert.Equal(t, "none", srv["networks"], "a server without networks stays without")
	assert.Equal(t, []any{map[string]any{"uuid": restoredPrefix + f.world.BootVolume, "source_type": "volume",
		"destination_type": "volume", "boot_index": float64(0), "delete_on_termination": false}}, srv["block_device_mapping_v2"])
	assert.Equal(t, []string{"2.37"}, f.microversions)
	assert.Equal(t, 1, count(f.requests(), "POST servers os-volumes_boot"), "as novaclient boots with block devices")
	assert.Empty(t, f.posted("attach"), "the boot volume is not attached again")
}

func TestRestoreParametersAndFloatingIPs(t *testing.T) {
	f := newFakeOS(t)
	e := fakeEnv(t, f, "")
	g := imageServer(f)
	cp := protected(t, f, e, g)
	// A server with floating IPs: the metadata as Python would have
	// saved it, written into the checkpoint's section.
	sec, err := e.p.Checkpoints().ResourceSection(cp.ID, f.world.Server, true)
	require.NoError(t, err)
	var md map[string]any
	require.NoError(t, sec.GetJSON(e.ctx, "metadata", &md))
	md["server_metadata"].(map[string]any)["floating_ips"] = []string{"192.0.2.10", "192.0.2.11"}
	require.NoError(t, sec.PutJSON(e.ctx, "metadata", md))

	_, _, err = e.restore(t, e.ctx, cp, map[string]string{"restore_net_id": "net-x"})
	require.NoError(t, err)
	srv := f.posted("servers")[0]["server"].(map[string]any)
	assert.Equal(t, []any{map[string]any{"uuid": "net-x"}}, srv["networks"])
	assert.Equal(t, []map[string]any{
		{"addFloatingIp": map[string]any{"address": "192.0.2.10"}},
		{"addFloatingIp": map[string]any{"address": "192.0.2.11"}},
	}, f.posted("action"))
}

func TestRestoreFailuresDeleteTheServer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(f *fakeOS)
		reason string
		booted bool // a server was made, and must be gone
	}{
		{"the server goes to ERROR", func(f *fakeOS) { f.booted = []string{"BUILD", "BUILD", "ERROR"} },
			"The server does not start successfully: server %s is ERROR: No valid host was found", true},
		{"the server vanishes while building", func(f *fakeOS) { f.booted = []string{"BUILD", "not-found"} },
			"The server does not start successfully: get server %s", true},
		{"an unexpected status", func(f *fakeOS) { f.booted = []string{"BUILD", "DELETED"} },
			"server %s is DELETED", true},
		{"Nova refuses the boot", func(f *fakeOS) { f.fail["POST servers"] = []int{500} }, "create server: ", false},
		{"the attach is refused", func(f *fakeOS) { f.fail["POST attach"] = []int{500} }, "attach volume restored-", true},
		{"the volume goes to error", func(f *fakeOS) { f.attached = []string{"attaching", "error"} },
			"Attach the volume to server failed: volume restored-", true},
		{"Cinder fails while attaching", func(f *fakeOS) { f.fail["GET volume"] = []int{500} }, "Attach the volume to server failed", true},
		{"the floating IP is refused", func(f *fakeOS) { f.fail["POST action"] = []int{500} }, "associate floating IP", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOS(t)
			e := fakeEnv(t, f, "")
			cp := protected(t, f, e, imageServer(f))
			if strings.Contains(tc.name, "floating") {
				addFloatingIP(t, e, cp, f.world.Server)
			}
			tc.setup(f)
			rec, row, err := e.restore(t, e.ctx, cp, nil)
			var ke *karbor.Error
			require.ErrorAs(t, err, &ke)
			assert.Equal(t, "RestoreResourceFailed", ke.PythonClass())
			assert.Equal(t, karbor.RestoreStatusFailure, last(row.Statuses))
			statuses, reasons := of(rec, karbor.ServerResourceType)
			assert.Equal(t, []string{"restoring", "error"}, statuses)
			made := f.posted("servers")
			want := tc.reason
			if tc.booted {
				require.Len(t, made, 1)
				log := f.requests()
				var id string
				for _, l := range log {
					if rest, ok := strings.CutPrefix(l, "DELETE server "); ok {
						id = rest
					}
				}
				require.NotEmpty(t, id, "the booted server is deleted: %v", log)
				want = strings.ReplaceAll(want, "%s", id)
			}
			assert.Contains(t, reasons[1], want)
			assert.Contains(t, ke.Error(), want)
			assert.Empty(t, f.live(), "nothing left behind")
		})
	}
}

// addFloatingIP records a floating IP in a server's saved metadata.
func addFloatingIP(t *testing.T, e *env, cp *bank.Checkpoint, server string) {
	sec, err := e.p.Checkpoints().ResourceSection(cp.ID, server, true)
	require.NoError(t, err)
	var md map[string]any
	require.NoError(t, sec.GetJSON(e.ctx, "metadata", &md))
	md["server_metadata"].(map[string]any)["floating_ips"] = []string{"192.0.2.10"}
	require.NoError(t, sec.PutJSON(e.ctx, "metadata", md))
}

func TestRestoreAttachesABootableDataVolume(t *testing.T) {
	// A volume made of an image is bootable; attached to a server booted
	// from an image it is a data volume all the same.
	f := newFakeOS(t)
	e := fakeEnv(t, f, "")
	cp := protected(t, f, e, imageServer(f))
	sec, err := e.p.Checkpoints().ResourceSection(cp.ID, f.world.Server, true)
	require.NoError(t, err)
	var md map[string]any
	require.NoError(t, sec.GetJSON(e.ctx, "metadata", &md))
	md["attach_metadata"].(map[string]any)[f.world.Volume].(map[string]any)["bootable"] = "true"
	require.NoError(t, sec.PutJSON(e.ctx, "metadata", md))
	_, _, err = e.restore(t, e.ctx, cp, nil)
	require.NoError(t, err)
	require.Len(t, f.posted("attach"), 1)
}

func TestRestoreWaitsThroughTransientErrors(t *testing.T) {
	f := newFakeOS(t)
	e := fakeEnv(t, f, "")
	cp := protected(t, f, e, imageServer(f))
	f.fail["GET server"] = []int{500, 503, 429}
	_, row, err := e.restore(t, e.ctx, cp, nil)
	require.NoError(t, err)
	assert.Equal(t, karbor.RestoreStatusSuccess, last(row.Statuses))
}

func TestRestoreOfMissingDependentsBootsNothing(t *testing.T) {
	for _, tc := range []struct {
		name, skip string
		graph      func(*fakeOS) graph.Graph
		reason     string
	}{
		{"the boot image", "image", imageServer, "the server's boot image %s was not restored"},
		{"an attached volume", "volume", imageServer, "volume %s, attached to the server, was not restored"},
		{"the boot volume", "boot", volumeServer, "the server's boot volume %s was not restored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOS(t)
			skip := map[string]string{"image": f.world.Image, "volume": f.world.Volume, "boot": f.world.BootVolume}[tc.skip]
			e := fakeEnv(t, f, "[test_dependents]\nskip = "+skip+"\n")
			cp := protected(t, f, e, tc.graph(f))
			_, _, err := e.restore(t, e.ctx, cp, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), strings.ReplaceAll(tc.reason, "%s", skip))
			assert.Empty(t, f.posted("servers"))
		})
	}
}

func TestRestoreWithARefusedTokenFailsClearly(t *testing.T) {
	f := newFakeOS(t)
	e := fakeEnv(t, f, "")
	cp := protected(t, f, e, imageServer(f))
	// The token is revoked once the server is booting.
	f.onRequest = func(line string) {
		if strings.HasPrefix(line, "POST servers") {
			f.mu.Lock()
			f.revoked = true
			f.mu.Unlock()
		}
	}
	rec, _, err := e.restore(t, e.ctx, cp, nil)
	require.Error(t, err)
	// Nor can the server be deleted with that token: that is logged.
	assert.Len(t, f.live(), 1)
	assert.True(t, slices.ContainsFunc(e.log.AllEntries(), func(l *logrus.Entry) bool {
		return strings.HasPrefix(l.Message, "Failed cleaning up server")
	}), "the server left is named in a warning")
	_, reasons := of(rec, karbor.ServerResourceType)
	assert.Contains(t, reasons[len(reasons)-1], "nova refused the request's token (expired, revoked or invalid)")
	assert.Contains(t, reasons[len(reasons)-1], "The request you have made requires authentication.")
}

func TestRestoreCancelledDeletesTheServer(t *testing.T) {
	f := newFakeOS(t)
	e := fakeEnv(t, f, "")
	cp := protected(t, f, e, imageServer(f))
	f.booted = []string{"BUILD"} // for ever
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	f.onRequest = func(line string) {
		if strings.HasPrefix(line, "GET server ") && !strings.HasSuffix(line, f.world.Server) {
			cancel()
		}
	}
	_, _, err := e.restore(t, ctx, cp, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "stopped waiting"), "%v", err)
	assert.Empty(t, f.live(), "the server booted is deleted")
}

func TestRestoreOfPythonsMetadata(t *testing.T) {
	// A checkpoint Python wrote (its metadata byte for byte) restores.
	f := newFakeOS(t)
	e := fakeEnv(t, f, "")
	cp := protected(t, f, e, imageServer(f))
	sec, err := e.p.Checkpoints().ResourceSection(cp.ID, f.world.Server, true)
	require.NoError(t, err)
	require.NoError(t, sec.PutObject(e.ctx, "metadata", bank.Object{Data: readCaptured(t, "python-metadata-image"), Serialized: true}))
	_, row, err := e.restore(t, e.ctx, cp, nil)
	require.NoError(t, err)
	assert.Equal(t, karbor.RestoreStatusSuccess, last(row.Statuses))
}

func TestRestoreOfBadMetadata(t *testing.T) {
	for _, tc := range []struct{ name, metadata, reason string }{
		{"no boot device", `{"resource_id": "x", "attach_metadata": {}, "boot_metadata": {}, "server_metadata": {"flavor": "1"}}`,
			"Can not find the boot device of the server."},
		{"no flavor", `{"resource_id": "x", "attach_metadata": {}, "boot_metadata": {"boot_device_type": "image", "boot_image_id": "i"}, "server_metadata": {}}`,
			"the checkpoint records no flavor"},
		{"attach_metadata not an object", `{"resource_id": "x", "attach_metadata": [], "boot_metadata": {}, "server_metadata": {}}`,
			"attach_metadata: not a JSON object"},
		{"not JSON", `{"resource_id": `, "bank: decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOS(t)
			e := fakeEnv(t, f, "")
			cp := protected(t, f, e, imageServer(f))
			sec, err := e.p.Checkpoints().ResourceSection(cp.ID, f.world.Server, true)
			require.NoError(t, err)
			require.NoError(t, sec.PutObject(e.ctx, "metadata", bank.Object{Data: []byte(tc.metadata), Serialized: true}))
			rec, _, err := e.restore(t, e.ctx, cp, nil)
			require.Error(t, err)
			_, reasons := of(rec, karbor.ServerResourceType)
			assert.Contains(t, reasons[len(reasons)-1], tc.reason)
			assert.Empty(t, f.posted("servers"))
		})
	}
}

func TestVerify(t *testing.T) {
	f := newFakeOS(t)
	e := fakeEnv(t, f, "")
	cp := protected(t, f, e, imageServer(f))
	rec, row, err := e.verify(t, cp)
	require.NoError(t, err)
	assert.Equal(t, karbor.VerificationStatusSuccess, last(row.Statuses))
	statuses, _ := of(rec, karbor.ServerResourceType)
	assert.Equal(t, []string{"available"}, statuses)

	sec, err := e.p.Checkpoints().ResourceSection(cp.ID, f.world.Server, true)
	require.NoError(t, err)
	require.NoError(t, sec.PutString(e.ctx, "status", "error"))
	rec, _, err = e.verify(t, cp)
	var ke *karbor.Error
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "VerifyResourceFailed", ke.PythonClass())
	statuses, reasons := of(rec, karbor.ServerResourceType)
	assert.Equal(t, []string{"error"}, statuses)
	assert.Equal(t, []string{"The status of server backup status is error."}, reasons)

	require.NoError(t, sec.DeleteObject(e.ctx, "status"))
	rec, _, err = e.verify(t, cp)
	require.Error(t, err)
	_, reasons = of(rec, karbor.ServerResourceType)
	assert.Contains(t, reasons[0], "The status of server backup cannot be read")
}

func TestDeleteRemovesTheSection(t *testing.T) {
	f := newFakeOS(t)
	e := fakeEnv(t, f, "")
	cp := protected(t, f, e, imageServer(f))
	before := len(f.requests())
	require.NoError(t, e.delete(t, cp))
	assert.Equal(t, "deleted", e.section(t, cp, f.world.Server, "status"))
	assert.True(t, e.missing(t, cp, f.world.Server, "metadata"))
	assert.Len(t, f.requests(), before, "OpenStack is not touched")
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		text string
		want time.Duration
		err  string
	}{
		{"", 15 * time.Second, ""},
		{"[nova_backup_protection_plugin]\npoll_interval = 2\n", 2 * time.Second, ""},
		{"[nova_backup_protection_plugin]\npoll_interval = soon\n", 0, "poll_interval"},
		{"[nova_backup_protection_plugin]\npoll_interval = -1\n", 0, "must not be negative"},
	} {
		f, err := config.ParseFile("provider.conf", []byte(tc.text))
		require.NoError(t, err)
		o, err := nova.OptionsFrom(config.New(config.ProviderRegistry(), []*config.File{f}, nil))
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, o.PollInterval)
	}
	o, err := nova.OptionsFrom(nil)
	require.NoError(t, err)
	assert.Equal(t, 15*time.Second, o.PollInterval)
}

func TestCopyIsNotImplemented(t *testing.T) {
	p := nova.New(nova.Options{}, nil)
	_, err := p.Hooks("copy", graph.Resource{})
	assert.ErrorContains(t, err, "not implemented")
	assert.Equal(t, []string{karbor.ServerResourceType}, p.ResourceTypes())
	assert.JSONEq(t, `{"title": "Server Protection Restore", "type": "object", "properties": {"restore_name": {"type": "string", "title": "Restore Server Name", "description": "The name of the restore server"}, "restore_net_id": {"type": "string", "title": "Restore Server Net Id", "description": "The net id of the restore server"}, "restore_flavor_id": {"type": "string", "title": "Restore Server Flavor Id", "description": "The flavor id of the restore server"}}, "required": ["restore_name"]}`,
		string(p.Schemas(karbor.ServerResourceType).Restore))
}

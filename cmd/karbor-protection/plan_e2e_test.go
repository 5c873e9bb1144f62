package main_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"text/template"
	"time"

	"github.com/google/uuid"
	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/backups"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/swift/swifttest"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
	"github.com/gokarbor/karbor-protection/providers/openstack/ostest"
	"github.com/gokarbor/karbor-protection/rpc/rpctest"
)

// infraProviderID is the id of karbor's "OS Infra Provider"
// (testdata/openstack-infra.conf).
const infraProviderID = "cf56bd3e-97a7-4078-b6d5-f36246333fd9"

// apiContext is the request context karbor-api sends for the peers' demo
// user, made by testdata/karbor_api_context.py the way karbor-api makes
// it: a real Keystone token, validated by the middleware's service user,
// the context built from the middleware's headers and serialised by
// karbor's to_dict.
func apiContext(t *testing.T, peers ostest.Peers) map[string]any {
	t.Helper()
	spec, err := json.Marshal(map[string]any{
		"auth_url": peers.AuthURL, "user": peers.User, "password": peers.Password, "project": peers.Project,
		"service_user": peers.TrusteeUser, "service_password": peers.TrusteePassword, "service_project": "service",
		"deadline": 60,
	})
	require.NoError(t, err)
	cmd := exec.Command(rpctest.PythonPath(), filepath.Join("testdata", "karbor_api_context.py"), string(spec))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "karbor_api_context.py: %s", stderr.String())
	var ctx map[string]any
	require.NoError(t, json.Unmarshal(out, &ctx), "karbor_api_context.py wrote %s", out)
	return ctx
}

// clientsOf are the demo user's clients of the services the plan's
// resources live in, with the token of the API's context.
type clientsOf struct {
	cinder, glance *gophercloud.ServiceClient
}

func openstackClients(t *testing.T, peers ostest.Peers, rc karbor.RequestContext) clientsOf {
	t.Helper()
	f := peers.Factory(t)
	client := func(svc clients.Service) *gophercloud.ServiceClient {
		c, err := f.Client(context.Background(), &rc, svc)
		require.NoError(t, err)
		return c
	}
	return clientsOf{cinder: client(clients.Cinder), glance: client(clients.Glance)}
}

// waitOS polls cond for up to two minutes; an error from cond fails the
// test.
func waitOS(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ostest.WaitFor(t, ctx, what, func() (bool, error) { return cond(ctx) })
}

// volumeFiles is where the test deployment's file-backed Cinder driver
// keeps each volume's bytes, "" when they are not on this machine.
func volumeFiles() string {
	dir := filepath.Join(rpctest.EnvOr("KARBOR_TEST_PEERS_DIR", "/var/lib/karbor-test-peers"), "cinder", "files")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// volumeOffsets are where a test volume gets known bytes: its first block
// and one in the middle.
var volumeOffsets = []int64{0, 512 << 20}

// deleteVolumes deletes the volumes named name (restores of a failed run
// included), their backups and snapshots, and waits until they are gone.
func deleteVolumes(t *testing.T, c *gophercloud.ServiceClient, name string) {
	t.Helper()
	pages, err := volumes.List(c, volumes.ListOpts{Name: name}).AllPages(context.Background())
	if err != nil {
		t.Errorf("list volumes %s: %v", name, err)
		return
	}
	vs, err := volumes.ExtractVolumes(pages)
	if err != nil {
		t.Errorf("list volumes %s: %v", name, err)
		return
	}
	for _, v := range vs {
		ostest.DeleteBackups(t, c, v.ID)
		waitOS(t, "volume "+v.ID+" settled", func(ctx context.Context) (bool, error) {
			got, err := volumes.Get(ctx, c, v.ID).Extract()
			if gophercloud.ResponseCodeIs(err, 404) {
				return true, nil
			}
			return err == nil && !slices.Contains([]string{"creating", "restoring-backup", "backing-up", "in-use", "attaching", "detaching"}, got.Status), err
		})
		if err := volumes.Delete(context.Background(), c, v.ID, volumes.DeleteOpts{Cascade: true}).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("delete volume %s: %v", v.ID, err)
			continue
		}
		waitOS(t, "volume "+v.ID+" gone", func(ctx context.Context) (bool, error) {
			_, err := volumes.Get(ctx, c, v.ID).Extract()
			return gophercloud.ResponseCodeIs(err, 404), nil
		})
	}
}

// deleteImages deletes the images named name.
func deleteImages(t *testing.T, c *gophercloud.ServiceClient, name string) {
	t.Helper()
	pages, err := images.List(c, images.ListOpts{Name: name}).AllPages(context.Background())
	if err != nil {
		t.Errorf("list images %s: %v", name, err)
		return
	}
	is, err := images.ExtractImages(pages)
	if err != nil {
		t.Errorf("list images %s: %v", name, err)
		return
	}
	for _, i := range is {
		if err := images.Delete(context.Background(), c, i.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			t.Errorf("delete image %s: %v", i.ID, err)
		}
	}
}

// planResources are what the test protects, in the demo project: the
// resources' ids, the names of the originals and of their restores (every
// one of them deleted when the test ends, whatever happened) and the bytes
// to find in the restores.
type planResources struct {
	prefix             string
	volume, image      string
	volumeData         []byte // "" when the volume's bytes are not reachable
	imageData          []byte
	imageChecksum      string
	restoredVolumeName string
	restoredImageName  string
}

// createResources makes a 1 GiB volume with known bytes and an image of
// known bytes, both available, and has everything named after them
// deleted when the test ends.
func createResources(t *testing.T, oc clientsOf) planResources {
	t.Helper()
	r := planResources{prefix: "karbor-e2e-" + uuid.NewString()[:8]}
	r.restoredVolumeName, r.restoredImageName = r.prefix+"-volume-restored", r.prefix+"-image-restored"
	ctx := context.Background()

	// Cleanups run last-in first-out: the restores go before the
	// originals whose backups they came from.
	v, err := volumes.Create(ctx, oc.cinder, volumes.CreateOpts{Size: 1, Name: r.prefix + "-volume"}, nil).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { deleteVolumes(t, oc.cinder, r.prefix+"-volume") })
	t.Cleanup(func() { deleteVolumes(t, oc.cinder, r.restoredVolumeName) })
	r.volume = v.ID

	r.imageData = make([]byte, 3*131072+77)
	_, _ = rand.Read(r.imageData)
	sum := md5.Sum(r.imageData)
	r.imageChecksum = hex.EncodeToString(sum[:])
	img, err := images.Create(ctx, oc.glance, images.CreateOpts{Name: r.prefix + "-image", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	require.NoError(t, err)
	t.Cleanup(func() { deleteImages(t, oc.glance, r.prefix+"-image") })
	t.Cleanup(func() { deleteImages(t, oc.glance, r.restoredImageName) })
	r.image = img.ID
	require.NoError(t, imagedata.Upload(ctx, oc.glance, img.ID, bytes.NewReader(r.imageData)).ExtractErr())

	waitOS(t, "volume available", func(ctx context.Context) (bool, error) {
		got, err := volumes.Get(ctx, oc.cinder, v.ID).Extract()
		if err == nil && got.Status == "error" {
			return false, errors.New("the volume went to error")
		}
		return err == nil && got.Status == "available", err
	})
	waitOS(t, "image active", func(ctx context.Context) (bool, error) {
		got, err := images.Get(ctx, oc.glance, img.ID).Extract()
		return err == nil && got.Status == images.ImageStatusActive, err
	})
	if files := volumeFiles(); files != "" {
		r.volumeData = []byte(r.prefix + " volume " + uuid.NewString())
		f, err := os.OpenFile(filepath.Join(files, "volume-"+v.ID), os.O_WRONLY, 0)
		require.NoError(t, err)
		for _, off := range volumeOffsets {
			_, err = f.WriteAt(r.volumeData, off)
			require.NoError(t, err)
		}
		require.NoError(t, f.Close())
	}
	return r
}

// infraProvider writes testdata/openstack-infra.conf into the service's
// providers.d, its bank in container of acct.
func infraProvider(t *testing.T, s *service, acct swifttest.Account, container string) {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "openstack-infra.conf"))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, tmpl.Execute(&buf, map[string]string{
		"AuthURL": acct.AuthURL, "User": acct.User, "Password": acct.Password, "Project": acct.Project, "Container": container,
	}))
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, "providers.d", "openstack-infra.conf"), buf.Bytes(), 0o644))
}

// waitRestore waits until the restores row id leaves in_progress and
// returns it.
func waitRestore(t *testing.T, pool *sql.DB, id string) map[string]any {
	t.Helper()
	var row map[string]any
	waitFor(t, 2*time.Minute, "restore "+id+" finished", func() bool {
		rows := tableRows(t, pool, "restores", "id = ?", id)
		if len(rows) != 1 || rows[0]["status"] == "in_progress" {
			return false
		}
		row = rows[0]
		return true
	})
	return row
}

// TestPlanOverRPCSwiftBank is karbor's whole path for a plan of a volume
// and an image of the demo project, against the real Keystone, Cinder,
// Glance and Swift: the built binary, configured with karbor's
// openstack-infra provider (its bank in Swift) and MariaDB, is driven by a
// Python oslo.messaging client sending the context karbor-api builds from
// the demo user's real token. Protect ends available with the volume's
// backup and the image's chunks in the bank; restore (the API's restores
// row first) makes a new volume with the original bytes and a new image
// with the original checksum; delete removes the backup and the
// checkpoint's objects.
//
// The plan has no server nor network yet: karbor-server-protection-plugin
// and karbor-network-protection-plugin are not in this service yet.
func TestPlanOverRPCSwiftBank(t *testing.T) {
	peers := ostest.RealPeers(t)
	acct := swifttest.Keystone(t)
	m := sharedMariaDB(t)
	dbName, pool := m.createDatabase(t)
	url := rpctest.Vhost(t)

	ctx := apiContext(t, peers)
	// The keys karbor-api's context has on the wire.
	assert.ElementsMatch(t, slices.Collect(maps.Keys(recordedSession(t)[0].Context)), slices.Collect(maps.Keys(ctx)))
	info, ok := ctx["auth_token_info"].(map[string]any)
	require.True(t, ok, "auth_token_info is the token's body: %v", ctx["auth_token_info"])
	rc := ostest.ContextFromToken(t, ctx["auth_token"].(string), info)
	project := rc.ProjectID
	oc := openstackClients(t, peers, rc)
	r := createResources(t, oc)

	container := "karbor-e2e-" + uuid.NewString()[:8]
	t.Cleanup(func() { acct.RemoveContainer(t, container) })
	s := configureService(t, url, serviceConfig{sections: peers.KarborConf() + "[database]\nconnection = " + m.url(dbName) + "\n"})
	infraProvider(t, s, acct, container)
	s.start()
	c := pyClient(t, url)

	bk, err := bank.Open(context.Background(), "karbor-swift-bank-plugin", bank.ConfigMap{
		"swift_client":      {"swift_auth_url": acct.AuthURL, "swift_user": acct.User, "swift_key": acct.Password, "swift_tenant_name": acct.Project},
		"swift_bank_plugin": {"bank_swift_object_container": container},
	}, bank.Holder{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = bk.Close() })

	resources := []map[string]any{
		{"id": r.volume, "type": "OS::Cinder::Volume", "name": r.prefix + "-volume", "extra_info": nil},
		{"id": r.image, "type": "OS::Glance::Image", "name": r.prefix + "-image", "extra_info": nil},
	}
	planID := uuid.NewString()
	var cp string
	require.NoError(t, json.Unmarshal(result(t, call(t, c, "protect", ctx, map[string]any{
		"plan": map[string]any{
			"karbor_object.name": "Plan", "karbor_object.namespace": "karbor", "karbor_object.version": "1.0",
			"karbor_object.data": map[string]any{"id": planID, "name": r.prefix, "description": nil, "provider_id": infraProviderID,
				"project_id": project, "status": "suspended", "resources": resources,
				"parameters": map[string]any{"OS::Cinder::Volume": map[string]any{"backup_name": r.prefix + "-backup"}}},
			"karbor_object.changes": []string{"id", "name", "description", "provider_id", "project_id", "status", "resources", "parameters"},
		},
		"checkpoint_properties": map[string]any{
			"project_id": project, "status": "protecting", "provider_id": infraProviderID,
			"protection_plan": map[string]any{"id": planID, "name": r.prefix, "resources": resources},
			"extra_info":      `{"created_by": "manual"}`,
		},
	})), &cp))
	show := map[string]any{"provider_id": infraProviderID, "checkpoint_id": cp}
	status := ""
	waitFor(t, 2*time.Minute, "checkpoint "+cp+" available", func() bool {
		var got struct{ Status string }
		require.NoError(t, json.Unmarshal(result(t, call(t, c, "show_checkpoint", ctx, show)), &got))
		status = got.Status
		return status == "available" || status == "error"
	})
	require.Equal(t, "available", status)

	// In the Swift bank: the volume's backup and the image's chunks.
	section := "/checkpoints/" + cp + "/resource-data/"
	obj, err := bk.GetObject(context.Background(), section+r.volume+"/metadata")
	require.NoError(t, err)
	var md struct {
		VolumeID string `json:"volume_id"`
		BackupID string `json:"backup_id"`
	}
	require.NoError(t, json.Unmarshal(obj.Data, &md), "%s", obj.Data)
	assert.Equal(t, r.volume, md.VolumeID)
	b, err := backups.Get(context.Background(), oc.cinder, md.BackupID).Extract()
	require.NoError(t, err)
	assert.Equal(t, "available", b.Status)
	assert.Equal(t, r.prefix+"-backup", b.Name)
	chunks, err := bk.ListObjects(context.Background(), bank.ListOptions{Prefix: section + r.image + "/data_"})
	require.NoError(t, err)
	assert.Len(t, chunks, 4, "the image's chunks of 131072 bytes")

	t.Run("restore", func(t *testing.T) {
		volKey, imgKey := "OS::Cinder::Volume#"+r.volume, "OS::Glance::Image#"+r.image
		insertAsAPI(t, pool, "restores", pythonRow(t, pythonRows(t), "restores", "id", recordedRestoreID), cp)
		args := restoreArgs(cp, project, map[string]any{
			volKey: map[string]any{"restore_name": r.restoredVolumeName},
			imgKey: map[string]any{"restore_name": r.restoredImageName},
		})
		args["restore"].(map[string]any)["karbor_object.data"].(map[string]any)["provider_id"] = infraProviderID
		assert.JSONEq(t, "null", string(result(t, call(t, c, "restore", ctx, args))))
		row := waitRestore(t, pool, recordedRestoreID)
		require.Equal(t, "success", row["status"], "restore reasons: %v", row["resources_reason"])
		assert.JSONEq(t, fmt.Sprintf(`{%q: "available", %q: "available"}`, volKey, imgKey), row["resources_status"].(string))

		pages, err := volumes.List(oc.cinder, volumes.ListOpts{Name: r.restoredVolumeName}).AllPages(context.Background())
		require.NoError(t, err)
		vs, err := volumes.ExtractVolumes(pages)
		require.NoError(t, err)
		require.Len(t, vs, 1, "one restored volume")
		assert.Equal(t, "available", vs[0].Status)
		if files := volumeFiles(); files != "" {
			f, err := os.Open(filepath.Join(files, "volume-"+vs[0].ID))
			require.NoError(t, err)
			defer func() { _ = f.Close() }()
			for _, off := range volumeOffsets {
				got := make([]byte, len(r.volumeData))
				_, err := f.ReadAt(got, off)
				require.NoError(t, err)
				assert.Equal(t, string(r.volumeData), string(got), "the restored volume's bytes at %d", off)
			}
		} else {
			t.Log("the volume driver's files are not on this machine: the restored volume's bytes are not compared")
		}

		pages, err = images.List(oc.glance, images.ListOpts{Name: r.restoredImageName}).AllPages(context.Background())
		require.NoError(t, err)
		is, err := images.ExtractImages(pages)
		require.NoError(t, err)
		require.Len(t, is, 1, "one restored image")
		assert.Equal(t, images.ImageStatusActive, is[0].Status)
		assert.Equal(t, r.imageChecksum, is[0].Checksum)
		rd, err := imagedata.Download(context.Background(), oc.glance, is[0].ID).Extract()
		require.NoError(t, err)
		got, err := io.ReadAll(rd)
		_ = rd.Close()
		require.NoError(t, err)
		assert.True(t, bytes.Equal(r.imageData, got), "the restored image carries the original bytes")
	})

	assert.JSONEq(t, "null", string(result(t, call(t, c, "delete", ctx, show))))
	waitFor(t, 2*time.Minute, "checkpoint "+cp+" deleted", func() bool {
		o := call(t, c, "show_checkpoint", ctx, show)
		if o.Exception != nil {
			return o.Exception.Class == "CheckpointNotFound_Remote"
		}
		var got struct{ Status string }
		require.NoError(t, json.Unmarshal(o.Result, &got))
		require.NotEqual(t, "error-deleting", got.Status)
		return got.Status == "deleted"
	})
	_, err = backups.Get(context.Background(), oc.cinder, md.BackupID).Extract()
	assert.True(t, gophercloud.ResponseCodeIs(err, 404), "the backup is gone: %v", err)
	// Of each resource's section, only its status is left, as karbor's
	// plugins leave it.
	left, err := bk.ListObjects(context.Background(), bank.ListOptions{Prefix: section})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{section + r.volume + "/status", section + r.image + "/status"}, left)
	for _, key := range left {
		obj, err := bk.GetObject(context.Background(), key)
		require.NoError(t, err)
		assert.Equal(t, "deleted", string(obj.Data), key)
	}
}

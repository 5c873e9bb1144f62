package main_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
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
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/snapshots"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/bank/swift/swifttest"
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
	// The script retries for 60 s at most; this bounds a hung Keystone.
	run, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(run, rpctest.PythonPath(), filepath.Join("testdata", "karbor_api_context.py"), string(spec))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "karbor_api_context.py: %s", stderr.String())
	var ctx map[string]any
	require.NoError(t, json.Unmarshal(out, &ctx), "karbor_api_context.py wrote %s", out)
	return ctx
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
	waitFor(t, 3*time.Minute, "restore "+id+" finished", func() bool {
		rows := tableRows(t, pool, "restores", "id = ?", id)
		if len(rows) != 1 || rows[0]["status"] == "in_progress" {
			return false
		}
		row = rows[0]
		return true
	})
	return row
}

// TestPlanOverRPCSwiftBank is karbor's whole path for a plan of a server
// with an attached volume, the image it was booted from and the project's
// network, against the real Keystone, Nova, Cinder, Glance, Neutron and
// Swift: the built binary, configured with karbor's openstack-infra
// provider (its bank in Swift) and MariaDB, is driven by a Python
// oslo.messaging client sending the context karbor-api builds from the
// demo user's real token, in a project of the test's own. Protect ends available with the volume's backup,
// the image's chunks, the server's and the topology's metadata in the
// bank; restore (the API's restores row first) makes a new volume with the
// original bytes, a new image with the original checksum, a new server
// ACTIVE from that image with that volume attached, and the network again;
// delete removes the backup and the checkpoint's data.
func TestPlanOverRPCSwiftBank(t *testing.T) {
	peers := ownProject(t, ostest.RealPeers(t))
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

	// As the dashboard makes it: the server and what it depends on (the
	// service adds the server's volume and image to the graph anyway).
	resources := []map[string]any{
		{"id": r.server, "type": "OS::Nova::Server", "name": r.srvName, "extra_info": nil},
		{"id": r.volume, "type": "OS::Cinder::Volume", "name": r.volumeName, "extra_info": nil},
		{"id": r.image, "type": "OS::Glance::Image", "name": r.imageName, "extra_info": nil},
		{"id": project, "type": "OS::Neutron::Network", "name": "Network Topology", "extra_info": nil},
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
	var shown struct {
		Status        string
		ResourceGraph string `json:"resource_graph"`
	}
	// A 1 GiB Cinder backup waits behind every other test's in the one
	// cinder-backup process: minutes on a busy machine.
	waitFor(t, 5*time.Minute, "checkpoint "+cp+" available", func() bool {
		require.NoError(t, json.Unmarshal(result(t, call(t, c, "show_checkpoint", ctx, show)), &shown))
		return shown.Status == "available" || shown.Status == "error"
	})
	require.Equal(t, "available", shown.Status)
	for _, id := range []string{r.server, r.volume, r.image, project} {
		assert.Contains(t, shown.ResourceGraph, id, "the checkpoint's resource graph")
	}

	// In the Swift bank: the volume's backup, the image's chunks, the
	// server's attachment and boot image, the topology with the network.
	section := "/checkpoints/" + cp + "/resource-data/"
	readMetadata := func(id string, v any) {
		t.Helper()
		obj, err := bk.GetObject(context.Background(), section+id+"/metadata")
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(obj.Data, v), "%s", obj.Data)
	}
	var volMD struct {
		VolumeID string `json:"volume_id"`
		BackupID string `json:"backup_id"`
	}
	readMetadata(r.volume, &volMD)
	assert.Equal(t, r.volume, volMD.VolumeID)
	b, err := backups.Get(context.Background(), oc.cinder, volMD.BackupID).Extract()
	require.NoError(t, err)
	assert.Equal(t, "available", b.Status)
	assert.Equal(t, r.prefix+"-backup", b.Name)
	pages, err := snapshots.ListDetail(oc.cinder, snapshots.ListOpts{VolumeID: r.volume}).AllPages(context.Background())
	require.NoError(t, err)
	snaps, err := snapshots.ExtractSnapshots(pages)
	require.NoError(t, err)
	assert.Empty(t, snaps, "the temporary snapshot the backup was made from is gone")
	chunks, err := bk.ListObjects(context.Background(), bank.ListOptions{Prefix: section + r.image + "/data_"})
	require.NoError(t, err)
	assert.Len(t, chunks, 4, "the image's chunks of 131072 bytes")
	var srvMD struct {
		Attach map[string]any `json:"attach_metadata"`
		Boot   struct {
			Type  string `json:"boot_device_type"`
			Image string `json:"boot_image_id"`
		} `json:"boot_metadata"`
	}
	readMetadata(r.server, &srvMD)
	assert.Contains(t, srvMD.Attach, r.volume)
	assert.Equal(t, "image", srvMD.Boot.Type)
	assert.Equal(t, r.image, srvMD.Boot.Image)
	var saved savedTopology
	readMetadata(project, &saved)
	require.Contains(t, saved.Networks, r.network)
	assert.Equal(t, r.netName, saved.Networks[r.network].Name)

	before := listTopology(t, oc.neutron, project)
	t.Cleanup(func() {
		// Stop the service first: a restore still running would make
		// more.
		_ = s.cmd.Process.Kill()
		<-s.done
		removeTopology(t, oc.neutron, restoredTopology(before, listTopology(t, oc.neutron, project), saved))
	})
	t.Run("restore", func(t *testing.T) {
		keys := map[string]string{"server": "OS::Nova::Server#" + r.server, "volume": "OS::Cinder::Volume#" + r.volume,
			"image": "OS::Glance::Image#" + r.image, "network": "OS::Neutron::Network#" + project}
		insertAsAPI(t, pool, "restores", pythonRow(t, pythonRows(t), "restores", "id", recordedRestoreID), cp)
		args := restoreArgs(cp, project, map[string]any{
			keys["server"]: map[string]any{"restore_name": r.restoredServer},
			keys["volume"]: map[string]any{"restore_name": r.restoredVolume},
			keys["image"]:  map[string]any{"restore_name": r.restoredImage},
		})
		args["restore"].(map[string]any)["karbor_object.data"].(map[string]any)["provider_id"] = infraProviderID
		assert.JSONEq(t, "null", string(result(t, call(t, c, "restore", ctx, args))))
		row := waitRestore(t, pool, recordedRestoreID)
		require.Equal(t, "success", row["status"], "restore reasons: %v", row["resources_reason"])
		var statuses map[string]string
		require.NoError(t, json.Unmarshal([]byte(row["resources_status"].(string)), &statuses))
		for _, k := range keys {
			assert.Equal(t, "available", statuses[k], k)
		}

		// The volume, with the original bytes.
		pages, err := volumes.List(oc.cinder, volumes.ListOpts{Name: r.restoredVolume}).AllPages(context.Background())
		require.NoError(t, err)
		vs, err := volumes.ExtractVolumes(pages)
		require.NoError(t, err)
		require.Len(t, vs, 1, "one restored volume")
		restoredVolume := vs[0]
		if r.volumeData != nil {
			f, err := os.Open(filepath.Join(volumeFiles(), "volume-"+restoredVolume.ID))
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

		// The image, with the original checksum and bytes.
		pages, err = images.List(oc.glance, images.ListOpts{Name: r.restoredImage}).AllPages(context.Background())
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

		// The server, ACTIVE, booted from the restored image, with the
		// restored volume attached.
		ss, err := serversNamed(context.Background(), oc.nova, r.restoredServer)
		require.NoError(t, err)
		require.Len(t, ss, 1, "one restored server")
		srv, err := servers.Get(context.Background(), oc.nova, ss[0].ID).Extract()
		require.NoError(t, err)
		assert.Equal(t, "ACTIVE", srv.Status)
		assert.Equal(t, is[0].ID, srv.Image["id"], "booted from the restored image")
		pages, err = volumeattach.List(oc.nova, srv.ID).AllPages(context.Background())
		require.NoError(t, err)
		attached, err := volumeattach.ExtractVolumeAttachments(pages)
		require.NoError(t, err)
		require.Len(t, attached, 1)
		assert.Equal(t, restoredVolume.ID, attached[0].VolumeID)
		v, err := volumes.Get(context.Background(), oc.cinder, restoredVolume.ID).Extract()
		require.NoError(t, err)
		assert.Equal(t, "in-use", v.Status)

		// The network, again.
		made := restoredTopology(before, listTopology(t, oc.neutron, project), saved)
		var nets []string
		for _, n := range made.networks {
			if n.Name == r.netName {
				nets = append(nets, n.ID)
			}
		}
		assert.Len(t, nets, 1, "one restored %s", r.netName)
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
	_, err = backups.Get(context.Background(), oc.cinder, volMD.BackupID).Extract()
	assert.True(t, gophercloud.ResponseCodeIs(err, 404), "the backup is gone: %v", err)
	// Of each resource's section, only its status is left, as karbor's
	// plugins leave it.
	left, err := bk.ListObjects(context.Background(), bank.ListOptions{Prefix: section})
	require.NoError(t, err)
	var want []string
	for _, id := range []string{r.server, r.volume, r.image, project} {
		want = append(want, section+id+"/status")
	}
	assert.ElementsMatch(t, want, left)
	for _, key := range left {
		obj, err := bk.GetObject(context.Background(), key)
		require.NoError(t, err)
		assert.Equal(t, "deleted", string(obj.Data), key)
	}
}

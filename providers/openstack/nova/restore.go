package nova

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gokarbor/karbor-protection/providers/openstack/statuspoll"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
)

// defaultRestoreName is restore_name's default.
const defaultRestoreName = "karbor-restore-server"

// noNetworksMicroversion is the first compute microversion that boots a
// server without networks ("networks": "none").
const noNetworksMicroversion = "2.37"

// The status sets of the restore's waits, as Python's.
var (
	// serverActive: the booted server. Nova's legacy statuses may carry
	// a task in parentheses ("BUILD(spawning)"); the part before counts.
	serverActive = statuspoll.Rule{
		Success: []string{"ACTIVE"},
		Failure: []string{"ERROR"},
		Ignore: []string{"BUILD", "HARD_REBOOT", "PASSWORD", "REBOOT", "RESCUE", "RESIZE",
			"REVERT_RESIZE", "SHUTOFF", "SUSPENDED", "VERIFY_RESIZE"},
	}
	// volumeAttached: a restored volume being attached to it. Cinder's
	// attachment API (Nova's since Queens) shows "reserved" first, which
	// Python's set lacks.
	volumeAttached = statuspoll.Rule{
		Success: []string{"in-use"},
		Failure: []string{"ERROR"},
		Ignore:  []string{"available", "attaching", "reserved"},
	}
)

type restoreHooks struct {
	providers.BaseHooks
	p *Plugin
}

// OnComplete restores the server once its dependents (volumes, image) are
// restored, as Python's on_complete: their new ids are in NewResources.
func (h restoreHooks) OnComplete(ctx context.Context, a *providers.HookArgs) error {
	id := a.Resource.ID
	a.Report(ctx, karbor.ResourceStatusRestoring, "")
	newID, err := h.restore(ctx, a)
	if err != nil {
		why := err.Error()
		a.Report(ctx, karbor.ResourceStatusError, why)
		return karbor.RestoreResourceFailed(backupName, why, id, karbor.ServerResourceType)
	}
	a.NewResources.Set(id, newID)
	a.Report(ctx, karbor.ResourceStatusAvailable, "")
	return nil
}

func (h restoreHooks) restore(ctx context.Context, a *providers.HookArgs) (newID string, err error) {
	id := a.Resource.ID
	sec, err := a.Checkpoint.ResourceSection(id)
	if err != nil {
		return "", err
	}
	var def definition
	if err := sec.GetJSON(ctx, "metadata", &def); err != nil {
		return "", err
	}
	attach, err := def.attachments()
	if err != nil {
		return "", err
	}
	req, err := bootRequest(&def, a.Parameters, a.NewResources)
	if err != nil {
		return "", err
	}
	// Every volume but the boot volume is attached again (Python skips
	// every bootable one, so a bootable data volume was lost). Each must
	// have been restored: better to know before booting.
	var toAttach []attachment
	for _, at := range attach {
		if def.BootMetadata.DeviceType == bootVolume && at.VolumeID == def.BootMetadata.VolumeID {
			continue
		}
		if _, ok := a.NewResources.Get(at.VolumeID); !ok {
			return "", fmt.Errorf("volume %s, attached to the server, was not restored", at.VolumeID)
		}
		toAttach = append(toAttach, at)
	}
	nova, err := h.p.clients.Client(ctx, a.Request, clients.Nova)
	if err != nil {
		return "", err
	}
	cinder, err := h.p.clients.Client(ctx, a.Request, clients.Cinder)
	if err != nil {
		return "", err
	}
	if newID, err = createServer(ctx, nova, req); err != nil {
		return "", fmt.Errorf("create server: %w", err)
	}
	defer func() {
		if err != nil {
			cleanup(ctx, "server "+newID, func(ctx context.Context) error {
				return deleteServer(ctx, nova, newID, h.p.opts.PollInterval)
			})
		}
	}()
	if err := h.waitActive(ctx, nova, newID); err != nil {
		return newID, err
	}
	for _, at := range toAttach {
		vol, _ := a.NewResources.Get(at.VolumeID)
		if err := attachVolume(ctx, nova, newID, vol, at.Device); err != nil {
			return newID, fmt.Errorf("attach volume %s to server %s: %w", vol, newID, err)
		}
		if err := h.waitAttached(ctx, cinder, vol); err != nil {
			return newID, err
		}
	}
	for _, ip := range def.ServerMetadata.FloatingIPs {
		if err := addFloatingIP(ctx, nova, newID, ip); err != nil {
			return newID, fmt.Errorf("associate floating IP %s with server %s: %w", ip, newID, err)
		}
	}
	return newID, nil
}

// bootReq is the body of POST /servers, as novaclient's servers.create
// writes it for the Python plugin.
type bootReq struct {
	Name             string           `json:"name"`
	ImageRef         string           `json:"imageRef"`
	FlavorRef        string           `json:"flavorRef"`
	MinCount         int              `json:"min_count"`
	MaxCount         int              `json:"max_count"`
	AvailabilityZone string           `json:"availability_zone,omitempty"`
	KeyName          string           `json:"key_name,omitempty"`
	SecurityGroups   []securityGroup  `json:"security_groups,omitempty"`
	Networks         any              `json:"networks,omitempty"`
	BlockDevices     []blockDeviceMap `json:"block_device_mapping_v2,omitempty"`
}

type securityGroup struct {
	Name string `json:"name"`
}

type network struct {
	UUID string `json:"uuid"`
}

type blockDeviceMap struct {
	UUID                string `json:"uuid"`
	SourceType          string `json:"source_type"`
	DestinationType     string `json:"destination_type"`
	BootIndex           int    `json:"boot_index"`
	DeleteOnTermination bool   `json:"delete_on_termination"`
}

// bootRequest is the new server, from the saved metadata and the restore's
// parameters: restore_name, restore_flavor_id and restore_net_id replace
// the name, the flavor and the networks. The networks are the original
// ones (Python does not map them to restored networks either).
func bootRequest(def *definition, params map[string]string, restored *providers.NewResources) (bootReq, error) {
	m := &def.ServerMetadata
	r := bootReq{Name: params["restore_name"], FlavorRef: text(m.Flavor), MinCount: 1, MaxCount: 1,
		AvailabilityZone: text(m.AvailabilityZone), KeyName: text(m.KeyName)}
	if r.Name == "" {
		r.Name = defaultRestoreName
	}
	if f := params["restore_flavor_id"]; f != "" {
		r.FlavorRef = f
	}
	if r.FlavorRef == "" {
		return r, fmt.Errorf("the checkpoint records no flavor of the server and restore_flavor_id is not given")
	}
	switch b := def.BootMetadata; b.DeviceType {
	case bootImage:
		img, ok := restored.Get(b.ImageID)
		if !ok {
			return r, fmt.Errorf("the server's boot image %s was not restored", b.ImageID)
		}
		r.ImageRef = img
	case bootVolume:
		if b.VolumeID == "" {
			return r, fmt.Errorf("the checkpoint records no boot volume of the server")
		}
		vol, ok := restored.Get(b.VolumeID)
		if !ok {
			return r, fmt.Errorf("the server's boot volume %s was not restored", b.VolumeID)
		}
		r.BlockDevices = []blockDeviceMap{{UUID: vol, SourceType: "volume", DestinationType: "volume"}}
	default:
		//lint:ignore ST1005 Python's text
		return r, fmt.Errorf("Can not find the boot device of the server.")
	}
	names, err := m.securityGroupNames()
	if err != nil {
		return r, err
	}
	for _, n := range names {
		r.SecurityGroups = append(r.SecurityGroups, securityGroup{Name: n})
	}
	if net, ok := params["restore_net_id"]; ok && net != "" {
		r.Networks = []network{{UUID: net}}
	} else if len(m.Networks) > 0 {
		nets := make([]network, 0, len(m.Networks))
		for _, n := range m.Networks {
			nets = append(nets, network{UUID: n})
		}
		r.Networks = nets
	} else {
		// A server without networks is restored without networks
		// (Python's request lets Nova pick the project's network, or
		// fail when there are several).
		r.Networks = "none"
	}
	return r, nil
}

// createServer boots the server. The request is not cut short by the end
// of ctx, so that the new server's id is always known and it can be
// deleted.
func createServer(ctx context.Context, nova *gophercloud.ServiceClient, req bootReq) (string, error) {
	c := nova
	if req.Networks == "none" {
		boot := *nova
		boot.Microversion = noNetworksMicroversion
		c = &boot
	}
	var resp struct {
		Server struct {
			ID string `json:"id"`
		} `json:"server"`
	}
	// novaclient boots with block devices through os-volumes_boot, which
	// Nova serves as POST /servers.
	path := "servers"
	if len(req.BlockDevices) > 0 {
		path = "os-volumes_boot"
	}
	_, err := c.Post(context.WithoutCancel(ctx), c.ServiceURL(path), map[string]any{"server": req}, &resp,
		&gophercloud.RequestOpts{OkCodes: []int{202}})
	if err != nil {
		return "", err
	}
	if resp.Server.ID == "" {
		return "", fmt.Errorf("nova answered without the new server's id")
	}
	return resp.Server.ID, nil
}

// waitActive polls the new server until it is ACTIVE. A 5xx or over-limit
// answer reads as BUILD, as in Python (Nova's API may fail for a moment
// while the server is built).
func (h restoreHooks) waitActive(ctx context.Context, nova *gophercloud.ServiceClient, id string) error {
	var last *server
	st, ok, err := statuspoll.Wait(ctx, h.p.opts.PollInterval, serverActive, func(ctx context.Context) (string, error) {
		s, err := getServer(ctx, nova, id)
		if transient(err) {
			logctx.From(ctx).WithError(err).Warnf("Fetching server %s failed; still waiting", id)
			return "BUILD", nil
		}
		if err != nil {
			return "", err
		}
		last = s
		status, _, _ := strings.Cut(s.Status, "(")
		return status, nil
	})
	if err == nil && !ok {
		why := ""
		if last != nil && last.Fault != nil && last.Fault.Message != "" {
			why = ": " + last.Fault.Message
		}
		err = fmt.Errorf("server %s is %s%s", id, st, why)
	}
	if err != nil {
		//lint:ignore ST1005 Python's text
		return fmt.Errorf("The server does not start successfully: %w", err)
	}
	return nil
}

// transient tells the answers Python's _fetch_server waits through.
func transient(err error) bool {
	return gophercloud.ResponseCodeIs(err, 500) || gophercloud.ResponseCodeIs(err, 503) ||
		gophercloud.ResponseCodeIs(err, 413) || gophercloud.ResponseCodeIs(err, 429)
}

// attachVolume attaches a restored volume at the saved device (none: Nova
// picks one).
func attachVolume(ctx context.Context, nova *gophercloud.ServiceClient, srv, vol string, device *string) error {
	body := map[string]any{"volumeId": vol}
	if device != nil {
		body["device"] = *device
	}
	_, err := nova.Post(ctx, nova.ServiceURL("servers", srv, "os-volume_attachments"), map[string]any{"volumeAttachment": body}, nil,
		&gophercloud.RequestOpts{OkCodes: []int{200}})
	return err
}

// waitAttached polls a volume until Cinder has it in use.
func (h restoreHooks) waitAttached(ctx context.Context, cinder *gophercloud.ServiceClient, vol string) error {
	st, ok, err := statuspoll.Wait(ctx, h.p.opts.PollInterval, volumeAttached, func(ctx context.Context) (string, error) {
		v, err := volumes.Get(ctx, cinder, vol).Extract()
		if err != nil {
			return "", err
		}
		return v.Status, nil
	})
	if err == nil && !ok {
		err = fmt.Errorf("volume %s is %s", vol, st)
	}
	if err != nil {
		//lint:ignore ST1005 Python's text
		return fmt.Errorf("Attach the volume to server failed: %w", err)
	}
	return nil
}

// addFloatingIP associates a floating IP with the server (the
// addFloatingIp action, which Nova has below microversion 2.44).
func addFloatingIP(ctx context.Context, nova *gophercloud.ServiceClient, srv, ip string) error {
	_, err := nova.Post(ctx, nova.ServiceURL("servers", srv, "action"), map[string]any{"addFloatingIp": map[string]string{"address": ip}}, nil,
		&gophercloud.RequestOpts{OkCodes: []int{202}})
	return err
}

// deleteServer deletes a server and waits until it is gone, so that the
// volumes attached to it are free again when the restore ends.
func deleteServer(ctx context.Context, nova *gophercloud.ServiceClient, id string, interval time.Duration) error {
	_, err := nova.Delete(ctx, nova.ServiceURL("servers", id), nil)
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil
	}
	if err != nil {
		return err
	}
	gone := statuspoll.Rule{Success: []string{statuspoll.NotFound}, IgnoreUnexpected: true}
	_, _, err = statuspoll.Wait(ctx, interval, gone, func(ctx context.Context) (string, error) {
		s, err := getServer(ctx, nova, id)
		if gophercloud.ResponseCodeIs(err, 404) {
			return statuspoll.NotFound, nil
		}
		if err != nil {
			return "", err
		}
		return s.Status, nil
	})
	return err
}

package nova

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/python"
	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
)

// backupName is the name karbor's exceptions give the resource; verifyName,
// the verification's.
const (
	backupName = "Server Backup"
	verifyName = "Server backup"
)

type protectHooks struct {
	providers.BaseHooks
	p *Plugin
}

// OnMain saves the server's metadata, as Python's on_main.
func (h protectHooks) OnMain(ctx context.Context, a *providers.HookArgs) error {
	id := a.Resource.ID
	sec, err := a.Checkpoint.ResourceSection(id)
	if err == nil {
		err = sec.PutString(ctx, "status", karbor.ResourceStatusProtecting)
	}
	if err != nil {
		return karbor.CreateResourceFailed(backupName, err.Error(), id, karbor.ServerResourceType)
	}
	if err := h.protect(ctx, a, sec); err != nil {
		if serr := markError(ctx, sec); serr != nil {
			err = errors.Join(err, serr)
		}
		return karbor.CreateResourceFailed(backupName, err.Error(), id, karbor.ServerResourceType)
	}
	return nil
}

func (h protectHooks) protect(ctx context.Context, a *providers.HookArgs, sec *bank.Section) error {
	id := a.Resource.ID
	volumes, err := childVolumes(a.Checkpoint.Info().ResourceGraph, id)
	if err != nil {
		return err
	}
	nova, err := h.p.clients.Client(ctx, a.Request, clients.Nova)
	if err != nil {
		return err
	}
	cinder, err := h.p.clients.Client(ctx, a.Request, clients.Cinder)
	if err != nil {
		return err
	}
	neutron, err := h.p.clients.Client(ctx, a.Request, clients.Neutron)
	if err != nil {
		return err
	}
	def := definition{ResourceID: id}
	attach, bootable, err := attachMetadata(ctx, cinder, id, volumes)
	if err != nil {
		return err
	}
	if def.AttachMetadata, err = attach.AppendJSON(nil); err != nil {
		return err
	}
	srv, err := getServer(ctx, nova, id)
	if err != nil {
		return err
	}
	if def.ServerMetadata, err = serverMetadataOf(ctx, neutron, srv); err != nil {
		return err
	}
	def.BootMetadata = bootMetadataOf(srv, attach, bootable)
	if err := sec.PutJSON(ctx, "metadata", def); err != nil {
		return err
	}
	return sec.PutString(ctx, "status", karbor.ResourceStatusAvailable)
}

// childVolumes lists the volumes the checkpoint's graph names as the
// server's dependents, in graph order; as in Python, the last node of the
// server's id gives them.
func childVolumes(packed *string, server string) ([]string, error) {
	if packed == nil {
		return nil, nil
	}
	g, err := graph.Unpack(*packed)
	if err != nil {
		return nil, fmt.Errorf("the checkpoint's resource graph: %w", err)
	}
	var out []string
	for _, n := range g.Nodes() {
		if n.Resource.ID != server {
			continue
		}
		out = out[:0]
		for _, c := range n.Children {
			if c.Resource.Type == karbor.VolumeResourceType {
				out = append(out, c.Resource.ID)
			}
		}
	}
	return out, nil
}

// attachMetadata is attach_metadata: for each volume, its attachments to
// the server with the volume's "bootable" added. The second result tells
// which volumes are bootable.
func attachMetadata(ctx context.Context, cinder *gophercloud.ServiceClient, server string, volumes []string) (*python.Dict, map[string]bool, error) {
	out := &python.Dict{}
	bootable := map[string]bool{}
	for _, vol := range volumes {
		var body struct {
			Volume struct {
				Bootable    json.RawMessage   `json:"bootable"`
				Attachments []json.RawMessage `json:"attachments"`
			} `json:"volume"`
		}
		if _, err := cinder.Get(ctx, cinder.ServiceURL("volumes", vol), &body, nil); err != nil {
			return nil, nil, fmt.Errorf("get volume %s: %w", vol, err)
		}
		for _, raw := range body.Volume.Attachments {
			d, err := python.LoadDict(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("volume %s: attachment: %w", vol, err)
			}
			srv, _ := d.Get("server_id")
			if text(srv) != server {
				continue
			}
			b := body.Volume.Bootable
			if len(b) == 0 {
				b = json.RawMessage("null")
			}
			d.Set("bootable", b)
			enc, err := d.AppendJSON(nil)
			if err != nil {
				return nil, nil, fmt.Errorf("volume %s: attachment: %w", vol, err)
			}
			out.Set(vol, enc)
			bootable[vol] = text(b) == "true"
		}
	}
	return out, bootable, nil
}

// server is what protect reads of Nova's server (base microversion 2.1).
type server struct {
	AvailabilityZone json.RawMessage `json:"OS-EXT-AZ:availability_zone"`
	Addresses        json.RawMessage `json:"addresses"`
	Flavor           struct {
		ID json.RawMessage `json:"id"`
	} `json:"flavor"`
	KeyName         json.RawMessage `json:"key_name"`
	SecurityGroups  json.RawMessage `json:"security_groups"`
	Image           json.RawMessage `json:"image"`
	VolumesAttached []struct {
		ID string `json:"id"`
	} `json:"os-extended-volumes:volumes_attached"`
	Status string `json:"status"`
	Fault  *struct {
		Message string `json:"message"`
	} `json:"fault"`
}

func getServer(ctx context.Context, nova *gophercloud.ServiceClient, id string) (*server, error) {
	var body struct {
		Server server `json:"server"`
	}
	if _, err := nova.Get(ctx, nova.ServiceURL("servers", id), &body, nil); err != nil {
		return nil, fmt.Errorf("get server %s: %w", id, err)
	}
	return &body.Server, nil
}

// address is one of a server's addresses.
type address struct {
	Addr string `json:"addr"`
	MAC  string `json:"OS-EXT-IPS-MAC:mac_addr"`
	Type string `json:"OS-EXT-IPS:type"`
}

// serverMetadataOf is server_metadata: the networks are those of the
// ports of the server's fixed addresses (found by MAC address), in the
// order of Nova's addresses.
func serverMetadataOf(ctx context.Context, neutron *gophercloud.ServiceClient, s *server) (serverMetadata, error) {
	m := serverMetadata{
		AvailabilityZone: orNull(s.AvailabilityZone), Networks: []string{}, FloatingIPs: []string{},
		Flavor: orNull(s.Flavor.ID), KeyName: orNull(s.KeyName), SecurityGroups: orNull(s.SecurityGroups),
	}
	if len(s.Addresses) == 0 || string(s.Addresses) == "null" {
		return m, nil
	}
	nets, err := python.Members(s.Addresses)
	if err != nil {
		return m, fmt.Errorf("the server's addresses: %w", err)
	}
	for _, n := range nets {
		var addrs []address
		if err := json.Unmarshal(n.Value, &addrs); err != nil {
			return m, fmt.Errorf("the server's addresses on %s: %w", n.Key, err)
		}
		for _, a := range addrs {
			switch a.Type {
			case "fixed":
				net, err := portNetwork(ctx, neutron, a.MAC)
				if err != nil {
					return m, err
				}
				if !slices.Contains(m.Networks, net) {
					m.Networks = append(m.Networks, net)
				}
			case "floating":
				m.FloatingIPs = append(m.FloatingIPs, a.Addr)
			}
		}
	}
	return m, nil
}

// portNetwork is the network of the port with the MAC address.
func portNetwork(ctx context.Context, neutron *gophercloud.ServiceClient, mac string) (string, error) {
	pages, err := ports.List(neutron, ports.ListOpts{MACAddress: mac}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("list the ports of MAC address %s: %w", mac, err)
	}
	all, err := ports.ExtractPorts(pages)
	if err != nil {
		return "", fmt.Errorf("list the ports of MAC address %s: %w", mac, err)
	}
	if len(all) == 0 {
		return "", fmt.Errorf("no port has the server's MAC address %s", mac)
	}
	return all[0].NetworkID, nil
}

// bootMetadataOf is boot_metadata: a server whose "image" is an object
// boots from that image, any other from its attached bootable volume (the
// last one Nova lists).
func bootMetadataOf(s *server, attach *python.Dict, bootable map[string]bool) bootMetadata {
	var img struct {
		ID string `json:"id"`
	}
	if len(s.Image) > 0 && s.Image[0] == '{' && json.Unmarshal(s.Image, &img) == nil {
		return bootMetadata{DeviceType: bootImage, ImageID: img.ID}
	}
	b := bootMetadata{DeviceType: bootVolume}
	for _, v := range s.VolumesAttached {
		if meta, ok := attach.Get(v.ID); ok && bootable[v.ID] {
			b.VolumeID, b.Attach = v.ID, meta
		}
	}
	return b
}

func orNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

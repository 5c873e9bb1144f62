package nova

import (
	"encoding/json"
	"fmt"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// definition is the section's "metadata" object as the Python plugin
// writes it (its resource_definition), in its key order:
//
//	{"resource_id": <server id>,
//	 "attach_metadata": {<volume id>: <Cinder's attachment of the volume to
//	                     the server, as Cinder gives it, plus "bootable":
//	                     the volume's "true"/"false">, …},
//	 "boot_metadata": {"boot_device_type": "image", "boot_image_id": <id>}
//	               or {"boot_device_type": "volume"[, "boot_volume_id": <id>,
//	                   "boot_attach_metadata": <its attach_metadata>]},
//	 "server_metadata": {"availability_zone", "networks": [<network id>…],
//	                     "floating_ips": [<address>…], "flavor": <flavor id>,
//	                     "key_name", "security_groups": Nova's [{"name"}…]}}
//
// Values taken from Nova and Cinder are kept as their JSON text, so the
// object holds what Python's would, key order included.
type definition struct {
	ResourceID     string          `json:"resource_id"`
	AttachMetadata json.RawMessage `json:"attach_metadata"`
	BootMetadata   bootMetadata    `json:"boot_metadata"`
	ServerMetadata serverMetadata  `json:"server_metadata"`
}

// bootMetadata is boot_metadata: how the server boots.
type bootMetadata struct {
	DeviceType string `json:"boot_device_type"`
	ImageID    string `json:"boot_image_id,omitempty"`
	VolumeID   string `json:"boot_volume_id,omitempty"`
	// Attach is the boot volume's attach_metadata entry.
	Attach json.RawMessage `json:"boot_attach_metadata,omitempty"`
}

// The boot device types.
const (
	bootImage  = "image"
	bootVolume = "volume"
)

// serverMetadata is server_metadata.
type serverMetadata struct {
	AvailabilityZone json.RawMessage `json:"availability_zone"`
	Networks         []string        `json:"networks"`
	FloatingIPs      []string        `json:"floating_ips"`
	Flavor           json.RawMessage `json:"flavor"`
	KeyName          json.RawMessage `json:"key_name"`
	SecurityGroups   json.RawMessage `json:"security_groups"`
}

// attachment is what restore reads of an attach_metadata entry.
type attachment struct {
	VolumeID string  // the key: the volume's id in the checkpoint
	Device   *string `json:"device"`
}

// attachments reads attach_metadata in its order (Python iterates the dict).
func (d *definition) attachments() ([]attachment, error) {
	if len(d.AttachMetadata) == 0 || string(d.AttachMetadata) == "null" {
		return nil, nil
	}
	members, err := python.Members(d.AttachMetadata)
	if err != nil {
		return nil, fmt.Errorf("attach_metadata: %w", err)
	}
	out := make([]attachment, 0, len(members))
	for _, m := range members {
		var a attachment
		if err := json.Unmarshal(m.Value, &a); err != nil {
			return nil, fmt.Errorf("attach_metadata of volume %s: %w", m.Key, err)
		}
		a.VolumeID = m.Key
		out = append(out, a)
	}
	return out, nil
}

// text reads a JSON value that Python passes to novaclient as a string:
// null is "", a string is itself, anything else its JSON text (as str()
// would mostly write it).
func text(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// securityGroupNames reads security_groups' names.
func (m *serverMetadata) securityGroupNames() ([]string, error) {
	if len(m.SecurityGroups) == 0 || string(m.SecurityGroups) == "null" {
		return nil, nil
	}
	var groups []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(m.SecurityGroups, &groups); err != nil {
		return nil, fmt.Errorf("security_groups: %w", err)
	}
	names := make([]string, 0, len(groups))
	for _, g := range groups {
		names = append(names, g.Name)
	}
	return names, nil
}

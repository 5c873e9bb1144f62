package glance

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/gokarbor/karbor-protection/providers"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/providers/openstack/clients"
)

// The server statuses a snapshot is taken in, and those it waits through
// (Python names "BUILDING", which Nova never reports, so a server still
// building failed its protect).
var (
	snapshotStatuses = []string{"ACTIVE", "STOPPED", "SUSPENDED", "PAUSED"}
	buildingStatuses = []string{"BUILD"}
)

// tempImagePrefix starts the name of the snapshot image, followed by the
// server's id, as in Python.
const tempImagePrefix = "Temp_image_name_for_karbor"

// serverParent returns the server whose dependent the resource was found
// as (its extra_info names it), or "".
func serverParent(r graph.Resource) string {
	var extra struct {
		ServerID string `json:"server_id"`
	}
	raw := r.ExtraInfo
	var s string
	if json.Unmarshal(raw, &s) == nil { // a plan's resources keep extra_info JSON-encoded
		raw = json.RawMessage(s)
	}
	if json.Unmarshal(raw, &extra) != nil {
		return ""
	}
	return extra.ServerID
}

// serverSnapshot waits for the server to be in a state to snapshot, has
// Nova snapshot it into a new image (metadata: the protect's parameters)
// and returns that image once active. A snapshot image that does not
// become active is deleted.
func (h protectHooks) serverSnapshot(ctx context.Context, a *providers.HookArgs, glance *gophercloud.ServiceClient, serverID string) (string, error) {
	nova, err := h.p.clients.Client(ctx, a.Request, clients.Nova)
	if err != nil {
		return "", err
	}
	if err := waitServer(ctx, nova, serverID, h.p.opts.PollInterval); err != nil {
		return "", err
	}
	// Nova creates the image before it answers: the call is not cut short
	// by ctx, so that its answer names what must be deleted (the client's
	// timeout still bounds it).
	id, err := servers.CreateImage(context.WithoutCancel(ctx), nova, serverID, servers.CreateImageOpts{Name: tempImagePrefix + serverID, Metadata: a.Parameters}).ExtractImageID()
	if err != nil {
		//lint:ignore ST1005 Python's text
		return "", fmt.Errorf("Failed to create the server snapshot: %w", err)
	}
	if _, err := waitActive(ctx, glance, id, h.p.opts.PollInterval); err != nil {
		if derr := deleteImage(ctx, glance, id); derr != nil {
			return "", fmt.Errorf("the snapshot of server %s: %w (and %w)", serverID, err, derr)
		}
		return "", fmt.Errorf("the snapshot of server %s: %w", serverID, err)
	}
	return id, nil
}

// waitServer waits until the server can be snapshotted.
func waitServer(ctx context.Context, nova *gophercloud.ServiceClient, id string, interval time.Duration) error {
	return poll(ctx, interval, func() (string, bool, error) {
		srv, err := servers.Get(ctx, nova, id).Extract()
		status, err := statusOf(err, "server "+id, func() string { return srv.Status })
		switch {
		case err != nil:
			return "", false, err
		case slices.Contains(snapshotStatuses, status):
			return status, true, nil
		case !slices.Contains(buildingStatuses, status):
			//lint:ignore ST1005 Python's text
			return "", false, fmt.Errorf("The parent server %s of the image is not in valid status: %s", id, status)
		}
		return status, false, nil
	}, func(status string) string { return fmt.Sprintf("waiting for server %s (%s)", id, status) })
}

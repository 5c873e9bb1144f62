package neutron

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// The Neutron calls of a restore, on plain JSON bodies: the saved values
// go back exactly as Neutron gave them (a null gateway_ip stays null).

// statusNotFound is the status a poll sees for an object Neutron answers
// 404 for.
const statusNotFound = "not-found"

// The status sets of the Python plugin's polls: a restored network,
// router or port is done once ACTIVE or DOWN, failed when ERROR, DEGRADED
// or any unexpected status, and still being made when BUILD (the Python
// sets are strings, not tuples, and so compare characters; BUILD is what
// they mean).
var (
	settled  = []string{"ACTIVE", "DOWN"}
	building = []string{"BUILD"}
)

// create posts body under key to collection and returns the new object's
// id and status. The request is not cut short by the end of ctx (only by
// the client's timeout), so that what was made is always known and can be
// removed.
func create(ctx context.Context, c *gophercloud.ServiceClient, collection, key string, body map[string]any) (id, status string, err error) {
	var resp map[string]struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	_, err = c.Post(context.WithoutCancel(ctx), c.ServiceURL(collection), map[string]any{key: body}, &resp,
		&gophercloud.RequestOpts{OkCodes: []int{201}})
	if err != nil {
		return "", "", fmt.Errorf("create %s: %w", key, err)
	}
	o, ok := resp[key]
	if !ok || o.ID == "" {
		return "", "", fmt.Errorf("create %s: Neutron's answer names no %s", key, key)
	}
	return o.ID, o.Status, nil
}

// remove deletes an object; a 404 counts as deleted.
func remove(ctx context.Context, c *gophercloud.ServiceClient, collection, id string) error {
	_, err := c.Delete(ctx, c.ServiceURL(collection, id), nil)
	if err != nil && !gophercloud.ResponseCodeIs(err, 404) {
		return fmt.Errorf("delete %s %s: %w", collection, id, err)
	}
	return nil
}

// show reads one object into v (the object under key).
func show(ctx context.Context, c *gophercloud.ServiceClient, collection, key, id string, v any) error {
	var resp map[string]json.RawMessage
	if _, err := c.Get(ctx, c.ServiceURL(collection, id), &resp, nil); err != nil {
		return err
	}
	raw, ok := resp[key]
	if !ok {
		return fmt.Errorf("%s %s: Neutron's answer has no %s", collection, id, key)
	}
	return json.Unmarshal(raw, v)
}

// routerInterface adds (or removes) the router's interface on a subnet.
func routerInterface(ctx context.Context, c *gophercloud.ServiceClient, router, subnet string, add bool) error {
	action := "remove_router_interface"
	if add {
		action = "add_router_interface"
		ctx = context.WithoutCancel(ctx)
	}
	_, err := c.Put(ctx, c.ServiceURL("routers", router, action), map[string]any{"subnet_id": subnet}, nil,
		&gophercloud.RequestOpts{OkCodes: []int{200}})
	if err != nil && (add || !gophercloud.ResponseCodeIs(err, 404)) {
		return fmt.Errorf("%s %s of router %s: %w", action, subnet, router, err)
	}
	return nil
}

// waitSettled polls an object's status every interval, the first time
// after one interval, until it is ACTIVE or DOWN; a failure status or a
// 404 is an error naming it, as is the end of ctx.
func waitSettled(ctx context.Context, c *gophercloud.ServiceClient, interval time.Duration, collection, key, id string) error {
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting for %s %s: %w", key, id, context.Cause(ctx))
		case <-t.C:
		}
		var o struct {
			Status string `json:"status"`
		}
		err := show(ctx, c, collection, key, id, &o)
		switch {
		case gophercloud.ResponseCodeIs(err, 404):
			o.Status = statusNotFound
		case err != nil:
			return fmt.Errorf("%s %s: %w", key, id, err)
		}
		switch {
		case slices.Contains(settled, o.Status):
			return nil
		case !slices.Contains(building, o.Status):
			return fmt.Errorf("%s %s is %s", key, id, o.Status)
		}
		t.Reset(interval)
	}
}

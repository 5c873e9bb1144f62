package glance

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Image statuses a wait gets past; any other status ends it in failure, as
// karbor's status_poll does with an unexpected status. Python's protect
// names "NotFound" among its failures, which its own poller never returns
// ("not-found"): either way, a vanished image fails.
var waitingStatuses = []images.ImageStatus{images.ImageStatusQueued, images.ImageStatusSaving, "uploading", "importing"}

// notFound is the status a wait reports for an image Glance no longer has.
const notFound = "not-found"

// waitActive returns the image once it is active. It looks every interval
// while the image is queued or saving, and fails on any other status
// (killed, deleted, pending_delete, deactivated, not found) or when ctx
// ends.
func waitActive(ctx context.Context, glance *gophercloud.ServiceClient, id string, interval time.Duration) (*images.Image, error) {
	var timer *time.Timer
	for {
		img, err := images.Get(ctx, glance, id).Extract()
		status := ""
		switch {
		case gophercloud.ResponseCodeIs(err, http.StatusNotFound):
			status = notFound
		case err != nil:
			return nil, fmt.Errorf("get image %s: %w", id, err)
		default:
			status = string(img.Status)
		}
		if status == string(images.ImageStatusActive) {
			return img, nil
		}
		if !slices.Contains(waitingStatuses, images.ImageStatus(status)) {
			return nil, &statusError{id: id, status: status}
		}
		if timer == nil {
			timer = time.NewTimer(interval)
			defer timer.Stop()
		} else {
			timer.Reset(interval)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for image %s (%s) to become active: %w", id, status, context.Cause(ctx))
		case <-timer.C:
		}
	}
}

// statusError is an image in a status a wait cannot get past.
type statusError struct{ id, status string }

func (e *statusError) Error() string {
	return fmt.Sprintf("The status of image %s is invalid: %s", e.id, e.status)
}

// deleteImage deletes an image this plugin created, even when ctx has
// ended (a cancelled restore still removes what it made), and reports
// what it could not do.
func deleteImage(ctx context.Context, glance *gophercloud.ServiceClient, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	err := images.Delete(ctx, glance, id).ExtractErr()
	if err != nil && !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return fmt.Errorf("delete image %s: %w", id, err)
	}
	return nil
}

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
	var img *images.Image
	err := poll(ctx, interval, func() (string, bool, error) {
		var err error
		img, err = images.Get(ctx, glance, id).Extract()
		status, err := statusOf(err, "image "+id, func() string { return string(img.Status) })
		switch {
		case err != nil:
			return "", false, err
		case status == string(images.ImageStatusActive):
			return status, true, nil
		case !slices.Contains(waitingStatuses, images.ImageStatus(status)):
			return "", false, &statusError{id: id, status: status}
		}
		return status, false, nil
	}, func(status string) string {
		return fmt.Sprintf("waiting for image %s (%s) to become active", id, status)
	})
	if err != nil {
		return nil, err
	}
	return img, nil
}

// poll calls look at once and then every interval until it reports done or
// fails, and returns its error. When ctx ends first, the error wraps the
// cause with waiting's description of the status look saw last, also when
// it ends during a look: an operator reads what the wait was for, not only
// that a request was cancelled.
func poll(ctx context.Context, interval time.Duration, look func() (status string, done bool, err error), waiting func(status string) string) error {
	var timer *time.Timer
	seen := false
	var last string
	for {
		status, done, err := look()
		if err != nil && seen && ctx.Err() != nil {
			return fmt.Errorf("%s: %w", waiting(last), context.Cause(ctx))
		}
		if done || err != nil {
			return err
		}
		seen, last = true, status
		if timer == nil {
			timer = time.NewTimer(interval)
			defer timer.Stop()
		} else {
			timer.Reset(interval)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", waiting(status), context.Cause(ctx))
		case <-timer.C:
		}
	}
}

// statusOf is the status a wait sees after a GET of what: notFound when
// the service answers 404, the status the GET returned (status, called only
// then) when it succeeded.
func statusOf(err error, what string, status func() string) (string, error) {
	switch {
	case gophercloud.ResponseCodeIs(err, http.StatusNotFound):
		return notFound, nil
	case err != nil:
		return "", fmt.Errorf("get %s: %w", what, err)
	}
	return status(), nil
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

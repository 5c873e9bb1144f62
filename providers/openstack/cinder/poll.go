package cinder

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// statusNotFound is the status a poll sees for a resource Cinder answers
// 404 for, as karbor's get_resource_status names it.
const statusNotFound = "not-found"

// statuses are what a poll does with each status it sees (karbor's
// status_poll): stop with success, stop with failure, keep polling; any other
// status stops with failure unless unexpected ones are ignored.
type statuses struct {
	success, failure, ignore []string
	ignoreUnexpected         bool
}

// The status sets of karbor's volume plugins.
var (
	// volumeReady: a volume that can be snapshotted or backed up.
	volumeReady = statuses{
		success: []string{"available", "in-use", "error_extending", "error_restoring"},
		failure: []string{"error", "error_deleting", "deleting", statusNotFound},
		ignore:  []string{"attaching", "creating", "backing-up", "restoring-backup"},
	}
	// volumeRestored: a volume a backup is restored into.
	volumeRestored = statuses{
		success: []string{"available"},
		failure: []string{"error", statusNotFound},
		ignore:  []string{"creating", "restoring-backup", "downloading"},
	}
	// temporarySnapshotCreated: the backup plugin's snapshot.
	temporarySnapshotCreated = statuses{
		success: []string{"available"},
		failure: []string{"error", "error_deleting", "deleting", statusNotFound},
		ignore:  []string{"creating"},
	}
	// temporarySnapshotDeleted: the backup plugin's snapshot, going.
	temporarySnapshotDeleted = statuses{
		success: []string{statusNotFound},
		failure: []string{"error", "error_deleting", "creating"},
		ignore:  []string{"deleting"},
	}
	// snapshotCreated: the snapshot plugin's snapshot.
	snapshotCreated = statuses{
		success:          []string{"available"},
		failure:          []string{"error", "error_deleting", "deleting", statusNotFound},
		ignore:           []string{"creating"},
		ignoreUnexpected: true,
	}
	backupCreated = statuses{
		success: []string{"available"},
		failure: []string{"error"},
		ignore:  []string{"creating"},
	}
	backupDeleted = statuses{
		success: []string{"deleted", statusNotFound},
		failure: []string{"error", "error_deleting"},
		ignore:  []string{"deleting"},
	}
	snapshotDeleted = statuses{
		success:          []string{"deleted", statusNotFound},
		failure:          []string{"error", "error_deleting"},
		ignore:           []string{"deleting"},
		ignoreUnexpected: true,
	}
)

// poll reads a status every interval, the first after one interval, until
// s says to stop; it returns the last status and whether it is a success.
// An error from get, or the end of ctx, ends it with that error.
func poll(ctx context.Context, interval time.Duration, s statuses, get func(context.Context) (string, error)) (string, bool, error) {
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", false, fmt.Errorf("stopped waiting: %w", context.Cause(ctx))
		case <-t.C:
		}
		status, err := get(ctx)
		if err != nil {
			return "", false, err
		}
		switch {
		case slices.Contains(s.success, status):
			return status, true, nil
		case slices.Contains(s.failure, status):
			return status, false, nil
		case !slices.Contains(s.ignore, status) && !s.ignoreUnexpected:
			return status, false, nil
		}
		t.Reset(interval)
	}
}

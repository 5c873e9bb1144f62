package cinder

import (
	"github.com/gokarbor/karbor-protection/providers/openstack/statuspoll"
)

// The status sets of karbor's volume plugins.
var (
	// volumeReady: a volume that can be snapshotted or backed up.
	volumeReady = statuspoll.Rule{
		Success: []string{"available", "in-use", "error_extending", "error_restoring"},
		Failure: []string{"error", "error_deleting", "deleting", statuspoll.NotFound},
		Ignore:  []string{"attaching", "creating", "backing-up", "restoring-backup"},
	}
	// volumeRestored: a volume a backup is restored into.
	volumeRestored = statuspoll.Rule{
		Success: []string{"available"},
		Failure: []string{"error", statuspoll.NotFound},
		Ignore:  []string{"creating", "restoring-backup", "downloading"},
	}
	// temporarySnapshotCreated: the backup plugin's snapshot.
	temporarySnapshotCreated = statuspoll.Rule{
		Success: []string{"available"},
		Failure: []string{"error", "error_deleting", "deleting", statuspoll.NotFound},
		Ignore:  []string{"creating"},
	}
	// temporarySnapshotDeleted: the backup plugin's snapshot, going.
	temporarySnapshotDeleted = statuspoll.Rule{
		Success: []string{statuspoll.NotFound},
		Failure: []string{"error", "error_deleting", "creating"},
		Ignore:  []string{"deleting"},
	}
	// snapshotCreated: the snapshot plugin's snapshot.
	snapshotCreated = statuspoll.Rule{
		Success:          []string{"available"},
		Failure:          []string{"error", "error_deleting", "deleting", statuspoll.NotFound},
		Ignore:           []string{"creating"},
		IgnoreUnexpected: true,
	}
	backupCreated = statuspoll.Rule{
		Success: []string{"available"},
		Failure: []string{"error"},
		Ignore:  []string{"creating"},
	}
	backupDeleted = statuspoll.Rule{
		Success: []string{"deleted", statuspoll.NotFound},
		Failure: []string{"error", "error_deleting"},
		Ignore:  []string{"deleting"},
	}
	snapshotDeleted = statuspoll.Rule{
		Success:          []string{"deleted", statuspoll.NotFound},
		Failure:          []string{"error", "error_deleting"},
		Ignore:           []string{"deleting"},
		IgnoreUnexpected: true,
	}
)

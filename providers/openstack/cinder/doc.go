// Package cinder is karbor's two Cinder protection plugins for
// OS::Cinder::Volume:
//
//   - "karbor-volume-protection-plugin" (Python's CinderBackupProtectionPlugin,
//     karbor/services/protection/protection_plugins/volume/cinder_protection_plugin.py)
//     protects a volume as a Cinder backup, taken from a temporary snapshot
//     when [cinder_backup_protection_plugin] backup_from_snapshot is set;
//   - "karbor-volume-snapshot-plugin" (Python's VolumeSnapshotProtectionPlugin,
//     volume/volume_snapshot_plugin.py) protects it as a Cinder snapshot.
//
// Each writes what the Python plugin writes in the resource's bank section,
// status and metadata ({"volume_id", "backup_id"} or {"volume_id", "size",
// "snapshot_id"}), so a checkpoint written by one service is restored,
// verified and deleted by the other. The options come from the provider file
// (poll_interval, backup_from_snapshot), the plugin parameters from the plan,
// restore or verification, the Cinder client from karbor.conf through
// providers/openstack/clients.
//
// Cinder works asynchronously: every step polls a status every poll_interval
// seconds (also before the first poll), as karbor's status_poll does, and
// stops waiting when its context ends, so a long backup holds only its own
// operation and a stopping service drains.
//
// Better than the Python plugins (docs/compatibility.md): a hook that fails
// removes what it made in Cinder (the temporary snapshot, an unfinished
// backup or snapshot, a restored volume in error); a snapshot restore records
// the new volume in the restore's resources; restore results are keyed by
// the volume's id in the checkpoint; an unknown backup_mode or force is an
// error rather than a silent full, unforced backup.
//
// The program imports it for its side effect:
//
//	import _ "github.com/gokarbor/karbor-protection/providers/openstack/cinder"
package cinder

package karbor

import "slices"

// Resource types (karbor/common/constants.py RESOURCE_TYPES).
const (
	ProjectResourceType  = "OS::Keystone::Project"
	ServerResourceType   = "OS::Nova::Server"
	VolumeResourceType   = "OS::Cinder::Volume"
	ImageResourceType    = "OS::Glance::Image"
	ShareResourceType    = "OS::Manila::Share"
	NetworkResourceType  = "OS::Neutron::Network"
	DatabaseResourceType = "OS::Trove::Instance"
	PodResourceType      = "OS::Kubernetes::Pod"
)

// ResourceTypes returns the eight resource types in karbor's RESOURCE_TYPES
// order, which is also the order of the noop provider's schemas.
func ResourceTypes() []string {
	return []string{
		ProjectResourceType, ServerResourceType, VolumeResourceType, ImageResourceType,
		ShareResourceType, NetworkResourceType, DatabaseResourceType, PodResourceType,
	}
}

// ProtectableLoadOrder returns the resource types in the order the Python
// service loads its protectable plugins (entry-point names sorted: database,
// image, network, pod, project, server, share, volume), which is the order of
// list_protectable_types and of every dependent_types list.
func ProtectableLoadOrder() []string {
	return []string{
		DatabaseResourceType, ImageResourceType, NetworkResourceType, PodResourceType,
		ProjectResourceType, ServerResourceType, ShareResourceType, VolumeResourceType,
	}
}

// IsResourceType reports whether t is one of the eight resource types.
func IsResourceType(t string) bool {
	return slices.Contains(ResourceTypes(), t)
}

// Checkpoint statuses.
const (
	CheckpointStatusProtecting    = "protecting"
	CheckpointStatusAvailable     = "available"
	CheckpointStatusError         = "error"
	CheckpointStatusDeleting      = "deleting"
	CheckpointStatusDeleted       = "deleted"
	CheckpointStatusErrorDeleting = "error-deleting"
	CheckpointStatusWaitCopying   = "wait_copying"
	CheckpointStatusCopying       = "copying"
	// CheckpointStatusCopyFinished is the copy_status put in extra_info when
	// a copy completes; reset_state also accepts it as a current status.
	CheckpointStatusCopyFinished = "finished"
)

// Who created a checkpoint (extra_info "created_by").
const (
	CreatedByOperationEngine = "operation-engine"
	CreatedByManual          = "manual"
)

// Plan statuses.
const (
	PlanStatusSuspended = "suspended"
	PlanStatusStarted   = "started"
)

// Per-resource statuses written by protection plugins (bank "status" objects
// and Restore/Verification resources_status).
const (
	ResourceStatusError      = "error"
	ResourceStatusProtecting = "protecting"
	ResourceStatusStarted    = "started"
	ResourceStatusAvailable  = "available"
	ResourceStatusDeleting   = "deleting"
	ResourceStatusDeleted    = "deleted"
	ResourceStatusRestoring  = "restoring"
	ResourceStatusUndefined  = "undefined"
)

// Restore statuses.
const (
	RestoreStatusInProgress = "in_progress"
	RestoreStatusSuccess    = "success"
	RestoreStatusFailure    = "fail"
)

// Verification statuses.
const (
	VerificationStatusInProgress = "in_progress"
	VerificationStatusSuccess    = "success"
	VerificationStatusFailure    = "fail"
)

// Operation types (karbor OPERATION_TYPES) as written to operation logs.
// Note that the Python service logs a delete as OperationProtect.
const (
	OperationProtect = "protect"
	OperationRestore = "restore"
	OperationDelete  = "delete"
	OperationVerify  = "verify"
	OperationCopy    = "copy"
)

// OperationTypes returns the operation types in karbor's order.
func OperationTypes() []string {
	return []string{OperationProtect, OperationRestore, OperationDelete, OperationVerify, OperationCopy}
}

// Operation-log statuses: an operation log mirrors the status of what it
// tracks, so these are the checkpoint statuses for protect, delete and copy
// logs and the restore/verification statuses for the others.
const (
	OperationLogStatusProtecting    = CheckpointStatusProtecting
	OperationLogStatusAvailable     = CheckpointStatusAvailable
	OperationLogStatusError         = CheckpointStatusError
	OperationLogStatusDeleting      = CheckpointStatusDeleting
	OperationLogStatusDeleted       = CheckpointStatusDeleted
	OperationLogStatusErrorDeleting = CheckpointStatusErrorDeleting
	OperationLogStatusWaitCopying   = CheckpointStatusWaitCopying
	OperationLogStatusCopying       = CheckpointStatusCopying
	OperationLogStatusInProgress    = RestoreStatusInProgress
	OperationLogStatusSuccess       = RestoreStatusSuccess
	OperationLogStatusFailure       = RestoreStatusFailure
)

// Versioned-object serialization (oslo.versionedobjects with karbor's
// OBJ_SERIAL_NAMESPACE and OBJ_PROJECT_NAMESPACE).
const (
	ObjectSerialNamespace  = "karbor_object"
	ObjectProjectNamespace = "karbor"
)

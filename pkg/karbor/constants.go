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

// Checkpoint statuses are bank's (bank/status.go), where the state
// machine that moves between them is.

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

// Restore statuses. An operation log mirrors the status of what it tracks:
// these for restore and verify logs, the checkpoint's for the others.
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

// Versioned-object serialization (oslo.versionedobjects with karbor's
// OBJ_SERIAL_NAMESPACE and OBJ_PROJECT_NAMESPACE).
const (
	ObjectSerialNamespace  = "karbor_object"
	ObjectProjectNamespace = "karbor"
)

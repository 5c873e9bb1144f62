package karbor

import "time"

// OperationLog is a new operation_logs row, as karbor's create_operation_log
// writes it when an operation is built. Empty strings stand for NULL.
type OperationLog struct {
	ProjectID string // required
	// Type is the operation type as karbor writes it: OperationProtect,
	// OperationRestore, OperationVerify, OperationCopy, and OperationProtect
	// for a delete (the Python service forgets to pass the delete type, and
	// this keeps its rows identical).
	Type                 string
	CheckpointID         string
	PlanID               string
	ProviderID           string
	RestoreID            string
	ScheduledOperationID string
	Status               string
	// StartedAt is when the operation was built; zero means now.
	StartedAt time.Time
}

// ResourceResult is one resource's outcome of a restore or verification, as
// a plugin reports it with karbor's update_resource_status(type, id,
// status, reason).
type ResourceResult struct {
	Type   string // e.g. ServerResourceType
	ID     string
	Status string
	// Reason goes to resources_reason. nil leaves that column alone, as
	// Python's reason=None does; karbor's plugin helpers pass "" by default,
	// which is recorded.
	Reason *string
}

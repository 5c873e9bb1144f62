package bank

import "slices"

// Checkpoint statuses (karbor/common/constants.py). StatusCopyFinished is
// the "copy finished" constant: used as copy_status inside extra_info and
// accepted by reset_state.
const (
	StatusProtecting    = "protecting"
	StatusAvailable     = "available"
	StatusError         = "error"
	StatusDeleting      = "deleting"
	StatusDeleted       = "deleted"
	StatusErrorDeleting = "error-deleting"
	StatusWaitCopying   = "wait_copying"
	StatusCopying       = "copying"
	StatusCopyFinished  = "finished"
)

// flowTransitions is the state machine the operation flows follow: karbor's
// (docs/karbor-behaviour.md#status-state-machine) plus recovery's
// deleting → error.
// The delete RPC's available|error → deleting and reset_state are separate
// rules (rpcAllowed).
var flowTransitions = map[string][]string{
	StatusProtecting: {StatusAvailable, StatusError},
	// deleting → error is recovery's: a delete whose owner died never ran
	// its flow to the end, so the checkpoint goes back to a status from
	// which it can be deleted again or reset.
	StatusDeleting:    {StatusDeleted, StatusErrorDeleting, StatusError},
	StatusWaitCopying: {StatusCopying, StatusError},
	StatusCopying:     {StatusAvailable, StatusError},
}

// CanFlowTransition reports whether an operation flow may move a checkpoint
// from one status to another. Keeping the status is always allowed.
func CanFlowTransition(from, to string) bool {
	return from == to || slices.Contains(flowTransitions[from], to)
}

// rpcAllowed reports whether an RPC's status change of kind
// (TransitionDelete, TransitionReset) is accepted from status:
//
//   - delete: available, error or error-deleting (else
//     CheckpointNotBeDeleted). Python refuses error-deleting, which leaves a
//     checkpoint whose delete failed stuck for ever (it cannot be reset
//     either); accepting it lets the delete be retried
//     (docs/compatibility.md).
//   - reset_state: available, error, copying, wait_copying or finished
//     (else CheckpointNotBeReset). A checkpoint stuck in protecting,
//     deleting or error-deleting can not be reset, as in Python.
func rpcAllowed(kind Transition, status string) bool {
	switch kind {
	case TransitionDelete:
		return status == StatusAvailable || status == StatusError || status == StatusErrorDeleting
	case TransitionReset:
		switch status {
		case StatusAvailable, StatusError, StatusCopying, StatusWaitCopying, StatusCopyFinished:
			return true
		}
	}
	return false
}

// InProgress reports whether status means an operation is running on the
// checkpoint, so only its owner may change it while the owner's lease is
// valid; if the owner died the checkpoint is stuck and may be taken over.
func InProgress(status string) bool {
	switch status {
	case StatusProtecting, StatusDeleting, StatusCopying, StatusWaitCopying:
		return true
	}
	return false
}

package manager

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/rpc"
)

// remote is the one table from the errors of the layers below to the
// exception the Python service raises for the same failure (bank/errors.go
// names each). An error that already has a Python face (a *karbor.Error,
// a *karbor.BuiltinError) is returned as it is; one the table does not know
// is returned unchanged and reaches the caller as a generic failure.
//
// Method-specific choices (DeleteCheckpointNotAllowed for delete, the
// FlowError wrappings) are made by the methods; a refused status change
// says itself which RPC refused it ([bank.TransitionError]'s Kind).
func remote(err error) error {
	if err == nil {
		return nil
	}
	var faced rpc.RemoteException
	if errors.As(err, &faced) {
		return err
	}
	var (
		notFound   *bank.CheckpointNotFoundError
		badKey     *bank.InvalidKeyError
		badPath    *bank.InvalidPathError
		version    *bank.UnsupportedVersionError
		lease      *bank.LeaseError
		container  *bank.ContainerError
		object     *bank.ObjectError
		date       *bank.DateError
		notOwner   *bank.NotOwnerError
		transition *bank.TransitionError
	)
	switch {
	case errors.As(err, &notFound): // before ObjectError, which it wraps
		return karbor.CheckpointNotFound(notFound.CheckpointID)
	case errors.As(err, &badKey):
		return karbor.InvalidParameterValue(badKey.Reason)
	case errors.As(err, &badPath):
		return karbor.InvalidInput(badPath.Reason())
	case errors.As(err, &version):
		return karbor.UnsupportedCheckpointVersion()
	case errors.Is(err, bank.ErrReadOnly):
		return karbor.BankReadonlyViolation()
	case errors.Is(err, bank.ErrLeaseInvalid):
		return karbor.AcquireLeaseFailed(callerText(err))
	case errors.As(err, &lease):
		return karbor.AcquireLeaseFailed(callerText(lease.Err))
	case errors.As(err, &container): // before ObjectError, which may wrap it
		return karbor.CreateContainerFailed(callerText(container.Err))
	case errors.As(err, &object):
		return objectFailure(object)
	case errors.As(err, &date):
		return karbor.ValueError(date.Message())
	case errors.As(err, &transition) && transition.Kind == bank.TransitionDelete: // before NotOwnerError, which it may wrap
		return karbor.CheckpointNotBeDeleted(transition.CheckpointID)
	case errors.As(err, &transition) && transition.Kind == bank.TransitionReset:
		return karbor.CheckpointNotBeReset(transition.CheckpointID)
	case errors.As(err, &notOwner):
		return karbor.KarborException("Checkpoint " + notOwner.CheckpointID + " is being worked on by another service instance")
	}
	if text := callerText(err); text != err.Error() {
		return karbor.RuntimeError(text)
	}
	return err
}

// callerText is err's text as a caller may read it: every file-system
// error in it (a path error, a rename's link error) is reduced to what
// went wrong ("no space left on device"), without the
// operation and the server's paths (openat .karbor-tmp/<owner>/…). The
// full error stays in the service's log (handle logs it).
func callerText(err error) string {
	text := err.Error()
	var walk func(e error)
	walk = func(e error) {
		var inner error
		switch x := e.(type) {
		case *fs.PathError:
			inner = x.Err
		case *os.LinkError:
			inner = x.Err
		}
		if inner != nil {
			text = strings.ReplaceAll(text, e.Error(), inner.Error())
		}
		switch x := e.(type) {
		case interface{ Unwrap() error }:
			if u := x.Unwrap(); u != nil {
				walk(u)
			}
		case interface{ Unwrap() []error }:
			for _, u := range x.Unwrap() {
				walk(u)
			}
		}
	}
	walk(err)
	return text
}

// objectFailure is the Bank*Failed exception of a failed object operation:
// the bank key, and the reason in the caller's terms (callerText).
func objectFailure(e *bank.ObjectError) error {
	reason := callerText(e.Err)
	switch e.Op {
	case bank.OpGet:
		return karbor.BankGetObjectFailed(e.Key, reason)
	case bank.OpUpdate:
		return karbor.BankUpdateObjectFailed(e.Key, reason)
	case bank.OpDelete:
		return karbor.BankDeleteObjectFailed(e.Key, reason)
	default:
		return karbor.BankListObjectsFailed(reason)
	}
}

// flowMessage is what the Python manager puts into a FlowError's error
// kwarg for an exception raised while building a flow: the karbor
// exception's msg, or "Internal error" for anything else (a builtin, a bug).
func flowMessage(err error) string {
	var ke *karbor.Error
	if errors.As(remote(err), &ke) {
		return ke.Error()
	}
	return "Internal error"
}

package bank

import (
	"errors"
	"fmt"

	"github.com/gokarbor/karbor-protection/pkg/python"
)

// This file holds every error the bank returns. Each doc comment names the
// karbor exception (karbor/exception.py) or Python builtin the manager turns
// it into, with the kwargs to pass; the bank itself knows nothing of that
// catalog.

// Op names the object operation that failed.
type Op string

// The object operations of a bank plugin.
const (
	OpGet    Op = "get"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
	OpList   Op = "list"
)

// ObjectError is a backend failure on one object (or, for OpList, on a
// listing). It becomes, by Op:
//
//	OpGet    → BankGetObjectFailed(key=Key, reason=Reason())
//	OpUpdate → BankUpdateObjectFailed(key=Key, reason=Reason())
//	OpDelete → BankDeleteObjectFailed(key=Key, reason=Reason())
//	OpList   → BankListObjectsFailed(reason=Reason())
//
// Key is the normalised full key the backend saw (for OpList, the prefix).
// A missing object is an ObjectError wrapping ErrNotFound.
type ObjectError struct {
	Op  Op
	Key string
	Err error
}

func (e *ObjectError) Error() string {
	return fmt.Sprintf("bank: %s %s: %v", e.Op, e.Key, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }

// Reason is the text karbor puts in the exception's reason kwarg.
func (e *ObjectError) Reason() string { return e.Err.Error() }

// ErrNotFound is wrapped by backends when an object does not exist (the FS
// backend's error says "Object is not a file", as the Python one does). It
// always arrives inside an ObjectError, so it still becomes
// BankGetObjectFailed unless a layer above knows better (a missing
// index.json becomes CheckpointNotFoundError).
var ErrNotFound = errors.New("object not found")

// InvalidKeyError is a key, section or checkpoint id with characters outside
// [A-Za-z0-9/_.\-@], a trailing slash, or "." parts. It becomes
// InvalidParameterValue(err=Reason); Reason is the exact Python text, e.g.
// `Only alphanumeric, underscore, dash, dots, at signs, and slashes are
// allowed. Key: "a b"`.
type InvalidKeyError struct {
	Key    string
	Reason string
}

func (e *InvalidKeyError) Error() string { return "bank: invalid key: " + e.Reason }

// InvalidPathError is a key with a ".." part (or, on the file-system bank,
// containing ".." anywhere, as the Python plugin rejects). It becomes
// InvalidInput(reason=Reason()), i.e. "The path(/../x) is invalid.".
type InvalidPathError struct {
	Path string
}

func (e *InvalidPathError) Error() string { return "bank: " + e.Reason() }

// Reason is the Python plugin's text for the reason kwarg.
func (e *InvalidPathError) Reason() string {
	return fmt.Sprintf("The path(%s) is invalid.", e.Path)
}

// ErrReadOnly is a write through a read-only section, or a writable
// sub-section asked of a read-only one. It becomes BankReadonlyViolation().
var ErrReadOnly = errors.New("bank: read-only violation")

// ErrCheckpointNotFound is matched (errors.Is) by every
// CheckpointNotFoundError.
var ErrCheckpointNotFound = errors.New("checkpoint not found")

// CheckpointNotFoundError is a checkpoint whose index.json cannot be read. It
// becomes CheckpointNotFound(checkpoint_id=CheckpointID). Err is the cause
// (an ObjectError), kept for logs.
type CheckpointNotFoundError struct {
	CheckpointID string
	Err          error
}

func (e *CheckpointNotFoundError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("bank: checkpoint %s not found", e.CheckpointID)
	}
	return fmt.Sprintf("bank: checkpoint %s not found: %v", e.CheckpointID, e.Err)
}

func (e *CheckpointNotFoundError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCheckpointNotFound) true.
func (e *CheckpointNotFoundError) Is(target error) bool { return target == ErrCheckpointNotFound }

// UnsupportedVersionError is an index.json whose version is not "0.9". It
// becomes the builtin RuntimeError with Message (exactly the Python text).
type UnsupportedVersionError struct {
	CheckpointID string
	Version      string // the raw JSON value found
}

// UnsupportedVersionMessage is the Python RuntimeError's text.
const UnsupportedVersionMessage = "Checkpoint was created in an unsupported version"

func (e *UnsupportedVersionError) Error() string {
	return fmt.Sprintf("bank: checkpoint %s: %s (version %s)", e.CheckpointID, UnsupportedVersionMessage, e.Version)
}

// IndexDecodeError is an index.json that is not a JSON object or lacks a
// field karbor needs, or has one of the wrong type. Python fails on such a
// file with a builtin TypeError/KeyError (a generic remote error); the
// manager sends a generic failure.
type IndexDecodeError struct {
	CheckpointID string
	Reason       string
}

func (e *IndexDecodeError) Error() string {
	return fmt.Sprintf("bank: checkpoint %s: bad index.json: %s", e.CheckpointID, e.Reason)
}

// Transition names the kind of status change a TransitionError refused.
type Transition string

// The kinds of status change.
const (
	// TransitionFlow is a change made by an operation flow (protect, copy,
	// delete), following karbor's status state machine
	// (docs/karbor-behaviour.md#status-state-machine).
	TransitionFlow Transition = "flow"
	// TransitionDelete is the delete RPC's available|error → deleting.
	TransitionDelete Transition = "delete"
	// TransitionReset is the reset_state RPC.
	TransitionReset Transition = "reset"
)

// TransitionError is a status change the state machine does not allow. It
// becomes, by Kind: TransitionDelete → CheckpointNotBeDeleted(checkpoint_id),
// TransitionReset → CheckpointNotBeReset(checkpoint_id); TransitionFlow is a
// bug in a flow and is sent as a generic failure.
type TransitionError struct {
	CheckpointID string
	Kind         Transition
	From, To     string
	// Err is why, when it is not the state machine: the NotOwnerError of
	// a checkpoint another instance that may be alive works on.
	Err error
}

func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("bank: checkpoint %s: %s from status %q to %q is not allowed", e.CheckpointID, e.Kind, e.From, e.To)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *TransitionError) Unwrap() error { return e.Err }

// NotOwnerError is a write to a checkpoint that another service instance
// is working on and that may be alive (status in progress, owner not known
// dead: its lease is valid, or it holds none and may be a live Python
// instance). Python has no such check; the manager sends it as
// KarborException("Checkpoint <id> is being worked on by another service
// instance"). BeginDelete and ResetState return it wrapped in their
// TransitionError, so that the delete and reset_state RPCs answer
// CheckpointNotBeDeleted / CheckpointNotBeReset, which the API already
// knows how to show.
type NotOwnerError struct {
	CheckpointID string
	Status       string
	OwnerID      string
	// Owner is what is known of the owner.
	Owner Verdict
}

func (e *NotOwnerError) Error() string {
	return fmt.Sprintf("bank: checkpoint %s is %s by owner %s, which may be alive: %s", e.CheckpointID, e.Status, e.OwnerID, e.Owner.Reason)
}

// ErrLeaseInvalid means this instance's own lease is no longer valid (it has
// not been renewed for longer than lease_expire_window minus
// lease_validity_window), so other instances may soon take its checkpoints
// over and it must not write. It becomes AcquireLeaseFailed(reason=err text).
var ErrLeaseInvalid = errors.New("bank: own lease is not valid; refusing to write")

// LeaseError is a failure to acquire or renew the lease. It becomes
// AcquireLeaseFailed(reason=Err text).
type LeaseError struct {
	OwnerID string
	Err     error
}

func (e *LeaseError) Error() string {
	return fmt.Sprintf("bank: lease of owner %s: %v", e.OwnerID, e.Err)
}

func (e *LeaseError) Unwrap() error { return e.Err }

// DateError is a start_date/end_date filter not in the format %Y-%m-%d.
// Python's strptime raises the builtin ValueError with Message().
type DateError struct {
	Value string
}

func (e *DateError) Error() string { return "bank: " + e.Message() }

// Message is Python's ValueError text.
func (e *DateError) Message() string {
	return fmt.Sprintf("time data %s does not match format '%%Y-%%m-%%d'", python.ReprString(e.Value))
}

// ConfigError is a provider configuration the bank plugin cannot load with
// (e.g. no [file_system_bank_plugin] file_system_bank_path). The provider
// fails to load, as in Python.
type ConfigError struct {
	Plugin  string
	Section string
	Key     string
	Reason  string
}

func (e *ConfigError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("bank plugin %s: %s", e.Plugin, e.Reason)
	}
	return fmt.Sprintf("bank plugin %s: [%s] %s: %s", e.Plugin, e.Section, e.Key, e.Reason)
}

// ContainerError is a backend that cannot reach or set up its storage: the
// service, its authentication, or the container (bucket) it creates on
// first use. It becomes CreateContainerFailed(reason=Err text), the
// exception the Python plugins raise when their first connection fails,
// whatever object operation triggered it.
type ContainerError struct {
	Container string
	Err       error
}

func (e *ContainerError) Error() string {
	return fmt.Sprintf("bank: container %s: %v", e.Container, e.Err)
}

func (e *ContainerError) Unwrap() error { return e.Err }

package bank

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Checkpoints is the checkpoint collection of one bank (Python's
// CheckpointCollection): index.json, the three indices, the status machine
// and listing.
//
// Writers and leases: every write needs this instance's own lease to be
// valid (else ErrLeaseInvalid). A checkpoint in progress (protecting,
// deleting, copying, wait_copying) belongs to its owner_id: while that
// owner may be alive nobody else may change it (NotOwnerError); once it is
// known dead (Owner: its lease expired or was left by a previous run of this
// host, or it holds none and the evidence says so) the next writer takes
// the checkpoint over, becoming its owner. Whoever moves a checkpoint into
// an in-progress status becomes its owner. Each update re-reads index.json
// and writes it back under a per-checkpoint lock (in-process, plus the
// plugin's Locker across processes), so concurrent writers never lose each
// other's fields.
type Checkpoints struct {
	bank     *Bank
	clock    func() time.Time
	newID    func() string
	holder   Holder
	evidence Evidence
	locks    keyLocks
}

// Option configures Checkpoints.
type Option func(*Checkpoints)

// WithClock sets the clock used for timestamps and "now" in date filters.
func WithClock(clock func() time.Time) Option {
	return func(c *Checkpoints) { c.clock = clock }
}

// WithIDGenerator sets how new checkpoint ids are made (default: random
// UUIDs).
func WithIDGenerator(newID func() string) Option {
	return func(c *Checkpoints) { c.newID = newID }
}

// NewCheckpoints returns the checkpoint collection of b.
func NewCheckpoints(b *Bank, opts ...Option) *Checkpoints {
	c := &Checkpoints{bank: b, clock: time.Now, newID: uuid.NewString}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Bank returns the underlying bank.
func (c *Checkpoints) Bank() *Bank { return c.bank }

// NewCheckpoint is what creating a checkpoint needs: the plan's fields and
// the checkpoint_properties of the protect/copy RPC.
type NewCheckpoint struct {
	// Plan is the protection plan; Plan.Resources is its resource list as
	// the Plan primitive carried it (JSON).
	Plan Plan
	// ProjectID is the plan's project (not the caller's).
	ProjectID string
	// Status is checkpoint_properties.status; "" means protecting.
	Status string
	// ExtraInfo is checkpoint_properties.extra_info as raw JSON; nil means
	// null.
	ExtraInfo json.RawMessage
}

// maxSegment is the longest value (a provider, project or plan id) one
// element of a checkpoint's keys may hold: 255 bytes, a file name's limit
// on common file systems (NAME_MAX), and well inside swift's and S3's
// 1024-byte object names with all three in one index key. A longer id
// fails every index key write, and is refused before anything is written.
const maxSegment = 255

// Create writes a new checkpoint in karbor's order: index.json, then the
// by-provider, by-date and by-plan index keys
// (docs/karbor-behaviour.md#creation-sequence). It is owned by this instance.
//
// A create that fails writes nothing: ids that cannot make keys are refused
// first, and when a write fails what was written is removed again
// (undoCreate), so no half-made checkpoint stays in progress.
func (c *Checkpoints) Create(ctx context.Context, n NewCheckpoint) (*Checkpoint, error) {
	if !c.bank.plugin.LeaseValid() {
		return nil, ErrLeaseInvalid
	}
	for _, f := range []struct{ name, value string }{
		{"provider_id", n.Plan.ProviderID}, {"project_id", n.ProjectID}, {"plan id", n.Plan.ID},
	} {
		if err := validateSegment(f.value); err != nil {
			return nil, fmt.Errorf("bank: create checkpoint: %s: %w", f.name, err)
		}
		if len(f.value) > maxSegment {
			return nil, fmt.Errorf("bank: create checkpoint: %w", &InvalidKeyError{Key: f.value,
				Reason: fmt.Sprintf("%s is %d bytes long; a bank key element holds at most %d", f.name, len(f.value), maxSegment)})
		}
	}
	for name, raw := range map[string]json.RawMessage{"resources": n.Plan.Resources, "extra_info": n.ExtraInfo} {
		if raw != nil && !json.Valid(raw) {
			return nil, fmt.Errorf("bank: create checkpoint: %s is not valid JSON", name)
		}
	}
	id := c.newID()
	if err := validateSegment(id); err != nil {
		return nil, fmt.Errorf("bank: create checkpoint: generated id: %w", err)
	}
	now := c.clock()
	status := n.Status
	if status == "" {
		status = StatusProtecting
	}
	cp := &Checkpoint{
		ID:         id,
		Status:     status,
		OwnerID:    c.bank.OwnerID(),
		ProviderID: n.Plan.ProviderID,
		ProjectID:  n.ProjectID,
		Plan:       n.Plan,
		ExtraInfo:  n.ExtraInfo,
		// One clock reading for both, so created_at is always the UTC date
		// of timestamp (listing relies on it).
		CreatedAt: now.UTC().Format(time.DateOnly),
		Timestamp: now.Unix(),
	}
	if err := c.writeIndex(ctx, cp); err != nil {
		return nil, errors.Join(err, c.undoCreate(ctx, cp, nil))
	}
	var written []string
	for _, key := range cp.IndexKeys() {
		if err := c.bank.PutObject(ctx, key, Object{Data: []byte(id)}); err != nil {
			return nil, errors.Join(err, c.undoCreate(ctx, cp, written))
		}
		written = append(written, key)
	}
	return cp, nil
}

// undoCreate removes what a failed Create wrote: the index keys written,
// then index.json (whose removal also removes the emptied checkpoint
// directory). Removing frees space, so this works on a full bank. If
// index.json cannot be removed, the checkpoint is moved to error so that it
// is not left in progress; if even that fails, it is this instance's and
// recovery fails it once this instance is gone. The error says what could
// not be undone.
func (c *Checkpoints) undoCreate(ctx context.Context, cp *Checkpoint, written []string) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, key := range written {
		if err := c.bank.DeleteObject(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	err := c.bank.DeleteObject(ctx, IndexKey(cp.ID))
	if err == nil || errors.Is(err, ErrNotFound) {
		return errors.Join(errs...)
	}
	errs = append(errs, err)
	if _, err := c.SetStatus(ctx, cp.ID, StatusError); err != nil {
		errs = append(errs, err)
	}
	return fmt.Errorf("bank: undo the failed create of checkpoint %s: %w", cp.ID, errors.Join(errs...))
}

// writeIndex encodes and stores cp's index.json and makes cp carry the
// document written.
func (c *Checkpoints) writeIndex(ctx context.Context, cp *Checkpoint) error {
	data, err := cp.EncodeIndex()
	if err != nil {
		return fmt.Errorf("bank: encode index.json of %s: %w", cp.ID, err)
	}
	doc, err := parseDocument(data)
	if err != nil {
		return fmt.Errorf("bank: encode index.json of %s: %w", cp.ID, err)
	}
	if err := c.bank.PutObject(ctx, IndexKey(cp.ID), Object{Data: data, Serialized: true}); err != nil {
		return err
	}
	cp.doc = doc
	return nil
}

// validateSegment checks a value used as one element of a key.
func validateSegment(s string) error {
	if s == "" || !ValidKeyChars(s) || strings.Contains(s, "/") || s == "." || s == ".." {
		return &InvalidKeyError{Key: s, Reason: fmt.Sprintf(keyCharsMessage, s)}
	}
	return nil
}

// checkID validates a checkpoint id the way Python's section lookup does:
// characters outside the key set are InvalidParameterValue with the
// section message; ids that cannot name a checkpoint directory (empty, with
// "/", "." or "..") are simply not found.
func checkID(id string) error {
	if !ValidKeyChars(id) {
		return &InvalidKeyError{Key: id, Reason: sectionMessage}
	}
	if id == "" || strings.Contains(id, "/") || id == "." || id == ".." {
		return &CheckpointNotFoundError{CheckpointID: id}
	}
	return nil
}

// Get reads a checkpoint. A missing or unreadable index.json is a
// CheckpointNotFoundError; see also UnsupportedVersionError and
// IndexDecodeError. Deleted checkpoints are found (their index.json stays).
func (c *Checkpoints) Get(ctx context.Context, id string) (*Checkpoint, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	obj, err := c.bank.GetObject(ctx, IndexKey(id))
	if err != nil {
		var oe *ObjectError
		if errors.As(err, &oe) {
			return nil, &CheckpointNotFoundError{CheckpointID: id, Err: err}
		}
		return nil, err
	}
	return DecodeIndex(id, obj.Data)
}

// Update changes a checkpoint under the writer rules (see Checkpoints):
// mutate may change Status, ExtraInfo and ResourceGraph; a status change
// must follow the flows' state machine (else TransitionError).
func (c *Checkpoints) Update(ctx context.Context, id string, mutate func(cp *Checkpoint) error) (*Checkpoint, error) {
	return c.modify(ctx, id, func(cur, next *Checkpoint) error {
		if err := mutate(next); err != nil {
			return err
		}
		if !CanFlowTransition(cur.Status, next.Status) {
			return &TransitionError{CheckpointID: id, Kind: TransitionFlow, From: cur.Status, To: next.Status}
		}
		return nil
	})
}

// SetStatus moves a checkpoint along the flows' state machine.
func (c *Checkpoints) SetStatus(ctx context.Context, id, status string) (*Checkpoint, error) {
	return c.Update(ctx, id, func(cp *Checkpoint) error {
		cp.Status = status
		return nil
	})
}

// SetResourceGraph stores the packed resource graph, a JSON string, in
// index.json's resource_graph (docs/karbor-behaviour.md#packed-form-resource_graph).
func (c *Checkpoints) SetResourceGraph(ctx context.Context, id, graph string) (*Checkpoint, error) {
	return c.Update(ctx, id, func(cp *Checkpoint) error {
		cp.ResourceGraph = &graph
		return nil
	})
}

// ResetState is the reset_state RPC's change
// (docs/karbor-behaviour.md#reset_state): from available, error,
// copying, wait_copying or finished to any state; otherwise a TransitionError of
// kind TransitionReset.
func (c *Checkpoints) ResetState(ctx context.Context, id, state string) (*Checkpoint, error) {
	return c.rpcTransition(ctx, id, TransitionReset, state)
}

// BeginDelete is the delete RPC's synchronous step, made before it replies
// (step 5 of docs/karbor-behaviour.md#delete): available, error or
// error-deleting → deleting, owned by this instance; otherwise a
// TransitionError of kind TransitionDelete.
func (c *Checkpoints) BeginDelete(ctx context.Context, id string) (*Checkpoint, error) {
	return c.rpcTransition(ctx, id, TransitionDelete, StatusDeleting)
}

// rpcTransition is the status change an RPC asks for (delete, reset_state),
// from the statuses rpcAllowed says. A refusal is a TransitionError of that
// kind, also when another instance that may be alive works on the checkpoint
// (it then wraps the NotOwnerError): the RPC answers the same either way.
func (c *Checkpoints) rpcTransition(ctx context.Context, id string, kind Transition, to string) (*Checkpoint, error) {
	cp, err := c.modify(ctx, id, func(cur, next *Checkpoint) error {
		if !rpcAllowed(kind, cur.Status) {
			return &TransitionError{CheckpointID: id, Kind: kind, From: cur.Status, To: to}
		}
		next.Status = to
		return nil
	})
	var notOwner *NotOwnerError
	if errors.As(err, &notOwner) {
		return nil, &TransitionError{CheckpointID: id, Kind: kind, From: notOwner.Status, To: to, Err: err}
	}
	return cp, err
}

// Delete finishes a deletion as karbor's Checkpoint.delete does
// (docs/karbor-behaviour.md#deletion-in-the-bank): status deleted, index.json rewritten,
// then the three index keys removed. index.json and resource data stay. It
// accepts a checkpoint already deleted, so a deletion cut short between
// those writes can be finished by calling it again.
func (c *Checkpoints) Delete(ctx context.Context, id string) (*Checkpoint, error) {
	var done *Checkpoint
	err := c.locked(ctx, id, func() error {
		cp, err := c.modifyLocked(ctx, id, func(cur, next *Checkpoint) error {
			if cur.Status != StatusDeleting && cur.Status != StatusDeleted {
				return &TransitionError{CheckpointID: id, Kind: TransitionFlow, From: cur.Status, To: StatusDeleted}
			}
			next.Status = StatusDeleted
			return nil
		})
		if err != nil {
			return err
		}
		for _, key := range cp.IndexKeys() {
			if err := c.bank.DeleteObject(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		done = cp
		return nil
	})
	return done, err
}

// ResourceSection is the section a protection plugin keeps a resource's
// data in: /checkpoints/<cid>/resource-data/<resource_id>/.
func (c *Checkpoints) ResourceSection(checkpointID, resourceID string, writable bool) (*Section, error) {
	if err := checkID(checkpointID); err != nil {
		return nil, err
	}
	s, err := c.bank.Section(ResourceDataPrefix(checkpointID, resourceID))
	if err != nil {
		return nil, err
	}
	if !writable {
		s = s.ReadOnly()
	}
	return s, nil
}

// modify runs one locked read-modify-write of index.json.
func (c *Checkpoints) modify(ctx context.Context, id string, change func(cur, next *Checkpoint) error) (*Checkpoint, error) {
	var out *Checkpoint
	err := c.locked(ctx, id, func() error {
		cp, err := c.modifyLocked(ctx, id, change)
		out = cp
		return err
	})
	return out, err
}

func (c *Checkpoints) modifyLocked(ctx context.Context, id string, change func(cur, next *Checkpoint) error) (*Checkpoint, error) {
	cur, err := c.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	// The change is checked first: a transition the state machine refuses
	// is refused whoever owns the checkpoint and whatever the lease says.
	next := *cur
	if err := change(cur, &next); err != nil {
		return nil, err
	}
	if !c.bank.plugin.LeaseValid() {
		return nil, ErrLeaseInvalid
	}
	self := c.bank.OwnerID()
	if InProgress(cur.Status) && cur.OwnerID != self {
		v, err := c.Owner(ctx, cur.OwnerID)
		if err != nil {
			return nil, fmt.Errorf("bank: checkpoint %s: %w", id, err)
		}
		if v.Liveness != OwnerDead {
			return nil, &NotOwnerError{CheckpointID: id, Status: cur.Status, OwnerID: cur.OwnerID, Owner: v}
		}
	}
	if InProgress(cur.Status) || InProgress(next.Status) {
		next.OwnerID = self
	} else {
		next.OwnerID = cur.OwnerID
	}
	if err := c.writeIndex(ctx, &next); err != nil {
		return nil, err
	}
	return &next, nil
}

// locked runs fn holding the checkpoint's lock: in-process first (cheap
// and fair), then the plugin's cross-process lock if it has one.
func (c *Checkpoints) locked(ctx context.Context, id string, fn func() error) error {
	if err := checkID(id); err != nil {
		return err
	}
	unlock, err := c.locks.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if l, ok := c.bank.plugin.(Locker); ok {
		k, err := NormalizeKey(IndexKey(id))
		if err != nil {
			return err
		}
		unlockShared, err := l.Lock(ctx, k)
		if err != nil {
			return fmt.Errorf("bank: lock checkpoint %s: %w", id, err)
		}
		defer unlockShared()
	}
	return fn()
}

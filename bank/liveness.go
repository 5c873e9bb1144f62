package bank

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Liveness is what is known of a checkpoint owner, a service instance.
type Liveness int

// Owner liveness. Only a dead owner's checkpoints may be taken over; an
// owner that may be alive, or of which nothing is known, keeps them.
const (
	// OwnerAlive: the owner is this instance, holds a valid lease, or is
	// an owner without a lease while the evidence says a service instance
	// without a lease of ours may be alive.
	OwnerAlive Liveness = iota + 1
	// OwnerDead: its lease expired, was left by a previous run of this
	// instance (same host), is missing on a bank every writer leases, or
	// the evidence says no service instance without a lease of ours lives.
	OwnerDead
	// OwnerUnknown: it holds no lease on a bank whose Python writers take
	// none, and there is no evidence whether it is alive.
	OwnerUnknown
)

func (l Liveness) String() string {
	switch l {
	case OwnerAlive:
		return "alive"
	case OwnerDead:
		return "dead"
	case OwnerUnknown:
		return "unknown"
	}
	return fmt.Sprintf("Liveness(%d)", int(l))
}

// Verdict is the liveness of an owner and why, for logs.
type Verdict struct {
	Liveness Liveness
	Reason   string
}

// Evidence judges owners that hold no lease on a bank whose Python writers
// take none (the file-system bank): such an owner is a Python service
// instance, or one of ours whose lease is gone. The program supplies it
// (from the services rows' heartbeats); without it such owners are
// OwnerUnknown and their checkpoints are left alone.
type Evidence interface {
	// Unleased reports whether a karbor-protection instance may be alive
	// on a host other than leasedHosts (the hosts that hold a lease of ours
	// in this bank, live or not): OwnerAlive if one may be, OwnerDead if
	// the evidence says none is, OwnerUnknown without evidence. An error
	// means the evidence could not be read; the owner is then unknown.
	Unleased(ctx context.Context, leasedHosts []string) (Verdict, error)
}

// WithHolder tells the collection which process it runs in (the holder its
// bank plugin's lease records), so that leases of a previous run of this
// instance are recognised as dead at once.
func WithHolder(h Holder) Option {
	return func(c *Checkpoints) { c.holder = h }
}

// WithEvidence sets the evidence about owners without a lease.
func WithEvidence(e Evidence) Option {
	return func(c *Checkpoints) { c.evidence = e }
}

// judge decides about owners, reading each lease (and the evidence) once.
type judge struct {
	c        *Checkpoints
	now      time.Time
	owners   map[string]Verdict
	unleased *Verdict
}

func (c *Checkpoints) newJudge() *judge {
	return &judge{c: c, now: c.clock(), owners: map[string]Verdict{}}
}

// Owner returns what is known of a checkpoint owner now.
func (c *Checkpoints) Owner(ctx context.Context, ownerID string) (Verdict, error) {
	return c.newJudge().owner(ctx, ownerID)
}

func (j *judge) owner(ctx context.Context, id string) (Verdict, error) {
	if v, ok := j.owners[id]; ok {
		return v, nil
	}
	v, err := j.decide(ctx, id)
	if err != nil {
		return Verdict{}, err
	}
	j.owners[id] = v
	return v, nil
}

func (j *judge) decide(ctx context.Context, id string) (Verdict, error) {
	p := j.c.bank.plugin
	if id == p.OwnerID() {
		return Verdict{OwnerAlive, "it is this instance"}, nil
	}
	l, ok, err := p.Lease(ctx, id)
	if err != nil {
		return Verdict{}, fmt.Errorf("bank: lease of owner %s: %w", id, err)
	}
	if ok {
		switch {
		case j.c.holder.Supersedes(l):
			return Verdict{OwnerDead, fmt.Sprintf("its lease was taken by a previous run of this instance (host %s)", l.Holder.Host)}, nil
		case l.Expired(j.now):
			return Verdict{OwnerDead, fmt.Sprintf("its lease expired at %s", l.ExpiresAt.UTC().Format(time.RFC3339))}, nil
		}
		return Verdict{OwnerAlive, fmt.Sprintf("its lease is valid until %s%s", l.ExpiresAt.UTC().Format(time.RFC3339), onHost(l.Holder.Host))}, nil
	}
	if p.WritersHoldLeases() {
		return Verdict{OwnerDead, "it holds no lease, and every writer of this bank takes one"}, nil
	}
	return j.unleasedVerdict(ctx)
}

func onHost(host string) string {
	if host == "" {
		return ""
	}
	return " (host " + host + ")"
}

func (j *judge) unleasedVerdict(ctx context.Context) (Verdict, error) {
	if j.unleased != nil {
		return *j.unleased, nil
	}
	const noLease = "it holds no lease (the Python service takes none on this bank)"
	v := Verdict{OwnerUnknown, noLease + " and there is no evidence whether it is alive"}
	if j.c.evidence != nil {
		hosts, err := j.c.LeasedHosts(ctx)
		if err != nil {
			return Verdict{}, err
		}
		ev, err := j.c.evidence.Unleased(ctx, hosts)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return Verdict{}, ctx.Err()
			}
			v.Reason = noLease + " and the evidence could not be read: " + err.Error()
		case ev.Liveness == 0:
			return Verdict{}, errors.New("bank: evidence gave no verdict")
		default:
			v = Verdict{ev.Liveness, noLease + "; " + ev.Reason}
		}
	}
	j.unleased = &v
	return v, nil
}

// LeasedHosts returns the hosts that hold a lease of ours in the bank
// (expired ones too, and this instance's), sorted.
func (c *Checkpoints) LeasedHosts(ctx context.Context) ([]string, error) {
	leases, err := c.bank.plugin.Leases(ctx)
	if err != nil {
		return nil, fmt.Errorf("bank: list leases: %w", err)
	}
	var hosts []string
	if c.holder.Host != "" {
		hosts = append(hosts, c.holder.Host)
	}
	for _, l := range leases {
		if l.Holder.Host != "" {
			hosts = append(hosts, l.Holder.Host)
		}
	}
	slices.Sort(hosts)
	return slices.Compact(hosts), nil
}

// Unfinished is a checkpoint in progress that another owner left or is
// working on, with what is known of that owner.
type Unfinished struct {
	*Checkpoint
	Owner Verdict
}

// Unfinished returns every checkpoint of the bank (all providers) that is
// in progress (protecting, deleting, copying, wait_copying) and not owned
// by this instance, each with the verdict on its owner. It reads every
// checkpoint's index.json (found through /checkpoints/, so checkpoints
// whose index keys were never written are found too), skipping those it
// cannot decode; meant for recovery.
func (c *Checkpoints) Unfinished(ctx context.Context) ([]Unfinished, error) {
	j := c.newJudge()
	var out []Unfinished
	marker := ""
	for {
		keys, err := c.bank.ListObjects(ctx, ListOptions{Prefix: checkpointsPrefix, Marker: marker, Limit: defaultPage, Delimiter: true})
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			id, isDir := strings.CutSuffix(strings.TrimPrefix(k, checkpointsPrefix), "/")
			if !isDir {
				continue
			}
			cp, err := c.Get(ctx, id)
			var bad *IndexDecodeError
			var version *UnsupportedVersionError
			switch {
			case errors.Is(err, ErrCheckpointNotFound):
				continue // a directory without index.json is no checkpoint
			case errors.As(err, &bad), errors.As(err, &version):
				// Nobody can recover it; or the Python service is
				// rewriting it in place (it truncates, then writes),
				// and the next scan reads it whole.
				continue
			case err != nil:
				return nil, err
			}
			if !InProgress(cp.Status) || cp.OwnerID == c.bank.OwnerID() {
				continue
			}
			v, err := j.owner(ctx, cp.OwnerID)
			if err != nil {
				return nil, err
			}
			out = append(out, Unfinished{Checkpoint: cp, Owner: v})
		}
		if len(keys) < defaultPage {
			return out, nil
		}
		marker = keys[len(keys)-1]
	}
}

// RemoveDeadLeases removes the stored leases of dead owners (expired, or
// left by a previous run of this instance) except those of busy owners,
// which still have checkpoints in progress. It returns the leases removed;
// the error joins what could not be removed.
func (c *Checkpoints) RemoveDeadLeases(ctx context.Context, busy map[string]bool) ([]Lease, error) {
	p := c.bank.plugin
	leases, err := p.Leases(ctx)
	if err != nil {
		return nil, fmt.Errorf("bank: list leases: %w", err)
	}
	now := c.clock()
	var removed []Lease
	var errs []error
	for _, l := range leases {
		if l.OwnerID == p.OwnerID() || busy[l.OwnerID] || (!l.Expired(now) && !c.holder.Supersedes(l)) {
			continue
		}
		if err := p.RemoveLease(ctx, l.OwnerID); err != nil {
			errs = append(errs, fmt.Errorf("bank: remove lease of dead owner %s: %w", l.OwnerID, err))
			continue
		}
		removed = append(removed, l)
	}
	return removed, errors.Join(errs...)
}

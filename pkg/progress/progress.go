// Package progress keeps what the service's operations are doing, for the
// operator: which run, on what, since when, how many of their resources
// are done and in which phase they are; and, for a bounded while, how the
// finished ones ended. The flows update it and the operator's HTTP
// listener reads it (Tracker is an http.Handler serving JSON).
//
// It imports nothing of the module, so any layer may report to it. A nil
// *Tracker and a nil *Operation accept every call and do nothing, so code
// that reports progress never branches on whether anyone reads it.
package progress

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Phases an operation goes through, besides the resource hooks it names
// itself (on_prepare_begin, on_prepare_finish, on_main, on_complete).
const (
	PhaseInitiating = "initiating" // setting the in-progress status
	PhaseCompleting = "completing" // setting the success status
	PhaseReverting  = "reverting"  // a step failed or the run was cancelled
	PhaseEnded      = "ended"
)

// Info says what an operation works on.
type Info struct {
	// Type is protect, restore, verify, delete or copy.
	Type           string `json:"type"`
	ProviderID     string `json:"provider_id"`
	CheckpointID   string `json:"checkpoint_id"`
	RestoreID      string `json:"restore_id,omitempty"`
	VerificationID string `json:"verification_id,omitempty"`
	ProjectID      string `json:"project_id"`
	// ResourcesTotal is how many resources the operation works through.
	ResourcesTotal int `json:"resources_total"`
}

// Defaults of Options.
const (
	defaultKeepFinished = 100
	defaultKeepFor      = time.Hour
)

// Options bound what a Tracker keeps of finished operations.
type Options struct {
	// KeepFinished is how many finished operations are kept at most
	// (100 when 0).
	KeepFinished int
	// KeepFor is how long a finished operation is kept (an hour
	// when 0).
	KeepFor time.Duration
	// Now tells the time (time.Now when nil).
	Now func() time.Time
}

// Tracker holds the running operations and the recently finished ones. It
// is safe for concurrent use.
type Tracker struct {
	opts Options
	seq  atomic.Uint64

	mu       sync.Mutex
	running  map[uint64]*Operation
	finished []View // oldest first
}

// New returns an empty tracker.
func New(opts Options) *Tracker {
	if opts.KeepFinished <= 0 {
		opts.KeepFinished = defaultKeepFinished
	}
	if opts.KeepFor <= 0 {
		opts.KeepFor = defaultKeepFor
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Tracker{opts: opts, running: map[uint64]*Operation{}}
}

// Operation is one tracked operation, from Start to End.
type Operation struct {
	t       *Tracker
	id      uint64
	info    Info
	started time.Time
	done    atomic.Int64

	mu    sync.Mutex
	phase string
	ended bool
}

// Start tracks a new running operation, in phase initiating.
func (t *Tracker) Start(info Info) *Operation {
	if t == nil {
		return nil
	}
	o := &Operation{t: t, id: t.seq.Add(1), info: info, started: t.opts.Now(), phase: PhaseInitiating}
	t.mu.Lock()
	t.running[o.id] = o
	t.mu.Unlock()
	return o
}

// ResourceDone counts one more resource whose part of the operation is
// over.
func (o *Operation) ResourceDone() {
	if o != nil {
		o.done.Add(1)
	}
}

// SetPhase says what the operation does now.
func (o *Operation) SetPhase(phase string) {
	if o == nil {
		return
	}
	o.mu.Lock()
	if !o.ended {
		o.phase = phase
	}
	o.mu.Unlock()
}

// End moves the operation to the finished ones with its final status (as
// karbor names it: available, error, deleted, success, fail…) and, if it
// failed, why. Only the first End counts.
func (o *Operation) End(status string, err error) {
	if o == nil {
		return
	}
	o.mu.Lock()
	if o.ended {
		o.mu.Unlock()
		return
	}
	o.ended = true
	o.phase = PhaseEnded
	o.mu.Unlock()
	t := o.t
	now := t.opts.Now()
	v := o.view()
	v.Status, v.EndedAt = status, &now
	if err != nil {
		v.Error = err.Error()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.running, o.id)
	t.finished = append(t.finished, v)
	t.prune(now)
}

// prune drops finished operations beyond the count or older than KeepFor.
// t.mu is held.
func (t *Tracker) prune(now time.Time) {
	drop := max(0, len(t.finished)-t.opts.KeepFinished)
	for drop < len(t.finished) && now.Sub(*t.finished[drop].EndedAt) > t.opts.KeepFor {
		drop++
	}
	if drop > 0 {
		t.finished = slices.Delete(t.finished, 0, drop)
	}
}

// View is an operation as /operations shows it.
type View struct {
	// ID numbers the operations of this process, in the order they
	// started.
	ID uint64 `json:"id"`
	Info
	StartedAt     time.Time `json:"started_at"`
	ResourcesDone int       `json:"resources_done"`
	Phase         string    `json:"phase"`
	// Status is the final status; "" while running.
	Status  string     `json:"status,omitempty"`
	EndedAt *time.Time `json:"ended_at,omitempty"`
	Error   string     `json:"error,omitempty"`
}

func (o *Operation) view() View {
	o.mu.Lock()
	phase := o.phase
	o.mu.Unlock()
	return View{
		ID: o.id, Info: o.info, StartedAt: o.started.UTC(),
		ResourcesDone: int(min(o.done.Load(), int64(o.info.ResourcesTotal))), Phase: phase,
	}
}

// Snapshot is every tracked operation at one moment.
type Snapshot struct {
	// Running are the running operations, oldest first.
	Running []View `json:"running"`
	// Finished are the finished operations kept, most recent first.
	Finished []View `json:"finished"`
}

// Snapshot returns the tracked operations.
func (t *Tracker) Snapshot() Snapshot {
	s := Snapshot{Running: []View{}, Finished: []View{}}
	if t == nil {
		return s
	}
	t.mu.Lock()
	t.prune(t.opts.Now())
	ops := make([]*Operation, 0, len(t.running))
	for _, o := range t.running {
		ops = append(ops, o)
	}
	for i := len(t.finished) - 1; i >= 0; i-- {
		v := t.finished[i]
		ended := v.EndedAt.UTC()
		v.EndedAt = &ended
		s.Finished = append(s.Finished, v)
	}
	t.mu.Unlock()
	for _, o := range ops {
		s.Running = append(s.Running, o.view())
	}
	slices.SortFunc(s.Running, func(a, b View) int { return cmp.Compare(a.ID, b.ID) })
	return s
}

// ServeHTTP answers GET (and HEAD) with the Snapshot as JSON. The query
// may narrow it: type, checkpoint_id, restore_id, verification_id and
// project_id keep the operations with that value.
func (t *Tracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s := t.Snapshot()
	q := r.URL.Query()
	keep := func(views []View) []View {
		return slices.DeleteFunc(views, func(v View) bool {
			for key, got := range map[string]string{
				"type": v.Type, "checkpoint_id": v.CheckpointID, "restore_id": v.RestoreID,
				"verification_id": v.VerificationID, "project_id": v.ProjectID,
			} {
				if want := q.Get(key); want != "" && !strings.EqualFold(want, got) {
					return true
				}
			}
			return false
		})
	}
	s.Running, s.Finished = keep(s.Running), keep(s.Finished)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(s)
}

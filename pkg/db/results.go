package db

import (
	"maps"
	"sync"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/python"
)

// resultDict is one of the resources_status / resources_reason dicts: keys
// keep the order they were first set in, as a Python dict does, so the JSON
// text is the one json.dumps writes.
type resultDict struct {
	keys []string
	vals map[string]string
}

func (d *resultDict) set(k, v string) {
	if d.vals == nil {
		d.vals = make(map[string]string)
	}
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
}

// json returns the dict as Python's json.dumps writes it (", " and ": "
// separators, non-ASCII escaped), or "" for an empty dict, which karbor
// does not write.
func (d *resultDict) json() string {
	if len(d.keys) == 0 {
		return ""
	}
	b := []byte{'{'}
	for i, k := range d.keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = python.AppendJSONString(b, k)
		b = append(b, ": "...)
		b = python.AppendJSONString(b, d.vals[k])
	}
	return string(append(b, '}'))
}

func (d *resultDict) clone() map[string]string { return maps.Clone(d.vals) }

// target is the in-memory Restore or Verification a flow updates: the
// Python service keeps one object per flow, every hook adds its resource to
// the object's dicts and saves the whole dicts. Hooks run in parallel here,
// so the dicts are merged under mu and each write sends the merged state.
type target struct {
	mu             sync.Mutex
	status, reason resultDict
	// queued is set while a write of this target waits in the queue: later
	// results ride along with it instead of queueing writes of their own.
	queued bool
}

// add merges r and reports whether a write must be queued.
func (t *target) add(r karbor.ResourceResult) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status.set(resultKey(r), r.Status)
	if r.Reason != nil {
		t.reason.set(resultKey(r), *r.Reason)
	}
	queue := !t.queued
	t.queued = true
	return queue
}

// take returns the JSON texts to write now; results added after this get a
// write of their own.
func (t *target) take() (status, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.queued = false
	return t.status.json(), t.reason.json()
}

// unqueue is called when the write add asked for could not be queued.
func (t *target) unqueue() {
	t.mu.Lock()
	t.queued = false
	t.mu.Unlock()
}

type targetKey struct{ table, id string }

// targets holds the targets of the flows that are running. A target is
// dropped when its final status is recorded; a write already queued keeps
// its own reference.
type targets struct {
	mu sync.Mutex
	m  map[targetKey]*target
}

func (ts *targets) get(table, id string) *target {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.m == nil {
		ts.m = make(map[targetKey]*target)
	}
	return entry(ts.m, targetKey{table, id})
}

// entry returns m[k], putting a new V there first if there is none.
func entry[K comparable, V any](m map[K]*V, k K) *V {
	v, ok := m[k]
	if !ok {
		v = new(V)
		m[k] = v
	}
	return v
}

func (ts *targets) drop(table, id string) {
	ts.mu.Lock()
	delete(ts.m, targetKey{table, id})
	ts.mu.Unlock()
}

func (ts *targets) len() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.m)
}

// finalStatus reports a status after which a flow writes no more results.
func finalStatus(status string) bool { return status != karbor.RestoreStatusInProgress }

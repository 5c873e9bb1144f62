package progress

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a settable time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)} }

func TestOperationLifecycle(t *testing.T) {
	c := newClock()
	tr := New(Options{Now: c.Now})
	op := tr.Start(Info{Type: "protect", ProviderID: "p", CheckpointID: "cp1", ProjectID: "proj", ResourcesTotal: 3})

	s := tr.Snapshot()
	require.Len(t, s.Running, 1)
	assert.Equal(t, View{ID: 1, Info: Info{Type: "protect", ProviderID: "p", CheckpointID: "cp1", ProjectID: "proj", ResourcesTotal: 3},
		StartedAt: c.Now(), Phase: PhaseInitiating}, s.Running[0])
	assert.Empty(t, s.Finished)

	op.SetPhase("on_main")
	for range 5 { // more completions than resources never show more than the total
		op.ResourceDone()
	}
	s = tr.Snapshot()
	assert.Equal(t, 3, s.Running[0].ResourcesDone)
	assert.Equal(t, "on_main", s.Running[0].Phase)

	c.advance(time.Second)
	op.End("error", errors.New("boom"))
	op.End("available", nil) // only the first End counts
	op.SetPhase("on_main")   // nor does a phase after the end
	s = tr.Snapshot()
	assert.Empty(t, s.Running)
	require.Len(t, s.Finished, 1)
	f := s.Finished[0]
	assert.Equal(t, "error", f.Status)
	assert.Equal(t, "boom", f.Error)
	assert.Equal(t, PhaseEnded, f.Phase)
	require.NotNil(t, f.EndedAt)
	assert.Equal(t, c.Now(), *f.EndedAt)
}

func TestFinishedAreBounded(t *testing.T) {
	tests := []struct {
		name     string
		ended    int
		advance  time.Duration
		wantKept []string // checkpoint ids, most recent first
	}{
		{"within both bounds", 2, 0, []string{"cp2", "cp1"}},
		{"beyond the count", 5, 0, []string{"cp5", "cp4", "cp3"}},
		{"beyond the age", 2, 2 * time.Minute, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			tr := New(Options{Now: c.Now, KeepFinished: 3, KeepFor: time.Minute})
			for i := 1; i <= tc.ended; i++ {
				tr.Start(Info{CheckpointID: "cp" + string(rune('0'+i))}).End("available", nil)
			}
			c.advance(tc.advance)
			got := []string{}
			for _, v := range tr.Snapshot().Finished {
				got = append(got, v.CheckpointID)
			}
			assert.Equal(t, tc.wantKept, got)
		})
	}
}

func TestNilTrackerAndOperation(t *testing.T) {
	var tr *Tracker
	op := tr.Start(Info{Type: "protect"})
	assert.Nil(t, op)
	op.SetPhase("on_main")
	op.ResourceDone()
	op.End("available", nil)
	assert.Equal(t, Snapshot{Running: []View{}, Finished: []View{}}, tr.Snapshot())
}

func TestConcurrentUpdates(t *testing.T) {
	tr := New(Options{})
	op := tr.Start(Info{Type: "protect", ResourcesTotal: 1000})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 100 {
				op.ResourceDone()
				_ = tr.Snapshot()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1000, tr.Snapshot().Running[0].ResourcesDone)
}

func TestServeHTTP(t *testing.T) {
	c := newClock()
	tr := New(Options{Now: c.Now})
	tr.Start(Info{Type: "protect", CheckpointID: "cp1", ProjectID: "a", ResourcesTotal: 2}).ResourceDone()
	tr.Start(Info{Type: "restore", CheckpointID: "cp0", RestoreID: "r1", ProjectID: "b", ResourcesTotal: 1}).End("success", nil)

	get := func(t *testing.T, method, query string) (*httptest.ResponseRecorder, Snapshot) {
		rec := httptest.NewRecorder()
		tr.ServeHTTP(rec, httptest.NewRequest(method, "/operations"+query, nil))
		var s Snapshot
		if rec.Code == http.StatusOK && method == http.MethodGet {
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &s))
		}
		return rec, s
	}
	t.Run("all", func(t *testing.T) {
		rec, s := get(t, http.MethodGet, "")
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		require.Len(t, s.Running, 1)
		assert.Equal(t, 1, s.Running[0].ResourcesDone)
		require.Len(t, s.Finished, 1)
		assert.Equal(t, "r1", s.Finished[0].RestoreID)
	})
	filters := []struct {
		query            string
		running, finshed int
	}{
		{"?checkpoint_id=cp1", 1, 0},
		{"?restore_id=r1", 0, 1},
		{"?type=PROTECT", 1, 0},
		{"?project_id=b", 0, 1},
		{"?project_id=c", 0, 0},
	}
	for _, f := range filters {
		t.Run(f.query, func(t *testing.T) {
			_, s := get(t, http.MethodGet, f.query)
			assert.Len(t, s.Running, f.running)
			assert.Len(t, s.Finished, f.finshed)
		})
	}
	t.Run("POST is refused", func(t *testing.T) {
		rec, _ := get(t, http.MethodPost, "")
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
	})
}

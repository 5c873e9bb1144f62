package db

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
)

// Memory is a Recorder that keeps what it is told in memory, for the unit
// tests of the packages that record (flows, manager). It validates and
// merges resource results exactly as the SQL recorder does, synchronously.
// Safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	ops     []*OperationRecord
	byID    map[string]*OperationRecord
	targets map[targetKey]*memoryTarget
}

// OperationRecord is an operation_logs row as Memory holds it.
type OperationRecord struct {
	ID string
	karbor.OperationLog
	// Statuses is every status the row had, the one it was created with
	// first (if any); OperationLog.Status stays the initial one.
	Statuses []string
	EndedAt  time.Time // zero until OperationEnded
}

// Status is the row's current status.
func (o OperationRecord) Status() string {
	if len(o.Statuses) == 0 {
		return ""
	}
	return o.Statuses[len(o.Statuses)-1]
}

// TargetRecord is what was recorded for one restores or verifications row.
type TargetRecord struct {
	Statuses        []string          // every status set, in order
	ResourcesStatus map[string]string // "<type>#<id>" → status
	ResourcesReason map[string]string // "<type>#<id>" → reason
	// The JSON texts the SQL recorder writes ("" for an empty dict, which
	// is not written).
	ResourcesStatusJSON, ResourcesReasonJSON string
}

type memoryTarget struct {
	statuses []string
	t        target
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{byID: map[string]*OperationRecord{}, targets: map[targetKey]*memoryTarget{}}
}

func (m *Memory) OperationStarted(_ context.Context, op karbor.OperationLog) (string, error) {
	if err := validateOperation(op); err != nil {
		return "", err
	}
	if op.StartedAt.IsZero() {
		op.StartedAt = now()
	}
	rec := &OperationRecord{ID: uuid.NewString(), OperationLog: op}
	if op.Status != "" {
		rec.Statuses = []string{op.Status}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = append(m.ops, rec)
	m.byID[rec.ID] = rec
	return rec.ID, nil
}

func (m *Memory) OperationStatus(_ context.Context, id, status string) error {
	return m.updateOperation(id, status, false)
}

func (m *Memory) OperationEnded(_ context.Context, id, status string) error {
	return m.updateOperation(id, status, true)
}

func (m *Memory) updateOperation(id, status string, ended bool) error {
	if err := validateStatus("operation_logs", id, status); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.byID[id]
	if !ok {
		return fmt.Errorf("%w: no operation_logs row %q was started", ErrInvalid, id)
	}
	rec.Statuses = append(rec.Statuses, status)
	if ended {
		rec.EndedAt = now()
	}
	return nil
}

func (m *Memory) CheckpointRecovered(_ context.Context, checkpointID, status string, missing *karbor.OperationLog) error {
	if err := validateRecovered(checkpointID, status, missing); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	at := now()
	found := false
	for _, rec := range m.ops {
		if rec.CheckpointID != checkpointID {
			continue
		}
		found = true
		if rec.EndedAt.IsZero() && recoverable(rec.Type) {
			rec.Statuses = append(rec.Statuses, status)
			rec.EndedAt = at
		}
	}
	if !found && missing != nil {
		op := *missing
		if op.StartedAt.IsZero() {
			op.StartedAt = at
		}
		op.Status = status
		rec := &OperationRecord{ID: uuid.NewString(), OperationLog: op, Statuses: []string{status}, EndedAt: at}
		m.ops = append(m.ops, rec)
		m.byID[rec.ID] = rec
	}
	return nil
}

func (m *Memory) RestoreStatus(_ context.Context, id, status string) error {
	return m.setStatus(tableRestores, id, status)
}

func (m *Memory) VerificationStatus(_ context.Context, id, status string) error {
	return m.setStatus(tableVerifications, id, status)
}

func (m *Memory) RestoreResource(_ context.Context, id string, r karbor.ResourceResult) error {
	return m.addResult(tableRestores, id, r)
}

func (m *Memory) VerificationResource(_ context.Context, id string, r karbor.ResourceResult) error {
	return m.addResult(tableVerifications, id, r)
}

func (m *Memory) setStatus(table, id, status string) error {
	if err := validateStatus(table, id, status); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.target(table, id)
	t.statuses = append(t.statuses, status)
	return nil
}

func (m *Memory) addResult(table, id string, r karbor.ResourceResult) error {
	if err := validateResource(table, id, r); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.target(table, id).t.add(r)
	return nil
}

// target returns the entry for a row; m.mu is held.
func (m *Memory) target(table, id string) *memoryTarget {
	return entry(m.targets, targetKey{table, id})
}

// Operations returns the operation_logs rows in the order they were started.
func (m *Memory) Operations() []OperationRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]OperationRecord, len(m.ops))
	for i, o := range m.ops {
		out[i] = *o
		out[i].Statuses = slices.Clone(o.Statuses)
	}
	return out
}

// Operation returns one operation_logs row.
func (m *Memory) Operation(id string) (OperationRecord, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.byID[id]
	if !ok {
		return OperationRecord{}, false
	}
	rec := *o
	rec.Statuses = slices.Clone(o.Statuses)
	return rec, true
}

// Restore returns what was recorded for a restores row.
func (m *Memory) Restore(id string) (TargetRecord, bool) { return m.record(tableRestores, id) }

// Verification returns what was recorded for a verifications row.
func (m *Memory) Verification(id string) (TargetRecord, bool) {
	return m.record(tableVerifications, id)
}

func (m *Memory) record(table, id string) (TargetRecord, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.targets[targetKey{table, id}]
	if !ok {
		return TargetRecord{}, false
	}
	t.t.mu.Lock()
	defer t.t.mu.Unlock()
	return TargetRecord{
		Statuses:            slices.Clone(t.statuses),
		ResourcesStatus:     t.t.status.clone(),
		ResourcesReason:     t.t.reason.clone(),
		ResourcesStatusJSON: t.t.status.json(),
		ResourcesReasonJSON: t.t.reason.json(),
	}, true
}

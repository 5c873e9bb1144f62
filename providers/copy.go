package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/gokarbor/karbor-protection/bank"
	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/python"
	"github.com/gokarbor/karbor-protection/providers/graph"
)

// CopyPair is one element of the copy RPC's answer: a protected checkpoint
// and the copy made of it.
type CopyPair struct {
	CheckpointProtectID string `json:"checkpoint_protect_id"`
	CheckpointCopyID    string `json:"checkpoint_copy_id"`
}

// BuildCopy is the synchronous part of the copy RPC after the manager listed
// the plan's checkpoints (docs/karbor-behaviour.md#copy, #copy-flow). For
// every source checkpoint that
// is available and not itself a finished copy (extra_info copy_status
// "finished"), it creates a copy checkpoint from the plan (status
// wait_copying, extra_info {}), stores the plan's resource graph in it,
// inserts its operation-log row (type copy) and builds its flow
// (copySteps). Running the
// Operation runs the copies one after the other, each wait_copying → copying
// → available with extra_info {"copy_status": "finished"}, or → error.
//
// The pairs are returned in source order ([] when nothing is eligible). The
// graph is built once for all copies. Errors, as the manager reports them
// (FlowError(flow="copy", error=<message or "Internal error">)): a failure
// to create the copies is returned as is; a failure to build the graph or a
// flow is already a FlowError(flow="copy"), as Python's create_flows raises
// it, so that the reply reads "Flow: copy, Error: Flow: copy, Error: …".
// Either way every copy made by the call is left in status error, not
// wait_copying for ever as in Python.
func (b *Builder) BuildCopy(ctx context.Context, rc *karbor.RequestContext, p *Provider, plan *karbor.Plan, sources []*bank.Checkpoint) (*Operation, []CopyPair, error) {
	op := &Operation{op: OpCopy, provider: p.id, workers: b.workers, progress: b.progress}
	pairs := []CopyPair{}
	var eligible []*bank.Checkpoint
	for _, src := range sources {
		if src.Status == bank.StatusAvailable && copyStatus(src.ExtraInfo) != bank.StatusCopyFinished {
			eligible = append(eligible, src)
		}
	}
	if len(eligible) == 0 {
		return op, pairs, nil
	}
	ctx = opContext(ctx, OpCopy, p, "")
	g, err := b.graphs.BuildGraph(ctx, rc, graph.FromPlan(plan.Resources))
	if err != nil {
		return nil, nil, copyFlowError(err)
	}
	packed, err := g.Pack()
	if err != nil {
		return nil, nil, copyFlowError(err)
	}
	copies, err := b.createCopies(ctx, p, plan, len(eligible))
	if err != nil {
		return nil, nil, err
	}
	all := make([]checkpointSteps, len(copies))
	for i, c := range copies {
		all[i] = checkpointSteps{op: OpCopy, cps: p.checkpoints, id: c.ID, log: b.newLog()}
	}
	for i, src := range eligible {
		f, err := b.copyFlow(opContext(ctx, OpCopy, p, copies[i].ID), rc, p, plan, g, packed, src, copies[i], all[i])
		if err != nil {
			// Every copy this call made fails, with its operation-log row
			// if it has one.
			for i, c := range copies {
				abandonBuild(opContext(ctx, OpCopy, p, c.ID), err, all[i].fail)
			}
			return nil, nil, copyFlowError(err)
		}
		op.flows = append(op.flows, f)
		pairs = append(pairs, CopyPair{CheckpointProtectID: src.ID, CheckpointCopyID: copies[i].ID})
	}
	return op, pairs, nil
}

// copyFlowError is the FlowError Python's create_flows raises.
func copyFlowError(err error) error {
	return fmt.Errorf("providers: build copy flows: %w (%w)", karbor.FlowError(string(OpCopy), pythonMessage(err)), err)
}

// createCopies creates n copy checkpoints of a plan; on a failure the ones
// made are set to error.
func (b *Builder) createCopies(ctx context.Context, p *Provider, plan *karbor.Plan, n int) ([]*bank.Checkpoint, error) {
	copies := make([]*bank.Checkpoint, 0, n)
	for range n {
		c, err := createCheckpoint(ctx, p, plan, bank.StatusWaitCopying, json.RawMessage("{}"))
		if err != nil {
			for _, made := range copies {
				abandonBuild(opContext(ctx, OpCopy, p, made.ID), err, checkpointSteps{op: OpCopy, cps: p.checkpoints, id: made.ID, log: b.newLog()}.fail)
			}
			return nil, fmt.Errorf("providers: create copy checkpoint of plan %s: %w", plan.ID, err)
		}
		copies = append(copies, c)
	}
	return copies, nil
}

// copyFlow builds the flow copying src into cp.
func (b *Builder) copyFlow(ctx context.Context, rc *karbor.RequestContext, p *Provider, plan *karbor.Plan, g graph.Graph, packed string, src, cp *bank.Checkpoint, s checkpointSteps) (*operationFlow, error) {
	cp, err := p.checkpoints.SetResourceGraph(ctx, cp.ID, packed)
	if err != nil {
		return nil, err
	}
	s.log.start(ctx, checkpointLog(cp, karbor.OperationCopy))
	return newFlow(ctx, p, g, plan.Parameters, HookArgs{
		Op: OpCopy, Request: rc, OperationLogID: s.log.id,
		Checkpoint:     &CheckpointRef{cps: p.checkpoints, cp: src},
		CheckpointCopy: &CheckpointRef{cps: p.checkpoints, cp: cp, writable: true},
	}, namesOf(OpCopy, plan.ID, src.ID, cp.ID), cp.ID, s.log, s)
}

// extraInfoObject reads a checkpoint's extra_info as the Python flows do: a
// JSON string holding a JSON object (an object stored as such is taken as
// it is). Empty, null, {} and unreadable values give an empty dict.
func extraInfoObject(extra json.RawMessage) *python.Dict {
	raw := bytes.TrimSpace(extra)
	var text string
	if json.Unmarshal(raw, &text) == nil {
		raw = []byte(text)
	}
	d, err := python.LoadDict(raw)
	if err != nil {
		return &python.Dict{}
	}
	return d
}

// copyStatus is extra_info's copy_status, "" when it has none.
func copyStatus(extra json.RawMessage) string {
	var s string
	if raw, ok := extraInfoObject(extra).Get("copy_status"); ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// markCopyFinished returns extra_info with copy_status "finished" set (in
// its place, or added last), as the JSON string Python's CompleteCopyTask
// stores.
func markCopyFinished(extra json.RawMessage) (json.RawMessage, error) {
	d := extraInfoObject(extra)
	d.Set("copy_status", json.RawMessage(`"`+bank.StatusCopyFinished+`"`))
	text, err := d.AppendJSON(nil)
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(text))
}

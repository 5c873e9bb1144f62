package providers

import (
	"strings"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/progress"
	"github.com/gokarbor/karbor-protection/taskflow"
)

// flowInfo is what the progress tracker shows of one operation flow on
// checkpointID over count resources.
func flowInfo(p *Provider, args HookArgs, checkpointID string, count int) progress.Info {
	info := progress.Info{Type: string(args.Op), ProviderID: p.id, CheckpointID: checkpointID, ResourcesTotal: count}
	switch {
	case args.Restore != nil:
		info.RestoreID, info.ProjectID = args.Restore.ID, args.Restore.ProjectID
	case args.Verification != nil:
		info.VerificationID, info.ProjectID = args.Verification.ID, args.Verification.ProjectID
	case args.CheckpointCopy != nil:
		info.ProjectID = args.CheckpointCopy.cp.ProjectID
	case args.Checkpoint != nil:
		info.ProjectID = args.Checkpoint.cp.ProjectID
	}
	return info
}

// finalStatus is the status an operation of kind op ends with: the
// checkpoint's (available, deleted; error, error-deleting) or the restore's
// or verification's (success; fail).
func finalStatus(op Op, ok bool) string {
	if st, isCheckpoint := checkpointStatuses[op]; isCheckpoint {
		if ok {
			return st.done
		}
		return st.failed
	}
	if ok {
		return karbor.RestoreStatusSuccess
	}
	return karbor.RestoreStatusFailure
}

// flowProgress is the listener that reports one flow's run to its tracked
// operation: the phase (Initiate, the furthest hook any resource started,
// Complete, or the revert) and one resource done each time a resource's
// last hook, on_complete, succeeds. It matches tasks by karbor's task
// names (<op>_<hook>_<type>_<id>), which resourceFlow gives every hook
// task; the engine calls it under its lock, so it does no more than
// compare prefixes.
type flowProgress struct {
	op       *progress.Operation
	complete string
	hooks    [len(hookNames)]string // "<op>_<hook>_" of each hook
	reached  int                    // the furthest hook started, -1 before any
}

func newFlowProgress(op *progress.Operation, kind Op, f *operationFlow) *flowProgress {
	l := &flowProgress{op: op, complete: f.complete, reached: -1}
	for h, name := range hookNames {
		l.hooks[h] = string(kind) + "_" + name + "_"
	}
	return l
}

func (l *flowProgress) FlowChanged(e taskflow.FlowEvent) {
	if e.To == taskflow.Reverting {
		l.op.SetPhase(progress.PhaseReverting)
	}
}

func (l *flowProgress) TaskChanged(e taskflow.TaskEvent) {
	switch e.To {
	case taskflow.Success:
		if strings.HasPrefix(e.Task, l.hooks[hookComplete]) {
			l.op.ResourceDone()
		}
	case taskflow.Running:
		if e.Task == l.complete {
			l.op.SetPhase(progress.PhaseCompleting)
			return
		}
		for h := l.reached + 1; h < len(l.hooks); h++ {
			if strings.HasPrefix(e.Task, l.hooks[h]) {
				l.reached = h
				l.op.SetPhase(hookNames[h])
				return
			}
		}
	}
}

package taskflow

import "strconv"

// State is where a task, or a flow, is in its life. The names are
// TaskFlow's, so logs read the same as the Python service's.
//
// A task goes Pending → Running → Success or Failure; when the flow is
// reverted, a task that ran goes on to Reverting → Reverted or
// RevertFailure. A task that never started stays Pending.
//
// A flow goes Pending → Running → Success, or Running → Reverting →
// Reverted (every revert succeeded) or RevertFailure (some did not).
type State uint8

// States of tasks and flows.
const (
	Pending State = iota
	Running
	Success
	Failure
	Reverting
	Reverted
	RevertFailure
)

var stateNames = [...]string{"PENDING", "RUNNING", "SUCCESS", "FAILURE", "REVERTING", "REVERTED", "REVERT_FAILURE"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// TaskEvent is one transition of one task.
type TaskEvent struct {
	Flow     string // the compiled flow's name
	Task     string
	From, To State
	// Result is what Execute returned (To == Success).
	Result any
	// Err is the failure (To == Failure or RevertFailure).
	Err error
}

// FlowEvent is one transition of the flow.
type FlowEvent struct {
	Flow     string
	From, To State
	// Err is why the flow reverts (To == Reverting) or how it ended.
	Err error
}

// Listener observes a run. Its methods are called synchronously, as each
// transition happens, one call at a time (never concurrently, so a listener
// needs no lock of its own), in the order the transitions happen; every
// transition is reported once. The calls come from the engine's worker
// goroutines while the engine holds its lock: a listener that does slow work
// holds up scheduling and should hand events to a goroutine of its own. A
// listener that panics ends the run: nothing new starts, what ran is
// reverted, no more events are sent, and Run panics with a *PanicError.
// Listeners may not call back into the run, nor call runtime.Goexit
// (t.FailNow): the engine's lock is held.
type Listener interface {
	FlowChanged(FlowEvent)
	TaskChanged(TaskEvent)
}

// ListenerFuncs is a Listener made of callbacks; either may be nil.
type ListenerFuncs struct {
	Flow func(FlowEvent)
	Task func(TaskEvent)
}

// FlowChanged calls l.Flow.
func (l ListenerFuncs) FlowChanged(e FlowEvent) {
	if l.Flow != nil {
		l.Flow(e)
	}
}

// TaskChanged calls l.Task.
func (l ListenerFuncs) TaskChanged(e TaskEvent) {
	if l.Task != nil {
		l.Task(e)
	}
}

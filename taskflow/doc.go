// Package taskflow runs graphs of tasks with revert on failure, in the
// manner of OpenStack TaskFlow, which the Python karbor-protection service
// runs its operations on. It has what karbor needs and nothing else: no
// persistence, no retries, no remote workers.
//
// # Tasks
//
// A Task has a unique name, an Execute and optionally a Revert (the Reverter
// interface). NewTask makes one from functions. TaskFlow also passes values
// between tasks (requires, provides, a store); karbor's flows pass none, so
// this engine has no data flow: a task carries what it needs.
//
// # Flows
//
// Linear runs its items in order, Unordered runs them independently, Graph
// orders them by explicit links (Graph.Link). Items are tasks or flows, nested to any depth. An item that is a flow acts
// as one unit in its parent: when a linear flow or a link orders A before B,
// every task of A finishes before any task of B starts.
//
// Links join items of one graph flow: two tasks of the graph (what karbor's
// resource graph does with its four hooks per resource), a task and a nested
// flow, or two nested flows. A link may not reach into a nested flow: to
// order something after one task inside a subflow, link the subflow, or
// restructure. This keeps each flow's own ordering self-contained, as
// TaskFlow does, and a bad link is reported by Compile, naming the flow that
// holds the task.
//
// # Compiling
//
// Compile checks a flow and turns it into a graph of tasks, reporting every
// problem at once in a *CompileError: duplicate task names, a bad link, a
// cycle (naming the items on it). No pass is quadratic: compiling is about
// linear in tasks plus links, and where "all of A before all of B" would
// need |A|·|B| edges, a barrier node (run by the scheduler itself, never
// reported) joins them. A compiled flow is immutable, may be run many
// times, concurrently, and can be written out as Graphviz DOT (WriteDOT).
//
// # Running
//
// Run executes a compiled flow on a pool of Workers goroutines: a task
// starts as soon as everything it depends on has succeeded. On the first
// failure — an error, a panic (a *PanicError with the stack), or the context
// being cancelled — nothing new starts, running tasks finish, and the flow
// is reverted as TaskFlow does: the failed tasks' Revert gets their failure,
// every completed task's Revert gets its result, a task without Revert is
// just marked reverted, and a task reverts only after every task that ran
// after it has reverted. So the first task of a linear flow (karbor's
// Initiate task, whose revert marks the checkpoint "error") reverts last.
// Independent branches revert in parallel, under a context that is not
// cancelled with the run's. A failed revert is reported in the Result and
// its error, and, unlike TaskFlow, does not stop the reverts of the tasks
// before it: those still run, so that the operation's status is recorded.
// Tasks that never started stay Pending and are not reverted.
//
// # Observing
//
// Listeners (WithListener) see the flow's transitions and every task's
// (Pending → Running → Success or Failure → Reverting → Reverted or
// RevertFailure), each once, in order, synchronously and one call at a
// time. The Result tells what failed, what every revert did, and each
// task's final state.
//
// # Scheduling
//
// There is no scheduler goroutine: the workers schedule for themselves under
// one lock. A worker that finishes a task records it, releases the tasks
// that were waiting only for it, and takes the next ready task itself, so
// following a task costs no hand-off between goroutines; idle workers are
// woken only when there is more ready work than running workers.
package taskflow

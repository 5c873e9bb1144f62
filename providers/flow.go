package providers

import (
	"context"

	"github.com/sirupsen/logrus"

	"github.com/gokarbor/karbor-protection/pkg/karbor"
	"github.com/gokarbor/karbor-protection/pkg/logctx"
	"github.com/gokarbor/karbor-protection/providers/graph"
	"github.com/gokarbor/karbor-protection/taskflow"
)

// The four hooks, in order, named as in karbor's task names.
const (
	hookPrepareBegin = iota
	hookPrepareFinish
	hookMain
	hookComplete
)

var hookNames = [4]string{"on_prepare_begin", "on_prepare_finish", "on_main", "on_complete"}

// resourceTasks are one resource's four hook tasks and their arguments.
type resourceTasks struct {
	hooks Hooks
	args  HookArgs
	tasks [4]hookTask
}

// hookTask runs one hook of one resource with the resource's HookArgs.
type hookTask struct {
	name string
	hook int
	res  *resourceTasks
}

var _ taskflow.Task = (*hookTask)(nil)

func (t *hookTask) Name() string { return t.name }
func (t *hookTask) Execute(ctx context.Context) (any, error) {
	a, h := &t.res.args, t.res.hooks
	switch t.hook {
	case hookPrepareBegin:
		return nil, h.OnPrepareBegin(ctx, a)
	case hookPrepareFinish:
		return nil, h.OnPrepareFinish(ctx, a)
	case hookMain:
		return nil, h.OnMain(ctx, a)
	}
	return nil, h.OnComplete(ctx, a)
}

// Revert calls the hooks' Reverter on the revert of the resource's first
// step, which the engine reverts after every other step of the resource.
func (t *hookTask) Revert(ctx context.Context, _ taskflow.Outcome) error {
	if r, ok := t.res.hooks.(Reverter); ok && t.hook == hookPrepareBegin {
		return r.Revert(ctx, &t.res.args)
	}
	return nil
}

// resourceFlow builds the graph flow "ResourceGraphFlow_<op>" of an
// operation over a resource graph, as karbor's build_resource_flow
// (karbor/services/protection/resource_flow.py) does
// (docs/karbor-behaviour.md#hooks-and-their-ordering): four tasks per resource, <op>_<hook>_<type>_<id>, linked
// prepare_begin → prepare_finish → main → complete; and for every parent P
// and child C: P.prepare_begin → C.prepare_begin, C.prepare_finish →
// P.prepare_finish, C.complete → P.complete. A resource met several times
// (a child of several parents) has one set of tasks, linked to every
// parent. base holds the arguments every hook gets; each resource's copy
// adds the resource and its parameters. It also returns how many resources
// the flow works through.
//
// Resources are met in depth-first pre-order from the roots; the first whose
// type has no plugin in the provider is ProtectionPluginNotFound, the first
// whose plugin lacks the operation is its Hooks error (ErrNotImplemented).
//
// A delete is the exception: a resource whose type has no plugin (its
// protect failed for that reason, or the plugin was removed from the
// provider since) has nothing a plugin could delete, so it gets hooks that
// do nothing, keeping the order of its parents and children, and a
// warning. Python fails to build the delete flow, and the checkpoint can
// then never be deleted.
func resourceFlow(ctx context.Context, p *Provider, op Op, g graph.Graph, params karbor.Parameters, base HookArgs) (*taskflow.Graph, int, error) {
	nodes := g.Nodes()
	flow := taskflow.NewGraph("ResourceGraphFlow_" + string(op))
	all := make([]resourceTasks, len(nodes))
	byKey := make(map[graph.Key]*resourceTasks, len(nodes))
	used := 0
	for _, n := range nodes {
		r := n.Resource
		if _, ok := byKey[r.Key()]; ok {
			continue
		}
		hooks, err := resourceHooks(ctx, p, op, r)
		if err != nil {
			return nil, 0, err
		}
		if hooks == nil {
			hooks = BaseHooks{}
		}
		rt := &all[used]
		used++
		byKey[r.Key()] = rt
		rt.hooks = hooks
		rt.args = base
		rt.args.Resource = r
		rt.args.Parameters = params.For(r.Type, r.ID)
		for h := range rt.tasks {
			rt.tasks[h] = hookTask{name: string(op) + "_" + hookNames[h] + "_" + r.Type + "_" + r.ID, hook: h, res: rt}
			flow.Add(&rt.tasks[h])
			if h > 0 {
				flow.Link(&rt.tasks[h-1], &rt.tasks[h])
			}
		}
	}
	for _, n := range nodes {
		parent := byKey[n.Resource.Key()]
		for _, c := range n.Children {
			child := byKey[c.Resource.Key()]
			flow.Link(&parent.tasks[hookPrepareBegin], &child.tasks[hookPrepareBegin])
			flow.Link(&child.tasks[hookPrepareFinish], &parent.tasks[hookPrepareFinish])
			flow.Link(&child.tasks[hookComplete], &parent.tasks[hookComplete])
		}
	}
	return flow, used, nil
}

// resourceHooks are the hooks of operation op for resource r (see
// resourceFlow for a delete without plugin).
func resourceHooks(ctx context.Context, p *Provider, op Op, r graph.Resource) (Hooks, error) {
	plugin, err := p.Plugin(r.Type)
	if err != nil {
		if op != OpDelete {
			return nil, err
		}
		logctx.From(ctx).WithFields(logrus.Fields{"resource_type": r.Type, "resource_id": r.ID}).
			Warn("No protection plugin for this resource type; the delete skips the resource")
		return BaseHooks{}, nil
	}
	return plugin.Hooks(op, r)
}

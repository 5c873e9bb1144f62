package taskflow_test

import (
	"context"
	"fmt"

	"github.com/gokarbor/karbor-protection/taskflow"
)

// resource is a node of a karbor resource graph, for flows shaped like
// karbor's: four linked hook tasks per resource
// (docs/karbor-behaviour.md#hooks-and-their-ordering).
type resource struct {
	typ, id string
	parent  int // index of the parent resource, -1 for a root
}

// resourceForest returns n resources: servers, each the parent of the two
// volumes that follow it.
func resourceForest(n int) []resource {
	rs := make([]resource, n)
	for i := range rs {
		if i%3 == 0 {
			rs[i] = resource{typ: "OS::Nova::Server", id: fmt.Sprintf("server-%d", i), parent: -1}
		} else {
			rs[i] = resource{typ: "OS::Cinder::Volume", id: fmt.Sprintf("volume-%d", i), parent: i - i%3}
		}
	}
	return rs
}

var hookNames = [4]string{"on_prepare_begin", "on_prepare_finish", "on_main", "on_complete"}

// protectFlow builds what karbor builds for a protect: Initiate, then a
// graph flow of four hooks per resource (linked along the resource graph),
// then Complete. Every task runs body. It returns the tasks too.
func protectFlow(rs []resource, body taskflow.ExecuteFunc) (*taskflow.Linear, []taskflow.Task) {
	g := taskflow.NewGraph("ResourceGraphFlow_protect")
	hooks := make([][4]taskflow.Task, len(rs))
	for i, r := range rs {
		for h, hook := range hookNames {
			hooks[i][h] = taskflow.NewTask(
				fmt.Sprintf("protect_%s_%s_%s", hook, r.typ, r.id), body)
			g.Add(hooks[i][h])
		}
		for h := 1; h < 4; h++ {
			g.Link(hooks[i][h-1], hooks[i][h])
		}
	}
	for i, r := range rs {
		if r.parent < 0 {
			continue
		}
		parent, child := hooks[r.parent], hooks[i]
		g.Link(parent[0], child[0])
		g.Link(child[1], parent[1])
		g.Link(child[3], parent[3])
	}
	initiate := taskflow.NewTask("InitiateProtectTask", body,
		taskflow.OnRevert(func(context.Context, taskflow.Outcome) error { return nil }))
	complete := taskflow.NewTask("CompleteProtectTask", body)
	all := []taskflow.Task{initiate}
	for _, h := range hooks {
		all = append(all, h[:]...)
	}
	return taskflow.NewLinear("Protect_plan", initiate, g, complete), append(all, complete)
}

func noop(context.Context) (any, error) { return nil, nil }

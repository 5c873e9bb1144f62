package taskflow_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/gokarbor/karbor-protection/taskflow"
)

// A protect-like operation: Initiate, the resource hooks, Complete. A hook
// fails, so Initiate's revert (which marks the checkpoint "error" in
// karbor) runs, last.
func Example() {
	checkpoint := "cp-1" // a task carries what it needs
	initiate := taskflow.NewTask("initiate",
		func(context.Context) (any, error) {
			fmt.Println(checkpoint, "protecting")
			return nil, nil
		},
		taskflow.OnRevert(func(_ context.Context, out taskflow.Outcome) error {
			fmt.Println(checkpoint, "error:", out.Cause)
			return nil
		}))
	main := taskflow.NewTask("protect_on_main_volume-1", func(context.Context) (any, error) {
		return nil, errors.New("volume unavailable")
	})
	complete := taskflow.NewTask("complete", func(context.Context) (any, error) {
		fmt.Println(checkpoint, "available")
		return nil, nil
	})
	flow := taskflow.NewLinear("protect", initiate, taskflow.NewGraph("resources", main), complete)

	compiled, err := taskflow.Compile(flow)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := compiled.Run(context.Background())
	fmt.Println(res.State)
	fmt.Println(err)
	// Output:
	// cp-1 protecting
	// cp-1 error: task "protect_on_main_volume-1" failed: volume unavailable
	// REVERTED
	// taskflow: flow "protect" REVERTED: task "protect_on_main_volume-1" failed: volume unavailable
}

func ExampleGraph_Link() {
	begin := taskflow.NewTask("prepare_begin", nil)
	finish := taskflow.NewTask("prepare_finish", nil)
	g := taskflow.NewGraph("resources", begin, finish)
	g.Link(begin, finish)
	compiled, err := taskflow.Compile(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = compiled.WriteDOT(os.Stdout)
	// Output:
	// digraph "resources" {
	// 	label="resources (graph)";
	// 	node [shape=box];
	// 	n0 [label="prepare_begin"];
	// 	n1 [label="prepare_finish"];
	// 	n0 -> n1;
	// }
}

package taskflow_test

import (
	"fmt"
	"testing"

	"github.com/gokarbor/karbor-protection/taskflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func task(name string, opts ...taskflow.TaskOption) taskflow.Task {
	return taskflow.NewTask(name, nil, opts...)
}

type notATask struct{}

func (notATask) Name() string { return "odd" }

type embeddedFlow struct{ *taskflow.Linear }

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		flow func() taskflow.Flow
		kind error
		msg  string
	}{
		{
			name: "cycle of links",
			flow: func() taskflow.Flow {
				a, b, c := task("a"), task("b"), task("c")
				g := taskflow.NewGraph("g", a, b, c)
				g.Link(a, b)
				g.Link(b, c)
				g.Link(c, a)
				return g
			},
			kind: taskflow.ErrCycle, msg: `cycle in graph flow "g": "a" -> "b" -> "c" -> "a"`,
		},
		{
			name: "task linked to itself",
			flow: func() taskflow.Flow {
				a := task("a")
				g := taskflow.NewGraph("g", a)
				g.Link(a, a)
				return g
			},
			kind: taskflow.ErrCycle, msg: `cycle in graph flow "g": "a" -> "a"`,
		},
		{
			name: "cycle of nested flows",
			flow: func() taskflow.Flow {
				l1, l2 := taskflow.NewLinear("l1", task("a")), taskflow.NewLinear("l2", task("b"))
				g := taskflow.NewGraph("g", l1, l2)
				g.Link(l1, l2)
				g.Link(l2, l1)
				return taskflow.NewLinear("root", g)
			},
			kind: taskflow.ErrCycle, msg: `cycle in graph flow "g": flow "l1" -> flow "l2" -> flow "l1"`,
		},
		{
			name: "duplicate task name",
			flow: func() taskflow.Flow {
				return taskflow.NewLinear("f", task("a"), taskflow.NewUnordered("u", task("a")))
			},
			kind: taskflow.ErrDuplicateName, msg: `"a" is in flow "f" and in flow "u"`,
		},
		{
			name: "link to a task outside the flow",
			flow: func() taskflow.Flow {
				a := task("a")
				g := taskflow.NewGraph("g", a)
				g.Link(a, task("elsewhere"))
				return g
			},
			kind: taskflow.ErrBadLink,
			msg:  `graph flow "g": link "a" -> "elsewhere": task "elsewhere" is not in the compiled flow`,
		},
		{
			name: "link into a nested flow",
			flow: func() taskflow.Flow {
				a, b := task("a"), task("b")
				g := taskflow.NewGraph("g", a, taskflow.NewLinear("l", b))
				g.Link(a, b)
				return g
			},
			kind: taskflow.ErrBadLink,
			msg:  `task "b" is not an item of this graph (it is in flow "l"); link the item that holds it`,
		},
		{
			name: "link to a flow of another graph",
			flow: func() taskflow.Flow {
				a, inner := task("a"), taskflow.NewLinear("inner", task("b"))
				g := taskflow.NewGraph("g", a)
				g.Link(inner, a)
				return taskflow.NewLinear("root", g, taskflow.NewUnordered("u", inner))
			},
			kind: taskflow.ErrBadLink,
			msg:  `flow "inner" is not an item of this graph (it is in flow "u")`,
		},
		{
			name: "link to nil",
			flow: func() taskflow.Flow {
				a := task("a")
				g := taskflow.NewGraph("g", a)
				g.Link(a, nil)
				return g
			},
			kind: taskflow.ErrBadLink, msg: `link "a" -> <nil>: nil end`,
		},
		{
			name: "link to a nil flow",
			flow: func() taskflow.Flow {
				var l *taskflow.Linear
				a := task("a")
				g := taskflow.NewGraph("g", a)
				g.Link(l, a)
				return g
			},
			kind: taskflow.ErrBadLink, msg: `link <nil> -> "a": nil end`,
		},
		{
			name: "link to something neither task nor flow",
			flow: func() taskflow.Flow {
				a := task("a")
				g := taskflow.NewGraph("g", a)
				g.Link(a, notATask{})
				return g
			},
			kind: taskflow.ErrBadLink, msg: `link "a" -> "odd": taskflow_test.notATask is neither a Task nor a Flow`,
		},
		{
			name: "nil item",
			flow: func() taskflow.Flow { return taskflow.NewLinear("f", task("a"), nil) },
			kind: taskflow.ErrInvalidFlow, msg: `item 1 of flow "f" is nil`,
		},
		{
			name: "item neither task nor flow",
			flow: func() taskflow.Flow { return taskflow.NewLinear("f", notATask{}) },
			kind: taskflow.ErrInvalidFlow, msg: `item 0 of flow "f" (taskflow_test.notATask) is neither a Task nor a Flow`,
		},
		{
			name: "flow holding itself",
			flow: func() taskflow.Flow {
				l := taskflow.NewLinear("loop")
				l.Add(taskflow.NewUnordered("u", l))
				return l
			},
			kind: taskflow.ErrInvalidFlow, msg: `flow "loop" contains itself`,
		},
		{
			name: "flow added twice",
			flow: func() taskflow.Flow {
				u := taskflow.NewUnordered("u", task("a"))
				return taskflow.NewLinear("f", u, u)
			},
			kind: taskflow.ErrInvalidFlow, msg: `flow "u" is added twice`,
		},
		{
			name: "task without a name",
			flow: func() taskflow.Flow { return taskflow.NewLinear("f", task("")) },
			kind: taskflow.ErrInvalidFlow, msg: `a task in flow "f" has no name`,
		},
		{
			name: "foreign flow type",
			flow: func() taskflow.Flow {
				return taskflow.NewLinear("f", embeddedFlow{taskflow.NewLinear("mine")})
			},
			kind: taskflow.ErrInvalidFlow, msg: `a taskflow_test.embeddedFlow is not a flow Compile knows`,
		},
		{
			name: "nil flow of a known type",
			flow: func() taskflow.Flow {
				var g *taskflow.Graph
				return taskflow.NewLinear("f", g)
			},
			kind: taskflow.ErrInvalidFlow, msg: `a *taskflow.Graph is not a flow Compile knows (nil, or not made by NewLinear, NewUnordered or NewGraph)`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := taskflow.Compile(tc.flow())
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, tc.kind)
			assert.ErrorContains(t, err, tc.msg)
			var ce *taskflow.CompileError
			require.ErrorAs(t, err, &ce)
			assert.Len(t, ce.Problems, 1, "%v", err)
		})
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	f, again := taskflow.NewUnordered("wide"), taskflow.NewUnordered("again")
	for i := range 25 {
		f.Add(task(fmt.Sprintf("t%02d", i)))
		again.Add(task(fmt.Sprintf("t%02d", i)))
	}
	f.Add(again)
	_, err := taskflow.Compile(f)
	var ce *taskflow.CompileError
	require.ErrorAs(t, err, &ce)
	assert.Len(t, ce.Problems, 25)
	assert.Contains(t, err.Error(), `taskflow: flow "wide" does not compile: duplicate task name: "t00" is in flow "wide" and in flow "again"`)
	assert.Contains(t, err.Error(), `; and 5 more`)
	assert.NotContains(t, err.Error(), `"t20"`)
}

func TestCompileNilFlow(t *testing.T) {
	_, err := taskflow.Compile(nil)
	assert.ErrorIs(t, err, taskflow.ErrInvalidFlow)
}

func TestCompiledLen(t *testing.T) {
	c := mustCompile(t, taskflow.NewLinear("f", task("a"), taskflow.NewUnordered("u", task("b"), task("c"))))
	assert.Equal(t, 3, c.Len())
	assert.Equal(t, "f", c.Name())
}

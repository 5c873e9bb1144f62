package taskflow

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteDOT writes the compiled graph in Graphviz DOT: one box per task, each
// flow a cluster labelled with its name and kind, barriers (nodes that only
// join "all of these before all of those") as points, and every edge. The
// output depends only on the flow, never on map order, so it can be golden
// tested.
func (c *Compiled) WriteDOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	owned := make([][]int32, len(c.flows))
	for b, fi := range c.barriers {
		owned[fi] = append(owned[fi], int32(len(c.tasks)+b))
	}
	fmt.Fprintf(bw, "digraph %s {\n", dotQuote(c.name))
	fmt.Fprintf(bw, "\tlabel=%s;\n\tnode [shape=box];\n", dotQuote(c.flowLabel(0)))
	c.writeFlow(bw, 0, owned, "\t")
	for i := range c.nodes() {
		for _, s := range c.succ[c.succOff[i]:c.succOff[i+1]] {
			fmt.Fprintf(bw, "\tn%d -> n%d;\n", i, s)
		}
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

func (c *Compiled) writeFlow(w *bufio.Writer, fi int32, owned [][]int32, indent string) {
	for _, it := range c.flows[fi].items {
		if it.flow < 0 {
			fmt.Fprintf(w, "%sn%d [label=%s];\n", indent, it.task, dotQuote(c.tasks[it.task].name))
			continue
		}
		fmt.Fprintf(w, "%ssubgraph cluster_%d {\n", indent, it.flow)
		fmt.Fprintf(w, "%s\tlabel=%s;\n", indent, dotQuote(c.flowLabel(it.flow)))
		c.writeFlow(w, it.flow, owned, indent+"\t")
		fmt.Fprintf(w, "%s}\n", indent)
	}
	for _, b := range owned[fi] {
		fmt.Fprintf(w, "%sn%d [shape=point, label=\"\"];\n", indent, b)
	}
}

func (c *Compiled) flowLabel(fi int32) string {
	return c.flows[fi].name + " (" + c.flows[fi].kind.String() + ")"
}

var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func dotQuote(s string) string { return `"` + dotEscaper.Replace(s) + `"` }

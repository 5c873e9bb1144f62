// Package graph is karbor's resource graph: the resources an operation works
// on, each with the resources that depend on it (a server with its volumes
// and boot image, a project with everything in it), built from a plan by
// asking the protectable plugins for dependents, and stored in a
// checkpoint's index.json as the "packed" resource_graph string.
//
// It reproduces karbor/resource.py and karbor/services/protection/graph.py:
//
//   - A Resource is (type, id, name, extra_info); two resources are the same
//     resource when type, id and name are equal (Key), whatever their
//     extra_info.
//   - Build walks depth first from the plan's resources, asking for each
//     resource's children once (memoised by Key), refuses a loop (ErrLoop)
//     and returns as roots the plan resources nobody lists as a child, in
//     plan order.
//   - Pack writes the graph byte for byte as the Python service does: nodes
//     numbered in post-order ("0x0", "0x1", …), four-element node arrays,
//     an adjacency entry for every node that has children, Python's
//     json.dumps separators and ASCII escaping. Unpack reads it back,
//     refusing an adjacency list that is not topologically ordered with
//     karbor's InvalidInput.
//
// The Python service iterates the plan's resources as a set, in no defined
// order; Build keeps plan order, so equal plans give equal graphs.
package graph

package viewmodel

import (
	"slices"

	"github.com/dashstream/dashstream/protocol/runstate"
)

// EdgeKind is how an edge is drawn.
type EdgeKind string

// The edge kinds of a graph schema.
const (
	EdgeDirect      EdgeKind = "direct"
	EdgeConditional EdgeKind = "conditional"
	EdgeParallel    EdgeKind = "parallel"
)

// NodeStatus is a graph node's status at the moment shown.
type NodeStatus string

// The node statuses; Pending is "not started yet".
const (
	NodePending   NodeStatus = "pending"
	NodeActive    NodeStatus = "active"
	NodeCompleted NodeStatus = "completed"
	NodeFailed    NodeStatus = "failed"
)

// GraphNode is one node to draw.
type GraphNode struct {
	ID          string
	Type        string
	Description string
	Status      NodeStatus
	// InSchema is false for a node seen in the run that the schema does not
	// declare (drawn, but marked).
	InSchema   bool
	DurationUs int64
	Executions int
	StartSeq   uint64
	EndSeq     uint64
	StartTime  int64
	EndTime    int64
	Error      string
}

// GraphEdge is one edge to draw; conditional targets are fanned out into
// one edge each.
type GraphEdge struct {
	From, To string
	Kind     EdgeKind
	Label    string
	// Taken: the source has finished and the target has started, so the
	// run went this way.
	Taken bool
}

// Graph is a run's graph at one moment.
type Graph struct {
	Name, Version, SchemaID, Description string
	Entry                                string
	// HasSchema is false when the run sent no schema: only observed nodes
	// are drawn, without edges.
	HasSchema bool
	Nodes     []GraphNode
	Edges     []GraphEdge
}

// Node returns the node of an id.
func (g Graph) Node(id string) (GraphNode, bool) {
	for _, n := range g.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return GraphNode{}, false
}

// NodeIDs returns the node ids in order.
func (g Graph) NodeIDs() []string {
	ids := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ids[i] = n.ID
	}
	return ids
}

// BuildGraph returns the run's graph with the given node states (the
// current ones, or NodeStatesAt a sequence when time travelling).
func BuildGraph(r *runstate.Run, states []runstate.NodeState) Graph {
	g := Graph{}
	byName := make(map[string]runstate.NodeState, len(states))
	for _, s := range states {
		byName[s.Name] = s
	}
	index := map[string]int{}
	add := func(n GraphNode) {
		if _, dup := index[n.ID]; dup {
			return
		}
		if s, ok := byName[n.ID]; ok {
			n.Status = statusOf(s.Status)
			n.DurationUs, n.Executions = s.DurationUs, s.Executions
			n.StartSeq, n.EndSeq, n.StartTime, n.EndTime, n.Error = s.StartSeq, s.EndSeq, s.StartTime, s.EndTime, s.Error
		} else {
			n.Status, n.DurationUs = NodePending, -1
		}
		index[n.ID] = len(g.Nodes)
		g.Nodes = append(g.Nodes, n)
	}
	if s := r.Schema(); s != nil {
		g.HasSchema = !s.FromManifest || len(s.Edges) > 0
		g.Name, g.Version, g.SchemaID, g.Description, g.Entry = s.Name, s.Version, s.ID, s.Description, s.EntryPoint
		for _, n := range s.Nodes {
			add(GraphNode{ID: n.Name, Type: n.Type, Description: n.Description, InSchema: true})
		}
		// An edge the schema declares keeps its own label: a fanned-out
		// conditional_targets list must not stamp its first edge's label
		// on the edges that carry their own.
		own := map[[2]string]string{}
		for _, e := range s.Edges {
			if k := [2]string{e.From, e.To}; e.To != "" {
				if _, dup := own[k]; !dup || own[k] == "" {
					own[k] = e.Label
				}
			}
		}
		seen := map[[2]string]int{} // edge → index in g.Edges
		for _, e := range s.Edges {
			targets := e.ConditionalTargets
			if len(targets) == 0 {
				targets = []string{e.To}
			}
			for _, to := range targets {
				k := [2]string{e.From, to}
				label, declared := own[k]
				switch {
				case declared:
				case e.To != "" && slices.Contains(targets, e.To):
					// A fanned-out target no edge declares: e's label
					// names e.To's branch, not this one.
					label = ""
				default:
					label = e.Label // a label of the whole fan-out
				}
				if i, dup := seen[k]; dup {
					if g.Edges[i].Label == "" {
						g.Edges[i].Label = label
					}
					continue
				}
				kind := EdgeKind(e.Type)
				if kind != EdgeConditional && kind != EdgeParallel {
					kind = EdgeDirect
				}
				// Edges may name nodes the node list forgot; draw them.
				add(GraphNode{ID: e.From, InSchema: s.HasNode(e.From)})
				add(GraphNode{ID: to, InSchema: s.HasNode(to)})
				seen[k] = len(g.Edges)
				g.Edges = append(g.Edges, GraphEdge{From: e.From, To: to, Kind: kind, Label: label})
			}
		}
	}
	if g.Name == "" {
		g.Name = r.GraphName()
	}
	if g.SchemaID == "" {
		g.SchemaID = r.SchemaID()
	}
	for _, s := range states {
		add(GraphNode{ID: s.Name, InSchema: false})
	}
	for i, e := range g.Edges {
		from, to := g.Nodes[index[e.From]], g.Nodes[index[e.To]]
		g.Edges[i].Taken = from.Status == NodeCompleted && to.Status != NodePending && to.StartSeq > from.StartSeq
	}
	return g
}

func statusOf(s runstate.NodeStatus) NodeStatus {
	switch s {
	case runstate.NodeActive:
		return NodeActive
	case runstate.NodeCompleted:
		return NodeCompleted
	case runstate.NodeFailed:
		return NodeFailed
	}
	return NodePending
}

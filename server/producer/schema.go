package producer

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// Node types the upstream UI draws (GraphSchema node_type).
const (
	NodeTransform   = "transform"
	NodeLLM         = "llm"
	NodeTool        = "tool"
	NodeRouter      = "router"
	NodeAggregator  = "aggregator"
	NodeValidator   = "validator"
	NodeHumanInLoop = "human_in_loop"
	NodeCheckpoint  = "checkpoint"
	// NodeCustom is written as the plain string "custom" (upstream Rust
	// wrote {"custom": ...}, which the UI cannot read).
	NodeCustom = "custom"
)

// Edge types (GraphSchema edge_type).
const (
	EdgeDirect      = "direct"
	EdgeConditional = "conditional"
	EdgeParallel    = "parallel"
)

// GraphSchema describes a graph for the dashboard (the upstream GraphSchema,
// producer note §4.5). StartRun sends it as the graph_schema_json attribute
// of GRAPH_START, with its ID as schema_id.
type GraphSchema struct {
	Name        string       `json:"name"`
	Version     string       `json:"version"`
	Description string       `json:"description,omitempty"`
	Nodes       []SchemaNode `json:"nodes"`
	Edges       []SchemaEdge `json:"edges"`
	EntryPoint  string       `json:"entry_point"`
	StateType   string       `json:"state_type,omitempty"`
	// ExportedAt is an RFC 3339 time; StartRun fills it when empty.
	ExportedAt string            `json:"exported_at"`
	Metadata   map[string]string `json:"metadata"`
}

// SchemaNode is one node of a GraphSchema.
type SchemaNode struct {
	Name         string            `json:"name"`
	Description  string            `json:"description,omitempty"`
	NodeType     string            `json:"node_type"`
	InputFields  []string          `json:"input_fields"`
	OutputFields []string          `json:"output_fields"`
	Position     *Position         `json:"position,omitempty"`
	Attributes   map[string]string `json:"attributes"`
}

// Position places a node in the drawing.
type Position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// SchemaEdge is one edge of a GraphSchema.
type SchemaEdge struct {
	From               string   `json:"from"`
	To                 string   `json:"to"`
	EdgeType           string   `json:"edge_type"`
	Label              string   `json:"label,omitempty"`
	ConditionalTargets []string `json:"conditional_targets,omitempty"`
}

// ID returns the schema_id of the graph, computed as upstream does: the first
// 8 bytes, in lowercase hex, of the SHA-256 of
// "entry:<entry>;nodes:<sorted names joined by ,>;edges:<sorted
// from->to:<is_conditional> joined by ,>".
func (s *GraphSchema) ID() string {
	nodes := make([]string, len(s.Nodes))
	for i, n := range s.Nodes {
		nodes[i] = n.Name
	}
	sort.Strings(nodes)
	edges := make([]string, len(s.Edges))
	for i, e := range s.Edges {
		edges[i] = e.From + "->" + e.To + ":" + strconv.FormatBool(e.EdgeType == EdgeConditional)
	}
	sort.Strings(edges)
	sum := sha256.Sum256([]byte("entry:" + s.EntryPoint + ";nodes:" + strings.Join(nodes, ",") + ";edges:" + strings.Join(edges, ",")))
	return hex.EncodeToString(sum[:8])
}

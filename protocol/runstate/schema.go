package runstate

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Schema is a run's graph as its GraphStart described it: the
// graph_schema_json attribute (a GraphSchema), or a stub built from the
// graph_manifest when no schema was sent.
type Schema struct {
	// ID is the schema_id attribute (16 hex characters upstream).
	ID          string
	Name        string
	Version     string
	Description string
	EntryPoint  string
	Nodes       []SchemaNode
	Edges       []SchemaEdge
	// FromManifest: built from graph_manifest, which carries no edges.
	FromManifest bool
	// Doc is the validated document, for views that want more of it.
	Doc *jsontree.Node
}

// SchemaNode is one node of a schema.
type SchemaNode struct {
	Name, Type, Description string
}

// SchemaEdge is one edge of a schema; Type is "direct", "conditional" or
// "parallel".
type SchemaEdge struct {
	From, To, Type, Label string
	ConditionalTargets    []string
}

// HasNode reports whether the schema declares a node.
func (s *Schema) HasNode(name string) bool {
	return slices.ContainsFunc(s.Nodes, func(n SchemaNode) bool { return n.Name == name })
}

var errSchemaShape = errors.New("schema has the wrong shape")

// Bounds on what a schema may declare: a 2 MiB document could otherwise
// hold hundreds of thousands of nodes.
const (
	maxSchemaNodes = 2000
	maxSchemaEdges = 8000
)

// parseSchema validates a graph_schema_json document: an object whose
// "nodes" (if any) are objects with a string "name", and whose "edges" (if
// any) are objects with string "from" and "to".
func parseSchema(data string, maxBytes, maxChars int) (*Schema, error) {
	doc, err := parseDoc(data, maxBytes)
	if err != nil {
		return nil, err
	}
	s := &Schema{Doc: doc}
	s.Name = str(doc, "name", maxChars)
	s.Version = str(doc, "version", maxChars)
	s.Description = str(doc, "description", maxChars)
	s.EntryPoint = str(doc, "entry_point", maxChars)
	if nodes, ok := doc.Get("nodes"); ok {
		if nodes.Kind() != jsontree.Array || nodes.Len() > maxSchemaNodes {
			return nil, fmt.Errorf("%w: nodes must be an array of at most %d objects", errSchemaShape, maxSchemaNodes)
		}
		for i := range nodes.Len() {
			n := nodes.Index(i)
			name, ok := n.Get("name")
			if n.Kind() != jsontree.Object || !ok || name.Kind() != jsontree.String {
				return nil, fmt.Errorf("%w: node %d has no string name", errSchemaShape, i)
			}
			s.Nodes = append(s.Nodes, SchemaNode{
				Name:        boundString(name.Literal(), maxChars),
				Type:        nodeType(n, maxChars),
				Description: str(n, "description", maxChars),
			})
		}
	}
	if edges, ok := doc.Get("edges"); ok {
		if edges.Kind() != jsontree.Array || edges.Len() > maxSchemaEdges {
			return nil, fmt.Errorf("%w: edges must be an array of at most %d objects", errSchemaShape, maxSchemaEdges)
		}
		for i := range edges.Len() {
			e := edges.Index(i)
			from, okf := e.Get("from")
			to, okt := e.Get("to")
			if e.Kind() != jsontree.Object || !okf || !okt || from.Kind() != jsontree.String || to.Kind() != jsontree.String {
				return nil, fmt.Errorf("%w: edge %d has no string from and to", errSchemaShape, i)
			}
			edge := SchemaEdge{
				From:  boundString(from.Literal(), maxChars),
				To:    boundString(to.Literal(), maxChars),
				Type:  str(e, "edge_type", maxChars),
				Label: str(e, "label", maxChars),
			}
			if edge.Type == "" {
				edge.Type = "direct"
			}
			if ct, ok := e.Get("conditional_targets"); ok && ct.Kind() == jsontree.Array {
				for j := range min(ct.Len(), 64) {
					if t := ct.Index(j); t.Kind() == jsontree.String {
						edge.ConditionalTargets = append(edge.ConditionalTargets, boundString(t.Literal(), maxChars))
					}
				}
			}
			s.Edges = append(s.Edges, edge)
		}
	}
	return s, nil
}

// parseManifest builds a schema stub from a graph_manifest: its name,
// version, description and entry point, and node names when "nodes" is an
// object keyed by name or an array of named objects.
func parseManifest(data string, maxBytes, maxChars int) (*Schema, error) {
	doc, err := parseDoc(data, maxBytes)
	if err != nil {
		return nil, err
	}
	s := &Schema{Doc: doc, FromManifest: true}
	s.Name = str(doc, "name", maxChars)
	if s.Name == "" {
		s.Name = str(doc, "graph_name", maxChars)
	}
	s.Version = str(doc, "version", maxChars)
	s.Description = str(doc, "description", maxChars)
	s.EntryPoint = str(doc, "entry_point", maxChars)
	if nodes, ok := doc.Get("nodes"); ok {
		switch nodes.Kind() {
		case jsontree.Object:
			for i := range min(nodes.Len(), maxSchemaNodes) {
				name, _ := nodes.Member(i)
				s.Nodes = append(s.Nodes, SchemaNode{Name: boundString(name, maxChars), Type: "custom"})
			}
		case jsontree.Array:
			for i := range min(nodes.Len(), maxSchemaNodes) {
				if name := str(nodes.Index(i), "name", maxChars); name != "" {
					s.Nodes = append(s.Nodes, SchemaNode{Name: name, Type: "custom"})
				}
			}
		}
	}
	return s, nil
}

func parseDoc(data string, maxBytes int) (*jsontree.Node, error) {
	if len(data) > maxBytes {
		return nil, fmt.Errorf("%d bytes, limit %d", len(data), maxBytes)
	}
	doc, err := jsontree.Parse([]byte(data))
	if err != nil {
		return nil, err
	}
	if doc.Kind() != jsontree.Object {
		return nil, fmt.Errorf("%w: %s, not an object", errSchemaShape, doc.Kind())
	}
	return doc, nil
}

// str returns member name of object n when it is a string.
func str(n *jsontree.Node, name string, maxChars int) string {
	if n.Kind() != jsontree.Object {
		return ""
	}
	v, ok := n.Get(name)
	if !ok || v.Kind() != jsontree.String {
		return ""
	}
	return boundString(v.Literal(), maxChars)
}

// nodeType reads node_type, which Rust writes as {"custom":"…"} for custom
// types (plain "custom" is what the UI understands).
func nodeType(n *jsontree.Node, maxChars int) string {
	v, ok := n.Get("node_type")
	if !ok {
		return "custom"
	}
	switch v.Kind() {
	case jsontree.String:
		return boundString(v.Literal(), maxChars)
	case jsontree.Object:
		return "custom"
	}
	return "custom"
}

// SchemaObservation records which threads used a schema_id.
type SchemaObservation struct {
	ID, Name            string
	FirstSeen, LastSeen time.Time
	// Threads lists the threads seen with this schema, oldest first
	// (bounded by Config.MaxThreadsPerSchema).
	Threads []string
}

type schemaObservations struct {
	byID  map[string]*SchemaObservation
	order []string // least recently seen first
}

func (o *schemaObservations) observe(id, name, thread string, at time.Time, cfg *Config) {
	if id == "" {
		return
	}
	obs, ok := o.byID[id]
	if ok {
		i := slices.Index(o.order, id)
		o.order = append(o.order[:i], o.order[i+1:]...)
	} else {
		if len(o.order) >= cfg.MaxSchemas {
			delete(o.byID, o.order[0])
			o.order = append(o.order[:0], o.order[1:]...)
		}
		if o.byID == nil {
			o.byID = make(map[string]*SchemaObservation)
		}
		obs = &SchemaObservation{ID: id, FirstSeen: at}
		o.byID[id] = obs
	}
	o.order = append(o.order, id)
	obs.LastSeen = at
	if name != "" {
		obs.Name = name
	}
	if !slices.Contains(obs.Threads, thread) {
		obs.Threads = appendBounded(obs.Threads, thread, cfg.MaxThreadsPerSchema)
	}
}

func (o *schemaObservations) list() []SchemaObservation {
	out := make([]SchemaObservation, 0, len(o.order))
	for i := len(o.order) - 1; i >= 0; i-- { // most recently seen first
		obs := *o.byID[o.order[i]]
		obs.Threads = slices.Clone(obs.Threads)
		out = append(out, obs)
	}
	return out
}

// Package export writes a run for use outside the dashboard: the run as
// JSON (its messages and its final state, number literals exactly as they
// arrived), and its graph as GraphViz .dot and Mermaid text.
package export

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// FileName returns a safe file name for a graph or thread with the given
// extension ("run" when nothing usable is left).
func FileName(name, ext string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "._")
	if s == "" {
		s = "run"
	}
	return s + "." + ext
}

// dotQuote writes a GraphViz quoted string.
func dotQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	s = strings.ReplaceAll(s, "\n", `\n`)
	return `"` + strings.ReplaceAll(s, "\r", "") + `"`
}

// DOT writes the graph in GraphViz: conditional edges dashed, parallel
// ones bold, labels kept, node status as fill colour, nodes outside the
// schema dashed.
func DOT(g viewmodel.Graph) string {
	var b strings.Builder
	b.WriteString("digraph " + dotQuote(g.Name) + " {\n")
	b.WriteString("  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fillcolor=\"#ffffff\"];\n")
	for _, n := range g.Nodes {
		label := n.ID
		if n.Type != "" {
			label += "\n[" + n.Type + "]"
		}
		attrs := []string{"label=" + dotQuote(label), "fillcolor=" + dotQuote(statusColor(n.Status))}
		if !n.InSchema {
			attrs = append(attrs, `style="rounded,filled,dashed"`)
		}
		if n.Description != "" {
			attrs = append(attrs, "tooltip="+dotQuote(n.Description))
		}
		b.WriteString("  " + dotQuote(n.ID) + " [" + strings.Join(attrs, ", ") + "];\n")
	}
	for _, e := range g.Edges {
		var attrs []string
		switch e.Kind {
		case viewmodel.EdgeConditional:
			attrs = append(attrs, "style=dashed")
		case viewmodel.EdgeParallel:
			attrs = append(attrs, "style=bold")
		}
		if e.Label != "" {
			attrs = append(attrs, "label="+dotQuote(e.Label))
		}
		line := "  " + dotQuote(e.From) + " -> " + dotQuote(e.To)
		if len(attrs) > 0 {
			line += " [" + strings.Join(attrs, ", ") + "]"
		}
		b.WriteString(line + ";\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func statusColor(s viewmodel.NodeStatus) string {
	switch s {
	case viewmodel.NodeActive:
		return "#dbeafe"
	case viewmodel.NodeCompleted:
		return "#dcfce7"
	case viewmodel.NodeFailed:
		return "#fee2e2"
	}
	return "#ffffff"
}

var mermaidUnsafe = regexp.MustCompile(`[^A-Za-z0-9_]`)

// mermaidIDs gives every node a Mermaid-safe id, unique even when two
// names sanitize alike.
func mermaidIDs(g viewmodel.Graph) map[string]string {
	ids := make(map[string]string, len(g.Nodes))
	used := map[string]bool{}
	for _, n := range g.Nodes {
		base := mermaidUnsafe.ReplaceAllString(n.ID, "_")
		if base == "" || (base[0] >= '0' && base[0] <= '9') {
			base = "n_" + base
		}
		// "end" and friends are Mermaid keywords.
		if k := strings.ToLower(base); k == "end" || k == "graph" || k == "subgraph" || k == "flowchart" || k == "class" || k == "style" {
			base = "n_" + base
		}
		id := base
		for i := 2; used[id]; i++ {
			id = base + "_" + strconv.Itoa(i)
		}
		used[id] = true
		ids[n.ID] = id
	}
	return ids
}

// mermaidText escapes a label: only a safe set passes, everything else
// becomes an entity code, so no name can break out of its quotes.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" _.,:!?@+=/-()", r):
			b.WriteRune(r)
		default:
			b.WriteString("#" + strconv.Itoa(int(r)) + ";")
		}
	}
	return b.String()
}

// Mermaid writes the graph as a Mermaid flowchart: conditional edges
// dotted, parallel ones thick, labels kept, statuses as classes.
func Mermaid(g viewmodel.Graph) string {
	ids := mermaidIDs(g)
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	if g.Name != "" {
		b.WriteString("  %% " + strings.Join(strings.Fields(g.Name+" "+g.Version), " ") + "\n")
	}
	b.WriteString("  classDef pending fill:#f8fafc,stroke:#94a3b8\n  classDef active fill:#dbeafe,stroke:#2563eb\n" +
		"  classDef completed fill:#dcfce7,stroke:#16a34a\n  classDef failed fill:#fee2e2,stroke:#dc2626\n" +
		"  classDef outside stroke-dasharray:4 3\n")
	for _, n := range g.Nodes {
		label := mermaidText(n.ID)
		if n.Type != "" {
			label += "<br/>[" + mermaidText(n.Type) + "]"
		}
		b.WriteString("  " + ids[n.ID] + "[\"" + label + "\"]\n")
	}
	for _, e := range g.Edges {
		arrow := "-->"
		switch e.Kind {
		case viewmodel.EdgeConditional:
			arrow = "-.->"
		case viewmodel.EdgeParallel:
			arrow = "==>"
		}
		if e.Label != "" {
			arrow += "|\"" + mermaidText(e.Label) + "\"|"
		}
		b.WriteString("  " + ids[e.From] + " " + arrow + " " + ids[e.To] + "\n")
	}
	byStatus := map[viewmodel.NodeStatus][]string{}
	var outside []string
	for _, n := range g.Nodes {
		byStatus[n.Status] = append(byStatus[n.Status], ids[n.ID])
		if !n.InSchema {
			outside = append(outside, ids[n.ID])
		}
	}
	for _, s := range []viewmodel.NodeStatus{viewmodel.NodePending, viewmodel.NodeActive, viewmodel.NodeCompleted, viewmodel.NodeFailed} {
		if len(byStatus[s]) > 0 {
			b.WriteString("  class " + strings.Join(byStatus[s], ",") + " " + string(s) + "\n")
		}
	}
	if len(outside) > 0 {
		b.WriteString("  class " + strings.Join(outside, ",") + " outside\n")
	}
	return b.String()
}

// Run is the exported form of a run.
type Run struct {
	ThreadID string `json:"thread_id"`
	Graph    string `json:"graph_name,omitempty"`
	SchemaID string `json:"schema_id,omitempty"`
	Status   string `json:"status"`
	// Trusted is false when the final state failed a check or messages
	// were lost; Integrity then says why.
	Trusted   bool   `json:"trusted"`
	Integrity string `json:"integrity,omitempty"`
	LastSeq   uint64 `json:"last_sequence,string"`
	// Schema is the graph_schema_json document as received.
	Schema     json.RawMessage `json:"schema,omitempty"`
	Messages   []Message       `json:"messages"`
	FinalState json.RawMessage `json:"final_state"`
}

// Message is one message of the run's log (its bounded summary).
type Message struct {
	Sequence   uint64            `json:"sequence,string"`
	Type       string            `json:"type"`
	Node       string            `json:"node,omitempty"`
	TimeUs     int64             `json:"timestamp_us,omitempty"`
	MessageID  string            `json:"message_id,omitempty"`
	DurationUs *int64            `json:"duration_us,omitempty"`
	Detail     string            `json:"detail,omitempty"`
	Note       string            `json:"note,omitempty"`
	Changed    []string          `json:"changed,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"`
}

// RunJSON writes a run (call it under the session's read lock). The final
// state is written from the state tree, so 1.0 stays 1.0 and big integers
// keep every digit.
func RunJSON(r *runstate.Run) ([]byte, error) {
	out := Run{ThreadID: r.ThreadID(), Graph: r.GraphName(), SchemaID: r.SchemaID(), Status: string(viewmodel.StatusOf(r)),
		Trusted: r.Trusted(), Integrity: r.Integrity().Reason, LastSeq: r.LastSeq(), Messages: []Message{}, FinalState: json.RawMessage("null")}
	if s := r.Schema(); s != nil && s.Doc != nil {
		out.Schema = s.Doc.AppendJSON(nil)
	}
	if st, _ := r.State(); st != nil {
		out.FinalState = st.AppendJSON(nil)
	}
	for i := range r.EventCount() {
		e := r.Event(i)
		m := Message{Sequence: e.Seq, Type: e.Name(), Node: e.NodeID, TimeUs: e.Timestamp, MessageID: e.MessageIDHex(),
			Detail: e.Detail, Note: e.Note, Changed: e.Changed}
		if e.DurationUs >= 0 {
			d := e.DurationUs
			m.DurationUs = &d
		}
		if len(e.Summary) > 0 {
			m.Fields = make(map[string]string, len(e.Summary))
			for _, f := range e.Summary {
				m.Fields[f.Key] = f.Value
			}
		}
		out.Messages = append(out.Messages, m)
	}
	return json.MarshalIndent(out, "", "  ")
}

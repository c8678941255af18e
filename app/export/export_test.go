package export

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/dashstream/dashstream/app/internal/sample"
	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/protocol/jsontree"
)

func graphOf(t *testing.T, thread string) viewmodel.Graph {
	t.Helper()
	r := sample.Store().Run(thread)
	if r == nil {
		t.Fatalf("no run %s", thread)
	}
	return viewmodel.BuildGraph(r, r.NodeStates())
}

var (
	dotNodeRE = regexp.MustCompile(`^  ("(?:[^"\\]|\\.)*") \[(.*)\];$`)
	dotEdgeRE = regexp.MustCompile(`^  ("(?:[^"\\]|\\.)*") -> ("(?:[^"\\]|\\.)*")(?: \[(.*)\])?;$`)
)

// parseDOT checks the structure line by line and returns declared nodes and
// edge lines with their attributes.
func parseDOT(t *testing.T, dot string) (map[string]bool, map[[2]string]string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(dot, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "digraph \"") || !strings.HasSuffix(lines[0], "\" {") || lines[len(lines)-1] != "}" {
		t.Fatalf("not a digraph block:\n%s", dot)
	}
	nodes := map[string]bool{}
	edges := map[[2]string]string{}
	for _, l := range lines[1 : len(lines)-1] {
		switch {
		case strings.HasPrefix(l, "  rankdir") || strings.HasPrefix(l, "  node ["):
		case dotEdgeRE.MatchString(l):
			m := dotEdgeRE.FindStringSubmatch(l)
			if !nodes[m[1]] || !nodes[m[2]] {
				t.Errorf("edge names an undeclared node: %s", l)
			}
			edges[[2]string{m[1], m[2]}] = m[3]
		case dotNodeRE.MatchString(l):
			nodes[dotNodeRE.FindStringSubmatch(l)[1]] = true
		default:
			t.Errorf("unexpected DOT line %q", l)
		}
	}
	return nodes, edges
}

func TestDOT_WritesEveryNodeAndStyledEdge(t *testing.T) {
	g := graphOf(t, "run-ok")
	nodes, edges := parseDOT(t, DOT(g))
	if len(nodes) != len(g.Nodes) || len(edges) != len(g.Edges) {
		t.Fatalf("%d nodes %d edges, want %d %d", len(nodes), len(edges), len(g.Nodes), len(g.Edges))
	}
	cases := []struct{ from, to, attrs string }{
		{"plan", "route", ""},
		{"route", "web_search", `style=dashed, label="needs web"`},
		{"route", "db_lookup", `style=dashed`}, // "needs web" is web_search's branch
		{"web_search", "merge", "style=bold"},
		{"review", "write", `style=dashed, label="revise"`},
	}
	for _, c := range cases {
		if got, ok := edges[[2]string{`"` + c.from + `"`, `"` + c.to + `"`}]; !ok || got != c.attrs {
			t.Errorf("edge %s→%s attrs %q (present %v), want %q", c.from, c.to, got, ok, c.attrs)
		}
	}
}

func TestDOT_EscapesQuotesAndBackslashes(t *testing.T) {
	g := viewmodel.Graph{Name: `we"ird\name`, Nodes: []viewmodel.GraphNode{{ID: `a"b`, InSchema: true}, {ID: `c\d`}},
		Edges: []viewmodel.GraphEdge{{From: `a"b`, To: `c\d`, Kind: viewmodel.EdgeDirect, Label: "say \"hi\"\nnow"}}}
	dot := DOT(g)
	nodes, edges := parseDOT(t, dot)
	if !nodes[`"a\"b"`] || !nodes[`"c\\d"`] || len(edges) != 1 {
		t.Errorf("escaping broke the structure:\n%s", dot)
	}
	if !strings.Contains(dot, `label="say \"hi\"\nnow"`) || !strings.Contains(dot, "style=\"rounded,filled,dashed\"") {
		t.Errorf("label or out-of-schema style missing:\n%s", dot)
	}
}

var (
	mmNodeRE = regexp.MustCompile(`^  ([A-Za-z_][A-Za-z0-9_]*)\["([^"]*)"\]$`)
	mmEdgeRE = regexp.MustCompile(`^  ([A-Za-z_][A-Za-z0-9_]*) (-->|-\.->|==>)(?:\|"([^"]*)"\|)? ([A-Za-z_][A-Za-z0-9_]*)$`)
)

func TestMermaid_WritesAValidFlowchart(t *testing.T) {
	g := graphOf(t, "run-bad")
	lines := strings.Split(strings.TrimSuffix(Mermaid(g), "\n"), "\n")
	if lines[0] != "flowchart TD" {
		t.Fatalf("first line %q", lines[0])
	}
	nodes := map[string]bool{}
	arrows := map[string]int{}
	classes := 0
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "  %% ") || strings.HasPrefix(l, "  classDef "):
		case strings.HasPrefix(l, "  class "):
			classes++
			for _, id := range strings.Split(strings.Fields(l)[1], ",") {
				if !nodes[id] {
					t.Errorf("class names undeclared node %q", id)
				}
			}
		case mmNodeRE.MatchString(l):
			nodes[mmNodeRE.FindStringSubmatch(l)[1]] = true
		case mmEdgeRE.MatchString(l):
			m := mmEdgeRE.FindStringSubmatch(l)
			if !nodes[m[1]] || !nodes[m[4]] {
				t.Errorf("edge names undeclared node: %q", l)
			}
			arrows[m[2]]++
		default:
			t.Errorf("unexpected Mermaid line %q", l)
		}
	}
	if len(nodes) != 8 || arrows["-->"] != 3 || arrows["-.->"] != 3 || arrows["==>"] != 2 {
		t.Errorf("nodes %d arrows %v", len(nodes), arrows)
	}
	if classes < 3 {
		t.Errorf("%d class lines, want pending, completed and outside at least", classes)
	}
}

func TestMermaid_IDsAreUniqueAndLabelsCannotBreakOut(t *testing.T) {
	g := viewmodel.Graph{Nodes: []viewmodel.GraphNode{{ID: "a b"}, {ID: "a-b"}, {ID: "end"}, {ID: "1st"}, {ID: `x"];click`}}}
	ids := mermaidIDs(g)
	want := map[string]string{"a b": "a_b", "a-b": "a_b_2", "end": "n_end", "1st": "n_1st"}
	for k, v := range want {
		if ids[k] != v {
			t.Errorf("id of %q = %q, want %q", k, ids[k], v)
		}
	}
	out := Mermaid(g)
	if strings.Contains(out, `x"]`) || !strings.Contains(out, "x#34;#93;#59;click") {
		t.Errorf("label not escaped:\n%s", out)
	}
}

func TestRunJSON_RoundTripsMessagesAndFinalStateLiterals(t *testing.T) {
	r := sample.Store().Run("run-ok")
	b, err := RunJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if back.ThreadID != "run-ok" || back.Status != "completed" || !back.Trusted || back.LastSeq != 37 || len(back.Messages) != 37 {
		t.Errorf("header %+v (%d messages)", back, len(back.Messages))
	}
	st, _ := r.State()
	final, err := jsontree.Parse(back.FinalState)
	if err != nil || final.String() != st.String() {
		t.Errorf("final state changed on export: %s", back.FinalState)
	}
	for _, lit := range []string{`"ratio": 1.0`, `"big": 12345678901234567890`} {
		if !strings.Contains(string(b), lit) {
			t.Errorf("export lost the literal %s", lit)
		}
	}
	if m := back.Messages[2]; m.Type != "state_diff" || m.Note != "verified" || m.Changed[0] != "/plan" || m.Sequence != 3 {
		t.Errorf("message 3: %+v", m)
	}
	if _, err := jsontree.Parse(back.Schema); err != nil || !strings.Contains(string(back.Schema), "research-assistant") {
		t.Errorf("schema %s", back.Schema)
	}
	bad, _ := RunJSON(sample.Store().Run("run-bad"))
	if !strings.Contains(string(bad), `"trusted": false`) || !strings.Contains(string(bad), "hash mismatch") {
		t.Error("an untrusted run must say so in its export")
	}
}

func TestFileName_IsSafe(t *testing.T) {
	cases := []struct{ in, ext, want string }{
		{"research-assistant", "dot", "research-assistant.dot"},
		{"a/b c", "json", "a_b_c.json"},
		{"../..", "mmd", "run.mmd"},
		{"", "dot", "run.dot"},
	}
	for _, c := range cases {
		if got := FileName(c.in, c.ext); got != c.want {
			t.Errorf("FileName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

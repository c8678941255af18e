package ui

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/graphlayout"
	"github.com/dashstream/dashstream/app/viewmodel"
)

// graphView draws a run's graph as SVG: nodes coloured by status (the
// current one pulsing), edges styled by kind with their labels, nodes the
// schema does not declare dashed. Nodes are buttons: click, Enter or
// Space opens their details.
type graphView struct {
	Graph    viewmodel.Graph
	Layout   graphlayout.Layout
	Selected string
	Current  string
	OnSelect func(ctx app.Context, id string)
}

func (g graphView) Render() app.UI {
	if len(g.Graph.Nodes) == 0 {
		return emptyState("No graph yet", "The graph appears when the run sends its schema or starts a node.")
	}
	l := g.Layout
	w, h := fmtF(l.Width), fmtF(l.Height)
	kinds := map[[2]string]viewmodel.GraphEdge{}
	for _, e := range g.Graph.Edges {
		kinds[[2]string{e.From, e.To}] = e
	}
	var edges, labels []app.UI
	for _, r := range l.Routes {
		e := kinds[[2]string{r.From, r.To}]
		cls := []string{"edge", "edge-" + string(e.Kind)}
		if e.Taken {
			cls = append(cls, "edge-taken")
		}
		edges = append(edges, svg("path").Class(cls...).Attr("d", r.Path).Attr("marker-end", "url(#arrow-"+string(e.Kind)+")").
			Body(svg("title").Text(r.From+" → "+r.To+" ("+string(e.Kind)+")")))
		if e.Label != "" {
			anchor := r.Anchor
			if anchor == "" {
				anchor = "middle"
			}
			labels = append(labels, svg("text").Class("edge-label", "edge-label-"+string(e.Kind)).
				Attr("x", fmtF(r.LabelX)).Attr("y", fmtF(r.LabelY)).Attr("text-anchor", anchor).
				Body(app.Text(viewmodel.Truncate(e.Label, edgeLabelChars)), svg("title").Text(e.Label)))
		}
	}
	nodes := make([]app.UI, 0, len(l.Boxes))
	for _, b := range l.Boxes {
		n, _ := g.Graph.Node(b.ID)
		nodes = append(nodes, g.node(n, b))
	}
	return app.Div().Class("graph-wrap").Body(
		svg("svg").ID("graph").Class("graph").Attr("viewBox", "0 0 "+w+" "+h).
			Attr("role", "group").Aria("label", "Graph "+g.Graph.Name).
			Style("max-width", w+"px").Body(
			svg("defs").Body(marker("direct"), marker("conditional"), marker("parallel")),
			svg("g").Class("edges").Body(edges...),
			svg("g").Class("edge-labels").Body(labels...),
			svg("g").Class("nodes").Body(nodes...),
		),
	)
}

func (g graphView) node(n viewmodel.GraphNode, b graphlayout.Box) app.UI {
	cls := []string{"node", "node-" + string(n.Status)}
	if !n.InSchema {
		cls = append(cls, "node-outside")
	}
	if n.ID == g.Current {
		cls = append(cls, "node-current")
	}
	if n.ID == g.Selected {
		cls = append(cls, "node-selected")
	}
	sub := n.Type
	if sub == "" {
		sub = "node"
	}
	if !n.InSchema {
		sub += " · not in schema"
	}
	if n.DurationUs >= 0 && n.Status == viewmodel.NodeCompleted {
		sub += " · " + viewmodel.FormatMicros(n.DurationUs)
	}
	id := n.ID
	pressed := "false"
	if id == g.Selected {
		pressed = "true"
	}
	return svg("g").Class(cls...).Attr("transform", "translate("+fmtF(b.X)+" "+fmtF(b.Y)+")").
		Attr("tabindex", "0").Attr("role", "button").Aria("pressed", pressed).
		Aria("label", id+", "+string(n.Status)+", "+sub).DataSet("node", id).
		OnClick(func(ctx app.Context, e app.Event) { g.OnSelect(ctx, dataOf(ctx, "node")) }).
		OnKeyDown(func(ctx app.Context, e app.Event) {
			if k := e.Get("key").String(); k == "Enter" || k == " " {
				e.PreventDefault()
				g.OnSelect(ctx, dataOf(ctx, "node"))
			}
		}).Body(
		svg("rect").Class("node-box").Attr("width", fmtF(b.W)).Attr("height", fmtF(b.H)).Attr("rx", "10"),
		svg("circle").Class("node-dot").Attr("cx", "16").Attr("cy", fmtF(b.H/2)).Attr("r", "5"),
		svg("text").Class("node-name").Attr("x", "28").Attr("y", fmtF(b.H/2-3)).Text(viewmodel.Truncate(id, fitChars(b.W, nameCharW))),
		svg("text").Class("node-sub").Attr("x", "28").Attr("y", fmtF(b.H/2+13)).Text(viewmodel.Truncate(sub, fitChars(b.W, subCharW))),
		svg("title").Text(id+" ("+string(n.Status)+") · "+sub),
	)
}

func marker(kind string) app.UI {
	return svg("marker").ID("arrow-"+kind).Class("arrow", "arrow-"+kind).Attr("viewBox", "0 0 10 10").
		Attr("refX", "9").Attr("refY", "5").Attr("markerWidth", "7").Attr("markerHeight", "7").Attr("orient", "auto-start-reverse").
		Body(svg("path").Attr("d", "M 0 0 L 10 5 L 0 10 z"))
}

func graphLegend() app.UI {
	item := func(cls, text string) app.UI {
		return app.Li().Body(app.Span().Class("legend-swatch", cls).Aria("hidden", "true"), app.Text(text))
	}
	return app.Ul().Class("legend").Aria("label", "Legend").Body(
		item("sw-pending", "pending"), item("sw-active", "running"), item("sw-completed", "completed"), item("sw-failed", "failed"),
		item("sw-direct", "direct"), item("sw-conditional", "conditional"), item("sw-parallel", "parallel"),
		item("sw-outside", "not in schema"),
	)
}

// layoutKey identifies a graph's structure: the layout is recomputed only
// when nodes or edges change, not when statuses do.
func layoutKey(g viewmodel.Graph) string {
	var b strings.Builder
	for _, n := range g.Nodes {
		b.WriteString(n.ID)
		b.WriteByte(0)
	}
	b.WriteByte(1)
	for _, e := range g.Edges {
		b.WriteString(e.From + "\x00" + e.To + "\x00")
	}
	return b.String()
}

// Node boxes are as wide as their longest name needs, within bounds;
// names beyond the widest box are cut with "…" (the box's tooltip has the
// full name). Widths are estimated from the fonts' average advance (13 px
// semibold names, 11 px details) with a margin, since layout runs before
// anything is drawn.
const (
	nameCharW      = 7.8
	subCharW       = 6.4
	boxTextLeft    = 28 // where the text starts, right of the status dot
	boxTextRight   = 12
	minNodeW       = 150
	maxNodeW       = 240
	edgeLabelChars = 16
)

// fitChars is how many characters of width charW fit in a box of width w.
func fitChars(w, charW float64) int {
	return max(int((w-boxTextLeft-boxTextRight)/charW), 4)
}

// nodeWidth is the box width the graph's longest node name, or longest
// detail line (its type and a duration), needs.
func nodeWidth(g viewmodel.Graph) float64 {
	need := 0.0
	for _, n := range g.Nodes {
		name := float64(utf8.RuneCountInString(n.ID)) * nameCharW
		sub := float64(utf8.RuneCountInString(n.Type)+len(" · 999 ms")) * subCharW
		need = max(need, name, sub)
	}
	return min(max(boxTextLeft+boxTextRight+need, minNodeW), maxNodeW)
}

// layoutOf lays the graph out left to right: a run's graph is mostly a
// chain, which fits a wide, short panel above the tabs.
func layoutOf(g viewmodel.Graph) graphlayout.Layout {
	edges := make([]graphlayout.Edge, len(g.Edges))
	gap := 56.0
	for i, e := range g.Edges {
		edges[i] = graphlayout.Edge{From: e.From, To: e.To}
		if e.Label != "" {
			gap = 104 // room for a label between columns
		}
	}
	return graphlayout.Compute(g.NodeIDs(), edges, g.Entry, graphlayout.Options{
		Horizontal: true, NodeW: nodeWidth(g), NodeH: 46, NodeGap: 14, LayerGap: gap, Margin: 14, BackEdgeMargin: 28,
	})
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

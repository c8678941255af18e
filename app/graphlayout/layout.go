// Package graphlayout places a directed graph's nodes in layers (a
// Sugiyama-style layout: cycles broken, longest-path layering, barycentric
// ordering) and routes its edges as SVG paths. It knows nothing of runs or
// schemas: the dashboard gives it node ids and edges and draws the result.
package graphlayout

import (
	"slices"
	"strconv"
	"strings"
)

// Edge is a directed edge between two node ids.
type Edge struct{ From, To string }

// Options sizes the drawing; zero fields take the defaults.
type Options struct {
	NodeW, NodeH   float64 // box size (default 168×48)
	NodeGap        float64 // horizontal gap between boxes in a layer (default 32)
	LayerGap       float64 // vertical gap between layers (default 52)
	Margin         float64 // around the drawing (default 24)
	MaxPerRow      int     // unconnected nodes per row (default 4)
	BackEdgeMargin float64 // how far loops swing right (default 40)
	// Horizontal lays the layers out left to right instead of top to
	// bottom (a compact graph for a wide, short panel): edges leave a
	// box's right side and enter the next one's left side, and loops run
	// below every box. LayerGap is then the gap between columns.
	Horizontal bool
}

func (o Options) withDefaults() Options {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.NodeW, 168)
	def(&o.NodeH, 48)
	def(&o.NodeGap, 32)
	def(&o.LayerGap, 52)
	def(&o.Margin, 24)
	def(&o.BackEdgeMargin, 40)
	if o.MaxPerRow <= 0 {
		o.MaxPerRow = 4
	}
	return o
}

// Box is a placed node: its top-left corner and size.
type Box struct {
	ID         string
	X, Y, W, H float64
	Layer      int
}

// CenterX returns the horizontal centre of the box.
func (b Box) CenterX() float64 { return b.X + b.W/2 }

// Route is a drawn edge: an SVG path and where its label goes.
type Route struct {
	From, To string
	// Path is an SVG path ("M … C …" down, "M … L …" for a loop) ending
	// at the target's top border.
	Path string
	// LabelX and LabelY are the label's anchor: its middle for an edge
	// down, its start for a loop (labels of loops sit right of the gutter);
	// Anchor says which ("middle" or "start", as SVG's text-anchor).
	LabelX, LabelY float64
	Anchor         string
	// Back marks an edge that points up (a loop in the graph).
	Back bool
}

// Layout is a placed graph.
type Layout struct {
	Width, Height float64
	Boxes         []Box
	Routes        []Route
}

// Box returns the box of a node id.
func (l Layout) Box(id string) (Box, bool) {
	for _, b := range l.Boxes {
		if b.ID == id {
			return b, true
		}
	}
	return Box{}, false
}

// Compute lays out nodes (in their given order, which breaks ties) and
// edges, starting from entry when it is one of the nodes. Edges naming
// unknown nodes and duplicate edges are ignored.
func Compute(nodes []string, edges []Edge, entry string, opt Options) Layout {
	opt = opt.withDefaults()
	index := make(map[string]int, len(nodes))
	var ids []string
	for _, n := range nodes {
		if _, dup := index[n]; !dup {
			index[n] = len(ids)
			ids = append(ids, n)
		}
	}
	n := len(ids)
	out := make([][]int, n)
	var es [][2]int
	seen := map[[2]int]bool{}
	for _, e := range edges {
		a, okA := index[e.From]
		b, okB := index[e.To]
		if !okA || !okB || seen[[2]int{a, b}] {
			continue
		}
		seen[[2]int{a, b}] = true
		es = append(es, [2]int{a, b})
		out[a] = append(out[a], b)
	}
	back := backEdges(n, out, index, entry)
	layer := layers(n, es, back)
	connected := make([]bool, n)
	for _, e := range es {
		connected[e[0]], connected[e[1]] = true, true
	}
	rows := order(n, es, back, layer, connected, opt.MaxPerRow)

	if opt.Horizontal {
		return horizontal(ids, es, rows, opt)
	}
	l := Layout{}
	maxRow := 0
	for _, r := range rows {
		maxRow = max(maxRow, len(r))
	}
	innerW := float64(maxRow)*opt.NodeW + float64(max(maxRow-1, 0))*opt.NodeGap
	boxes := make([]Box, n)
	for li, r := range rows {
		rowW := float64(len(r))*opt.NodeW + float64(max(len(r)-1, 0))*opt.NodeGap
		x0 := opt.Margin + (innerW-rowW)/2
		y := opt.Margin + float64(li)*(opt.NodeH+opt.LayerGap)
		for i, v := range r {
			boxes[v] = Box{ID: ids[v], X: x0 + float64(i)*(opt.NodeW+opt.NodeGap), Y: y, W: opt.NodeW, H: opt.NodeH, Layer: li}
		}
	}
	// Edges going up run through a gutter right of every box, each loop
	// in its own lane, so no loop crosses a node.
	right := opt.Margin + innerW
	lanes := 0
	for _, e := range es {
		a, b := boxes[e[0]], boxes[e[1]]
		var r Route
		if b.Layer > a.Layer {
			r = forward(a, b)
		} else {
			lanes++
			r = backward(a, b, right+opt.BackEdgeMargin/2+float64(lanes-1)*laneGap, opt)
		}
		l.Routes = append(l.Routes, r)
	}
	l.Boxes = boxes
	l.Width = innerW + 2*opt.Margin
	if lanes > 0 {
		l.Width += opt.BackEdgeMargin + float64(lanes-1)*laneGap + labelRoom
	}
	l.Height = 2*opt.Margin + float64(len(rows))*opt.NodeH + float64(max(len(rows)-1, 0))*opt.LayerGap
	if n == 0 {
		l.Width, l.Height = 2*opt.Margin, 2*opt.Margin
	}
	return l
}

// horizontal places the layers as columns, left to right, each centred
// vertically; loops run through lanes below every box.
func horizontal(ids []string, es [][2]int, cols [][]int, opt Options) Layout {
	l := Layout{}
	maxCol := 0
	for _, c := range cols {
		maxCol = max(maxCol, len(c))
	}
	innerH := float64(maxCol)*opt.NodeH + float64(max(maxCol-1, 0))*opt.NodeGap
	boxes := make([]Box, len(ids))
	for li, c := range cols {
		colH := float64(len(c))*opt.NodeH + float64(max(len(c)-1, 0))*opt.NodeGap
		y0 := opt.Margin + (innerH-colH)/2
		x := opt.Margin + float64(li)*(opt.NodeW+opt.LayerGap)
		for i, v := range c {
			boxes[v] = Box{ID: ids[v], X: x, Y: y0 + float64(i)*(opt.NodeH+opt.NodeGap), W: opt.NodeW, H: opt.NodeH, Layer: li}
		}
	}
	bottom := opt.Margin + innerH
	lanes := 0
	for _, e := range es {
		a, b := boxes[e[0]], boxes[e[1]]
		if b.Layer > a.Layer {
			l.Routes = append(l.Routes, across(a, b))
			continue
		}
		lanes++
		l.Routes = append(l.Routes, under(a, b, bottom+opt.BackEdgeMargin/2+float64(lanes-1)*laneGap, opt))
	}
	l.Boxes = boxes
	l.Width = 2*opt.Margin + float64(len(cols))*opt.NodeW + float64(max(len(cols)-1, 0))*opt.LayerGap
	l.Height = 2*opt.Margin + innerH
	if lanes > 0 {
		l.Height += opt.BackEdgeMargin + float64(lanes-1)*laneGap + underLabelRoom
	}
	if len(ids) == 0 {
		l.Width, l.Height = 2*opt.Margin, 2*opt.Margin
	}
	return l
}

// underLabelRoom leaves space for a loop's label below its lane.
const underLabelRoom = 14

// across draws an edge to a later column as a horizontal S-curve from the
// source's right side to the target's left side; its label sits above the
// curve's middle.
func across(a, b Box) Route {
	x1, y1 := a.X+a.W, a.Y+a.H/2
	x2, y2 := b.X, b.Y+b.H/2
	dx := (x2 - x1) / 2
	// The label sits on the curve's middle, centred in the gap between
	// the columns, where the curves of a fan-out have spread apart.
	lx, ly := (x1+x2)/2, (y1+y2)/2
	return Route{From: a.ID, To: b.ID, Path: path("M", x1, y1, "C", x1+dx, y1, x2-dx, y2, x2, y2),
		LabelX: lx, LabelY: ly - 4, Anchor: "middle"}
}

// under draws an edge back to an earlier column (a loop): out of the
// source's right side into the gap after its column, down to its lane
// below every box, left to the gap before the target's column, up, and
// into the target's left side. The vertical runs lie in gaps between
// columns, so they cross no node.
func under(a, b Box, lane float64, opt Options) Route {
	x1, y1 := a.X+a.W, a.Y+a.H*0.75
	x2, y2 := b.X, b.Y+b.H*0.75
	after := x1 + opt.LayerGap/3
	before := x2 - opt.LayerGap/3
	return Route{From: a.ID, To: b.ID, Back: true,
		Path:   path("M", x1, y1, "L", after, y1, "L", after, lane, "L", before, lane, "L", before, y2, "L", x2, y2),
		LabelX: (after + before) / 2, LabelY: lane + 12, Anchor: "middle"}
}

// backEdges finds the edges closing a cycle by depth-first search from the
// entry first, then from the nodes in order, so the entry ends up on top.
func backEdges(n int, out [][]int, index map[string]int, entry string) map[[2]int]bool {
	back := map[[2]int]bool{}
	const (
		white = iota
		grey
		black
	)
	color := make([]int, n)
	var visit func(v int)
	visit = func(v int) {
		color[v] = grey
		for _, w := range out[v] {
			switch color[w] {
			case grey:
				back[[2]int{v, w}] = true
			case white:
				visit(w)
			}
		}
		color[v] = black
	}
	if e, ok := index[entry]; ok {
		visit(e)
	}
	for v := range n {
		if color[v] == white {
			visit(v)
		}
	}
	return back
}

// layers gives each node the length of the longest forward path to it.
func layers(n int, es [][2]int, back map[[2]int]bool) []int {
	layer := make([]int, n)
	// Bellman-style relaxation: the forward graph is acyclic, so n passes
	// settle it; graphs here have tens of nodes.
	for range n {
		changed := false
		for _, e := range es {
			if back[e] || e[0] == e[1] {
				continue
			}
			if layer[e[1]] < layer[e[0]]+1 {
				layer[e[1]] = layer[e[0]] + 1
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	return layer
}

// order groups nodes into rows: connected nodes by layer, ordered by the
// barycentre of their neighbours, then unconnected ones in wrapped rows
// below (with edges nothing links them, so a single wide row would only
// squash the drawing).
func order(n int, es [][2]int, back map[[2]int]bool, layer []int, connected []bool, perRow int) [][]int {
	anyEdge := false
	for _, c := range connected {
		anyEdge = anyEdge || c
	}
	var rows [][]int
	if anyEdge {
		top := 0
		for v := range n {
			if connected[v] {
				top = max(top, layer[v])
			}
		}
		rows = make([][]int, top+1)
		for v := range n {
			if connected[v] {
				rows[layer[v]] = append(rows[layer[v]], v)
			}
		}
		pos := make([]float64, n)
		setPos := func() {
			for _, r := range rows {
				for i, v := range r {
					pos[v] = float64(i)
				}
			}
		}
		setPos()
		for sweep := range 4 {
			down := sweep%2 == 0
			for li := range rows {
				if !down {
					li = len(rows) - 1 - li
				}
				bary := map[int]float64{}
				for _, v := range rows[li] {
					sum, cnt := 0.0, 0
					for _, e := range es {
						if back[e] {
							continue
						}
						if down && e[1] == v && layer[e[0]] < li {
							sum += pos[e[0]]
							cnt++
						}
						if !down && e[0] == v && layer[e[1]] > li {
							sum += pos[e[1]]
							cnt++
						}
					}
					if cnt == 0 {
						bary[v] = pos[v]
					} else {
						bary[v] = sum / float64(cnt)
					}
				}
				slices.SortStableFunc(rows[li], func(a, b int) int {
					switch {
					case bary[a] < bary[b]:
						return -1
					case bary[a] > bary[b]:
						return 1
					}
					return 0
				})
				setPos()
			}
		}
	}
	var row []int
	for v := range n {
		if connected[v] {
			continue
		}
		row = append(row, v)
		if len(row) == perRow {
			rows = append(rows, row)
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// laneGap separates the gutter lanes of loops; labelRoom leaves space for
// a loop's label right of the gutter.
const (
	laneGap   = 14
	labelRoom = 64
)

// forward draws an edge down the layers as a vertical S-curve from the
// source's bottom to the target's top.
func forward(a, b Box) Route {
	x1, y1 := a.CenterX(), a.Y+a.H
	x2, y2 := b.CenterX(), b.Y
	dy := (y2 - y1) / 2
	// Labels sit past the middle, towards the target, so the labels of a
	// fan-out spread apart instead of piling up near the source.
	return Route{From: a.ID, To: b.ID, Path: path("M", x1, y1, "C", x1, y1+dy, x2, y2-dy, x2, y2),
		LabelX: x1 + (x2-x1)*0.62, LabelY: y1 + (y2-y1)*0.62, Anchor: "middle"}
}

// backward draws an edge up (a loop): out of the source's bottom, right
// along the gap below its layer to the gutter, up the gutter, left along
// the gap above the target's layer, and down into the target's top. Both
// horizontal runs lie in gaps between layers, so they cross no node.
func backward(a, b Box, gutter float64, opt Options) Route {
	x1, y1 := a.X+a.W*0.75, a.Y+a.H
	x2, y2 := b.X+b.W*0.75, b.Y
	below := y1 + opt.LayerGap/3
	above := y2 - opt.LayerGap/3
	return Route{From: a.ID, To: b.ID, Back: true,
		Path:   path("M", x1, y1, "L", x1, below, "L", gutter, below, "L", gutter, above, "L", x2, above, "L", x2, y2),
		LabelX: gutter + 6, LabelY: (below + above) / 2, Anchor: "start"}
}

func path(parts ...any) string {
	var sb strings.Builder
	for i, p := range parts {
		if i > 0 {
			sb.WriteByte(' ')
		}
		switch v := p.(type) {
		case string:
			sb.WriteString(v)
		case float64:
			sb.WriteString(strconv.FormatFloat(v, 'f', 1, 64))
		}
	}
	return sb.String()
}

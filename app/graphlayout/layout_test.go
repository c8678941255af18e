package graphlayout

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	curveRE = regexp.MustCompile(`^M -?[0-9.]+ -?[0-9.]+ C( -?[0-9.]+){6}$`)
	loopRE  = regexp.MustCompile(`^M -?[0-9.]+ -?[0-9.]+( L -?[0-9.]+ -?[0-9.]+){5}$`)
)

func layerOf(t *testing.T, l Layout, id string) int {
	t.Helper()
	b, ok := l.Box(id)
	if !ok {
		t.Fatalf("no box for %q", id)
	}
	return b.Layer
}

func TestCompute_PlacesNodesInLayersAlongEdges(t *testing.T) {
	cases := []struct {
		name   string
		nodes  []string
		edges  []Edge
		entry  string
		layers map[string]int
		back   int
	}{
		{"chain", []string{"a", "b", "c"}, []Edge{{"a", "b"}, {"b", "c"}}, "a", map[string]int{"a": 0, "b": 1, "c": 2}, 0},
		{"fan-out and join", []string{"a", "b", "c", "d"}, []Edge{{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}}, "a",
			map[string]int{"a": 0, "b": 1, "c": 1, "d": 2}, 0},
		{"longest path wins", []string{"a", "b", "c"}, []Edge{{"a", "c"}, {"a", "b"}, {"b", "c"}}, "a", map[string]int{"a": 0, "b": 1, "c": 2}, 0},
		{"loop back is broken from the entry", []string{"w", "r", "p"}, []Edge{{"p", "w"}, {"w", "r"}, {"r", "w"}}, "p",
			map[string]int{"p": 0, "w": 1, "r": 2}, 1},
		{"self loop", []string{"a", "b"}, []Edge{{"a", "a"}, {"a", "b"}}, "a", map[string]int{"a": 0, "b": 1}, 1},
		{"unknown and duplicate edges ignored", []string{"a", "b"}, []Edge{{"a", "b"}, {"a", "b"}, {"a", "zz"}}, "", map[string]int{"a": 0, "b": 1}, 0},
		{"unconnected nodes wrap below the graph", []string{"a", "b", "x1", "x2", "x3", "x4", "x5"}, []Edge{{"a", "b"}}, "a",
			map[string]int{"a": 0, "b": 1, "x1": 2, "x4": 2, "x5": 3}, 0},
		{"no edges at all", []string{"x", "y"}, nil, "", map[string]int{"x": 0, "y": 0}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := Compute(c.nodes, c.edges, c.entry, Options{})
			if len(l.Boxes) != len(c.nodes) {
				t.Fatalf("%d boxes for %d nodes", len(l.Boxes), len(c.nodes))
			}
			for id, want := range c.layers {
				if got := layerOf(t, l, id); got != want {
					t.Errorf("layer of %s = %d, want %d", id, got, want)
				}
			}
			back := 0
			for _, r := range l.Routes {
				re := curveRE
				if r.Back {
					re = loopRE
				}
				if !re.MatchString(r.Path) {
					t.Errorf("edge %s→%s path %q is not an SVG cubic path", r.From, r.To, r.Path)
				}
				if r.Back {
					back++
				}
			}
			if back != c.back {
				t.Errorf("%d back edges, want %d", back, c.back)
			}
		})
	}
}

func TestCompute_BoxesDoNotOverlapAndFitTheDrawing(t *testing.T) {
	nodes := []string{"plan", "route", "web", "db", "merge", "write", "review", "extra"}
	edges := []Edge{{"plan", "route"}, {"route", "web"}, {"route", "db"}, {"web", "merge"}, {"db", "merge"},
		{"merge", "write"}, {"write", "review"}, {"review", "write"}}
	l := Compute(nodes, edges, "plan", Options{})
	for i, a := range l.Boxes {
		if a.X < 0 || a.Y < 0 || a.X+a.W > l.Width || a.Y+a.H > l.Height {
			t.Errorf("box %s at (%v,%v) leaves the %vx%v drawing", a.ID, a.X, a.Y, l.Width, l.Height)
		}
		for _, b := range l.Boxes[i+1:] {
			if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				t.Errorf("boxes %s and %s overlap", a.ID, b.ID)
			}
		}
	}
	for _, r := range l.Routes {
		if r.LabelX < 0 || r.LabelX > l.Width || r.LabelY < 0 || r.LabelY > l.Height {
			t.Errorf("label of %s→%s at (%v,%v) is outside the drawing", r.From, r.To, r.LabelX, r.LabelY)
		}
	}
}

func TestCompute_LoopsRunRightOfEveryNode(t *testing.T) {
	nodes := []string{"plan", "write", "review", "revise", "finalize"}
	edges := []Edge{{"plan", "write"}, {"write", "review"}, {"review", "revise"}, {"review", "finalize"}, {"revise", "write"}, {"finalize", "finalize"}}
	l := Compute(nodes, edges, "plan", Options{})
	right := 0.0
	for _, b := range l.Boxes {
		right = max(right, b.X+b.W)
	}
	loops := 0
	for _, r := range l.Routes {
		if !r.Back {
			continue
		}
		loops++
		var pts []float64
		for _, f := range strings.Fields(r.Path) {
			if v, err := strconv.ParseFloat(f, 64); err == nil {
				pts = append(pts, v)
			}
		}
		gutter := pts[4] // the third point's x
		if gutter <= right || gutter >= l.Width {
			t.Errorf("loop %s→%s runs at x=%v, not between the boxes (right %v) and the edge (%v)", r.From, r.To, gutter, right, l.Width)
		}
		// Horizontal runs lie in the gaps between layers, not inside a box.
		for _, y := range []float64{pts[3], pts[7]} {
			for _, b := range l.Boxes {
				if y > b.Y && y < b.Y+b.H {
					t.Errorf("loop %s→%s runs through %s at y=%v", r.From, r.To, b.ID, y)
				}
			}
		}
	}
	if loops != 2 {
		t.Errorf("%d loops, want 2", loops)
	}
}

func TestCompute_BarycentreKeepsChildrenUnderTheirParents(t *testing.T) {
	// Given in crossing order: a1's child listed last.
	l := Compute([]string{"a1", "a2", "c2", "c1"}, []Edge{{"a1", "c1"}, {"a2", "c2"}}, "", Options{})
	a1, _ := l.Box("a1")
	a2, _ := l.Box("a2")
	c1, _ := l.Box("c1")
	c2, _ := l.Box("c2")
	if (a1.X < a2.X) != (c1.X < c2.X) {
		t.Errorf("edges cross: a1=%v a2=%v c1=%v c2=%v", a1.X, a2.X, c1.X, c2.X)
	}
}

func TestCompute_EmptyGraphHasASize(t *testing.T) {
	l := Compute(nil, nil, "", Options{})
	if l.Width <= 0 || l.Height <= 0 || len(l.Boxes) != 0 {
		t.Errorf("empty layout %+v", l)
	}
}

func TestCompute_HorizontalPutsLayersInColumnsAndLoopsBelow(t *testing.T) {
	nodes := []string{"plan", "route", "web", "db", "merge", "write", "review", "extra"}
	edges := []Edge{{"plan", "route"}, {"route", "web"}, {"route", "db"}, {"web", "merge"}, {"db", "merge"},
		{"merge", "write"}, {"write", "review"}, {"review", "write"}}
	l := Compute(nodes, edges, "plan", Options{Horizontal: true, LayerGap: 64})
	bottom := 0.0
	for i, a := range l.Boxes {
		if a.X < 0 || a.Y < 0 || a.X+a.W > l.Width || a.Y+a.H > l.Height {
			t.Errorf("box %s at (%v,%v) leaves the %vx%v drawing", a.ID, a.X, a.Y, l.Width, l.Height)
		}
		for _, b := range l.Boxes[i+1:] {
			if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				t.Errorf("boxes %s and %s overlap", a.ID, b.ID)
			}
			// One column per layer: boxes of a layer share x, later layers
			// lie to the right.
			if (a.Layer == b.Layer) != (a.X == b.X) || (a.Layer < b.Layer && a.X >= b.X) {
				t.Errorf("%s (layer %d, x %v) and %s (layer %d, x %v) are not in layer columns", a.ID, a.Layer, a.X, b.ID, b.Layer, b.X)
			}
		}
		bottom = max(bottom, a.Y+a.H)
	}
	if l.Width <= l.Height {
		t.Errorf("a horizontal layout of a long graph is wider than tall: %vx%v", l.Width, l.Height)
	}
	loops := 0
	for _, r := range l.Routes {
		if r.LabelX < 0 || r.LabelX > l.Width || r.LabelY < 0 || r.LabelY > l.Height {
			t.Errorf("label of %s→%s at (%v,%v) is outside the drawing", r.From, r.To, r.LabelX, r.LabelY)
		}
		if !r.Back {
			if !curveRE.MatchString(r.Path) {
				t.Errorf("edge %s→%s path %q", r.From, r.To, r.Path)
			}
			continue
		}
		loops++
		if !loopRE.MatchString(r.Path) {
			t.Errorf("loop %s→%s path %q", r.From, r.To, r.Path)
		}
		var pts []float64
		for _, f := range strings.Fields(r.Path) {
			if v, err := strconv.ParseFloat(f, 64); err == nil {
				pts = append(pts, v)
			}
		}
		if lane := pts[5]; lane <= bottom || lane >= l.Height {
			t.Errorf("loop %s→%s runs at y=%v, not between the boxes (bottom %v) and the edge (%v)", r.From, r.To, lane, bottom, l.Height)
		}
		// Vertical runs lie in the gaps between columns, not inside a box.
		for _, x := range []float64{pts[2], pts[6]} {
			for _, b := range l.Boxes {
				if x > b.X && x < b.X+b.W {
					t.Errorf("loop %s→%s runs through %s at x=%v", r.From, r.To, b.ID, x)
				}
			}
		}
	}
	if loops != 1 {
		t.Errorf("%d loops, want 1", loops)
	}
}

package ui

import (
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/export"
	"github.com/dashstream/dashstream/app/graphlayout"
	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/app/viewroute"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// loadingGrace is how long a run that is not in the store yet is shown
// as loading before it is called not found: the session needs a moment
// to connect and ask the server for its thread.
const loadingGrace = 4 * time.Second

// RunPage is `/runs/{thread_id}?seq=N&node=ID&tab=T`: one run's graph,
// time-travel slider, node details and panels. Everything on screen is in
// the URL; changes replace the history entry so the address bar stays a
// bookmark of the view.
type RunPage struct {
	app.Compo
	src  Source
	live liveness

	view      viewroute.View
	followed  string
	openedAt  time.Time
	health    session.Health
	now       time.Time
	found     bool
	replaying bool

	header    viewmodel.RunHeader
	timeline  viewmodel.Timeline
	graph     viewmodel.Graph
	layout    graphlayout.Layout
	layoutKey string
	shownSeq  uint64

	// The active tab's content.
	tree       []viewmodel.TreeRow
	treeNote   string
	treeOpen   map[string]bool
	diff       []viewmodel.DiffRow
	diffTotal  int
	diffNote   string
	diffSeq    uint64
	events     []viewmodel.EventRow
	eventTotal int
	eventAll   int
	eventQuery string
	eventPage  int
	eventPages int
	tokens     []viewmodel.TokenRow
	tools      []viewmodel.ToolRow
	metrics    []viewmodel.MetricRow
	counts     map[viewroute.Tab]string
}

// OnMount starts following the store.
func (p *RunPage) OnMount(ctx app.Context) {
	p.src = orNone(p.src)
	p.live.start(ctx, p.src, p.refresh)
}

// open shows a view: the URL's on navigation.
func (p *RunPage) open(v viewroute.View, now time.Time) {
	if v.Thread != p.view.Thread || p.openedAt.IsZero() {
		p.treeOpen, p.eventQuery, p.eventPage = nil, "", 0
		p.layoutKey = ""
		p.openedAt = now
	}
	p.view = v
	if v.Thread != "" && v.Thread != p.followed {
		p.src.Follow(v.Thread)
		p.followed = v.Thread
	}
	p.update(now)
}

// OnNav reads the view from the URL: on opening, on reload, and on back
// and forward, which is what makes a bookmark reproduce the view.
func (p *RunPage) OnNav(ctx app.Context) {
	p.src = orNone(p.src)
	v := viewroute.Parse(ctx.Page().URL())
	ctx.Page().SetTitle("%s · %s", viewmodel.ShortID(v.Thread), Title)
	p.open(v, time.Now())
}

// OnDismount releases the run.
func (p *RunPage) OnDismount() {
	p.live.stop()
	if p.followed != "" {
		p.src.Unfollow()
		p.followed = ""
	}
}

// bookmark writes the view into the address bar without a new history
// entry, then redraws.
func (p *RunPage) bookmark(ctx app.Context) {
	ctx.Page().ReplaceURL(p.view.URL())
	p.refresh(ctx)
}

func (p *RunPage) refresh(app.Context) { p.update(time.Now()) }

// update rebuilds the view models for the view in p.view.
func (p *RunPage) update(now time.Time) {
	p.now = now
	p.health = p.src.Health()
	p.replaying = slices.Contains(p.health.ReplayingThreads, p.view.Thread)
	p.src.Read(func(s *runstate.Store) {
		r := s.Run(p.view.Thread)
		p.found = r != nil
		if r != nil {
			p.build(r)
		}
	})
}

// build copies what the page shows out of the run (under the read lock).
func (p *RunPage) build(r *runstate.Run) {
	p.header = viewmodel.NewRunHeader(r, p.now)
	p.timeline = viewmodel.BuildTimeline(r)
	seq := p.view.Seq
	var states []runstate.NodeState
	if seq == 0 {
		states = r.NodeStates()
		p.shownSeq = r.LastSeq()
	} else {
		states = r.NodeStatesAt(seq)
		p.shownSeq = seq
	}
	p.graph = viewmodel.BuildGraph(r, states)
	if k := layoutKey(p.graph); k != p.layoutKey {
		p.layout, p.layoutKey = layoutOf(p.graph), k
	}
	p.counts = map[viewroute.Tab]string{
		viewroute.TabEvents: strconv.Itoa(r.EventCount()), viewroute.TabTokens: strconv.Itoa(len(r.TokenStreams())),
		viewroute.TabTools: strconv.Itoa(len(r.ToolCalls())), viewroute.TabMetrics: strconv.Itoa(len(r.Metrics())),
	}
	switch p.view.ActiveTab() {
	case viewroute.TabState:
		p.buildState(r)
	case viewroute.TabDiff:
		p.buildDiff(r)
	case viewroute.TabEvents:
		rows := viewmodel.EventRows(r)
		slices.Reverse(rows) // newest first
		match := viewmodel.FilterEvents(rows, p.eventQuery)
		p.eventAll, p.eventTotal = len(rows), len(match)
		p.events, p.eventPage, p.eventPages = viewmodel.Paginate(match, p.eventPage, eventsPerPage)
	case viewroute.TabTokens:
		p.tokens = viewmodel.TokenRows(r)
	case viewroute.TabTools:
		p.tools = viewmodel.ToolRows(r)
	case viewroute.TabMetrics:
		p.metrics = viewmodel.MetricRows(r)
	}
}

// stateAt returns the state shown for seq: the live state, or exactly the
// store's reconstruction at seq.
func stateAt(r *runstate.Run, seq uint64, live bool) (*jsontree.Node, uint64, error) {
	if live {
		st, at := r.State()
		if st == nil {
			return nil, 0, runstate.ErrNoState
		}
		return st, at, nil
	}
	st, err := r.StateAt(seq)
	return st, seq, err
}

func stateError(err error) string {
	switch {
	case errors.Is(err, runstate.ErrNoState):
		return "The run had no state yet at this point."
	case errors.Is(err, runstate.ErrOutOfRange):
		return "The state at this point is no longer kept (only the most recent history is)."
	}
	return err.Error()
}

func (p *RunPage) buildState(r *runstate.Run) {
	st, at, err := stateAt(r, p.view.Seq, p.view.Live())
	p.tree, p.treeNote = nil, ""
	if err != nil {
		p.treeNote = stateError(err)
		return
	}
	open := p.treeOpen
	p.tree = viewmodel.TreeRows(st, viewmodel.TreeOptions{
		Changed: viewmodel.ChangedAt(r, at),
		Open: func(path string, depth int) bool {
			if v, ok := open[path]; ok {
				return v
			}
			return viewmodel.DefaultOpen(path, depth)
		},
	})
	p.treeNote = "State after sequence " + strconv.FormatUint(at, 10)
	if p.view.Live() {
		p.treeNote += " (live)"
	}
	if p.header.Untrusted() {
		p.treeNote += " · not trusted: " + p.header.Reason
	}
}

func (p *RunPage) buildDiff(r *runstate.Run) {
	p.diff, p.diffTotal, p.diffNote, p.diffSeq = nil, 0, "", 0
	// The selected event may have changed no state (a node start, a
	// token): show the change in effect at that point instead.
	at := viewmodel.LastChangeAt(r, p.view.Seq)
	if at == 0 {
		p.diffNote = "No state change is kept up to this point."
		return
	}
	p.diffSeq = at
	after, err := r.StateAt(at)
	if err != nil {
		p.diffNote = stateError(err)
		return
	}
	var before *jsontree.Node
	if at > 1 {
		b, err := r.StateAt(at - 1)
		switch {
		case errors.Is(err, runstate.ErrOutOfRange):
			p.diffNote = "The state before this change is no longer kept."
			return
		case err == nil:
			before = b
		}
	}
	p.diff, p.diffTotal = viewmodel.DiffRows(before, after, 200, 300)
	if len(p.diff) == 0 {
		p.diffNote = "Sequence " + strconv.FormatUint(at, 10) + " left the state as it was."
	}
}

// seekIndex pauses at a slider position.
func (p *RunPage) seekIndex(ctx app.Context, i int) {
	if p.setIndex(i) {
		p.bookmark(ctx)
	}
}

// setIndex moves the view to slider position i.
func (p *RunPage) setIndex(i int) bool {
	if i < 0 || i >= p.timeline.Len() {
		return false
	}
	p.view.Seq = p.timeline.Seqs[i]
	return true
}

func (p *RunPage) seekSeq(ctx app.Context, seq uint64) {
	p.view.Seq = seq
	p.bookmark(ctx)
}

func (p *RunPage) goLive(ctx app.Context) {
	p.view.Seq = 0
	p.bookmark(ctx)
}

func (p *RunPage) selectNode(ctx app.Context, id string) {
	if p.view.Node == id {
		id = ""
	}
	p.view.Node = id
	p.bookmark(ctx)
}

func (p *RunPage) pickTab(ctx app.Context, t viewroute.Tab) {
	p.view.Tab = t
	if t == viewroute.DefaultTab {
		p.view.Tab = ""
	}
	p.bookmark(ctx)
}

func (p *RunPage) toggle(ctx app.Context, path string, open bool) {
	if p.treeOpen == nil {
		p.treeOpen = map[string]bool{}
	}
	p.treeOpen[path] = open
	p.refresh(ctx)
}

func (p *RunPage) export(ctx app.Context, f exportFormat) {
	var name, mime string
	var data []byte
	p.src.Read(func(s *runstate.Store) {
		r := s.Run(p.view.Thread)
		if r == nil {
			return
		}
		g := viewmodel.BuildGraph(r, r.NodeStates())
		base := g.Name
		if base == "" {
			base = r.ThreadID()
		}
		switch f {
		case exportJSON:
			b, err := export.RunJSON(r)
			if err != nil {
				app.Log("export:", err)
				return
			}
			name, mime, data = export.FileName(r.ThreadID(), "json"), "application/json", b
		case exportDOT:
			name, mime, data = export.FileName(base, "dot"), "text/vnd.graphviz", []byte(export.DOT(g))
		case exportMermaid:
			name, mime, data = export.FileName(base, "mmd"), "text/plain", []byte(export.Mermaid(g))
		}
	})
	if data != nil {
		download(name, mime, data)
	}
}

// Render draws the page.
func (p *RunPage) Render() app.UI {
	f := frame{Active: viewroute.Run, Health: p.health, Now: p.now}
	if !p.found {
		return f.Render(p.missing())
	}
	return f.Render(
		p.head(),
		historyNotice{Status: p.src.History(p.view.Thread)}.Render(),
		runBanners{Header: p.header, Replaying: p.replaying}.Render(),
		app.Div().Class("run-main").Body(
			app.Section().Class("panel", "graph-panel").Aria("labelledby", "graph-title").Body(
				app.Div().Class("panel-head").Body(
					app.H2().ID("graph-title").Text("Graph"),
					app.Span().Class("muted").Text(graphCaption(p.graph)),
				),
				graphView{Graph: p.graph, Layout: p.layout, Selected: p.view.Node, Current: p.header.CurrentNode, OnSelect: p.selectNode}.Render(),
			),
			p.details(),
		),
		sliderView{Timeline: p.timeline, Index: p.timeline.IndexOf(p.view.Seq), Live: p.view.Live(),
			Running: p.header.Row.Live, OnSeek: p.seekIndex, OnLive: p.goLive}.Render(),
		app.Section().Class("panel", "tab-panel").Aria("label", "Run details").Body(
			tabBar{Active: p.view.ActiveTab(), Counts: p.counts, OnPick: p.pickTab}.Render(),
			app.Div().ID("tabpanel").Attr("role", "tabpanel").Aria("labelledby", "tab-"+string(p.view.ActiveTab())).
				DataSet("tab", string(p.view.ActiveTab())).DataSet("seq", strconv.FormatUint(p.shownSeq, 10)).
				Body(p.tabContent()),
		),
	)
}

func diffCaption(change, shown uint64) string {
	c := "Change made by sequence " + strconv.FormatUint(change, 10)
	if change != shown && change != 0 {
		c += " (the latest at or before sequence " + strconv.FormatUint(shown, 10) + ")"
	}
	return c
}

func graphCaption(g viewmodel.Graph) string {
	s := ""
	if g.Version != "" {
		s = "v" + g.Version + " · "
	}
	s += viewmodel.Plural(len(g.Nodes), "node", "nodes") + " · " + viewmodel.Plural(len(g.Edges), "edge", "edges")
	if !g.HasSchema {
		s += " · no schema sent"
	}
	return s
}

func (p *RunPage) head() app.UI {
	h := p.header
	title := h.Row.Graph
	if title == "" {
		title = "Run"
	}
	meta := []app.UI{
		app.Span().Body(app.Text("Thread "), app.Code().ID("run-thread").Text(p.view.Thread)),
		app.Span().Text("Started " + viewmodel.FormatClock(h.Row.Started) + " UTC"),
		app.Span().Text(viewmodel.FormatDuration(h.Row.Duration)),
		app.Span().Text(viewmodel.FormatCount(h.Processed) + " messages"),
	}
	if h.CurrentNode != "" && h.Row.Live {
		meta = append(meta, app.Span().Body(app.Text("Running "), app.Strong().Text(h.CurrentNode)))
	}
	if h.SchemaID != "" {
		meta = append(meta, app.Span().Title("schema id").Text("schema "+viewmodel.Truncate(h.SchemaID, 8)))
	}
	return app.Div().Class("run-head").Body(
		app.Nav().Class("crumbs").Aria("label", "Breadcrumb").Body(app.A().Href("/runs").Text("Runs"), app.Span().Aria("hidden", "true").Text(" / "),
			app.Span().Aria("current", "page").Text(viewmodel.ShortID(p.view.Thread))),
		app.Div().Class("run-title").Body(
			app.H1().Class("page-title").Body(app.Text(title+" "), statusBadge(h.Row.Status)),
			exportMenu{OnExport: p.export}.Render(),
		),
		app.P().Class("run-meta").Body(meta...),
	)
}

func (p *RunPage) details() app.UI {
	n, ok := p.graph.Node(p.view.Node)
	return nodeDetails{Node: n, Selected: ok, OnSeek: p.seekSeq,
		OnClose: func(ctx app.Context) { p.selectNode(ctx, p.view.Node) }}.Render()
}

func (p *RunPage) tabContent() app.UI {
	switch p.view.ActiveTab() {
	case viewroute.TabDiff:
		return diffView{Rows: p.diff, Total: p.diffTotal, Note: p.diffNote, Caption: diffCaption(p.diffSeq, p.shownSeq)}.Render()
	case viewroute.TabEvents:
		return eventList{Rows: p.events, Total: p.eventTotal, All: p.eventAll, Page: p.eventPage, Pages: p.eventPages,
			Query: p.eventQuery, Selected: p.view.Seq,
			OnQuery: func(ctx app.Context, q string) { p.eventQuery, p.eventPage = q, 0; p.refresh(ctx) },
			OnPage:  func(ctx app.Context, n int) { p.eventPage = n; p.refresh(ctx) },
			OnSeek:  p.seekSeq}.Render()
	case viewroute.TabTokens:
		return tokensView{Rows: p.tokens}.Render()
	case viewroute.TabTools:
		return toolsView{Rows: p.tools}.Render()
	case viewroute.TabMetrics:
		return metricsView{Rows: p.metrics}.Render()
	}
	if p.tree == nil {
		return emptyState(p.treeNote, "")
	}
	return stateTree{Rows: p.tree, Caption: p.treeNote, OnToggle: p.toggle}.Render()
}

// missing says why the run is not shown: still loading, or not found.
func (p *RunPage) missing() app.UI {
	loading := p.replaying || p.health.State == session.Connecting || p.health.State == session.Replaying ||
		p.now.Sub(p.openedAt) < loadingGrace || p.src.History(p.view.Thread).Loading
	if loading {
		return app.Div().Class("panel", "notice").Attr("role", "status").Body(
			app.H1().Class("page-title").Text("Loading run"),
			app.P().Body(app.Text("Rebuilding the history of "), app.Code().ID("run-thread").Text(p.view.Thread),
				app.Text(" from the server…")),
			app.Div().Class("spinner").Aria("hidden", "true"),
		)
	}
	return app.Div().Class("panel", "notice", "not-found").Body(
		app.H1().Class("page-title").Text("Run not found"),
		app.P().Body(app.Text("No run with thread id "), app.Code().ID("run-thread").Text(p.view.Thread),
			app.Text(" is known to this dashboard or still held by the server.")),
		app.A().Class("btn").Href("/runs").Text("← Back to all runs"),
	)
}

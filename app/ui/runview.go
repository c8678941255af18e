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
	"github.com/dashstream/dashstream/protocol/pricing"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// loadingGrace is how long a run that is not in the store yet is shown
// as loading before it is called not found: the session needs a moment
// to connect and ask the server for its thread.
const loadingGrace = 4 * time.Second

// RunPage is `/runs/{thread_id}?seq=N&node=ID&tab=T&q=Q&page=P`: one
// run's header with its usage and cost, its graph, time-travel slider,
// node details and panels (the Timeline waterfall first). Everything on
// screen is in the URL; changes replace the history entry so the address
// bar stays a bookmark of the view.
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
	prices    *pricing.Table
	totals    viewmodel.Totals
	failure   viewmodel.Failure
	failed    bool
	nodeRuns  int
	previous  string // the previous run of the same graph, "" when none is known
	prevFrom  bool   // previous is the catalog's answer (not only this tab's runs)
	prevRun   previousRun
	started   time.Time
	defTab    viewroute.Tab
	folded    bool // the graph panel is folded (a preference)
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
	trace      viewmodel.Waterfall
	events     []viewmodel.EventRow
	eventTotal int
	eventAll   int
	eventPage  int
	eventPages int
	copied     bool // the address was copied (the button says so)
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
		p.treeOpen = nil
		p.layoutKey = ""
		p.openedAt = now
		p.folded = graphFolded()
	}
	p.copied = false
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
	p.syncSlider(ctx)
	p.askPrevious(ctx)
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

func (p *RunPage) refresh(ctx app.Context) {
	p.update(time.Now())
	p.syncSlider(ctx)
	p.askPrevious(ctx)
}

// syncSlider sets the range input's value after the page is drawn. go-app
// sets an element's attributes in no fixed order, and a range clamps its
// value to the max it has when the value is set: set before a larger max,
// the thumb stops short ("Event 163 of 181" with the thumb at 100), and
// live, where max and value grow together, it lags behind the text.
func (p *RunPage) syncSlider(ctx app.Context) {
	ctx.Defer(func(app.Context) {
		n := p.timeline.Len()
		if n == 0 {
			return
		}
		el := app.Window().GetElementByID("seq-slider")
		if !el.Truthy() {
			return
		}
		i := min(max(p.timeline.IndexOf(p.view.Seq), 0), n-1)
		el.Set("max", n-1)
		el.Set("value", i)
	})
}

// update rebuilds the view models for the view in p.view.
func (p *RunPage) update(now time.Time) {
	p.now = now
	p.health = p.src.Health()
	p.replaying = slices.Contains(p.health.ReplayingThreads, p.view.Thread)
	p.prices = pricesOf(p.src)
	p.src.Read(func(s *runstate.Store) {
		r := s.Run(p.view.Thread)
		p.found = r != nil
		if r != nil {
			p.build(r)
			p.started = viewmodel.RunStart(r)
			p.previous, p.prevFrom = p.prevRun.pick(p.view.Thread, func() string { return viewmodel.PreviousRun(s, r) })
		}
	})
}

// askPrevious has the catalog name the previous run of this run's graph.
func (p *RunPage) askPrevious(ctx app.Context) {
	if !p.found {
		return
	}
	p.prevRun.ask(ctx, p.src, p.view.Thread, p.header.Row.Graph, p.started, p.refresh)
}

// tab returns the tab shown: the URL's, else the run's default (the
// timeline for a run without a schema, whose graph has no edges).
func (p *RunPage) tab() viewroute.Tab { return p.view.TabOr(p.defTab) }

// build copies what the page shows out of the run (under the read lock).
func (p *RunPage) build(r *runstate.Run) {
	p.header = viewmodel.NewRunHeader(r, p.now)
	sum := r.Summary()
	p.totals, p.nodeRuns = viewmodel.NewTotals(sum, p.prices), sum.NodeCount
	p.failure, p.failed = viewmodel.FailureOf(r)
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
	p.defTab = viewroute.DefaultTab
	if !p.graph.HasSchema {
		p.defTab = viewroute.TabTimeline
	}
	p.counts = map[viewroute.Tab]string{
		viewroute.TabTimeline: strconv.Itoa(p.nodeRuns),
		viewroute.TabEvents:   strconv.Itoa(r.EventCount()), viewroute.TabTokens: strconv.Itoa(len(r.TokenStreams())),
		viewroute.TabTools: strconv.Itoa(len(r.ToolCalls())), viewroute.TabMetrics: strconv.Itoa(len(r.Metrics())),
	}
	switch p.tab() {
	case viewroute.TabTimeline:
		p.trace = viewmodel.BuildWaterfall(r, p.prices, p.now)
	case viewroute.TabState:
		p.buildState(r)
	case viewroute.TabDiff:
		p.buildDiff(r)
	case viewroute.TabEvents:
		rows := viewmodel.EventRows(r)
		slices.Reverse(rows) // newest first
		match := viewmodel.FilterEvents(rows, p.view.Query)
		p.eventAll, p.eventTotal = len(rows), len(match)
		p.events, p.eventPage, p.eventPages = viewmodel.Paginate(match, max(p.view.ListPage-1, 0), eventsPerPage)
	case viewroute.TabTokens:
		p.tokens = viewmodel.TokenRows(r, p.prices, p.now)
	case viewroute.TabTools:
		p.tools = viewmodel.ToolRows(r, p.now)
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
	switch {
	case p.view.Live() && p.header.Row.Live:
		p.treeNote += " (live)"
	case p.view.Live():
		p.treeNote += " (final)"
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
	if t == p.defTab {
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
	tab := p.tab()
	main := []app.UI{p.graphPanel()}
	cls := []string{"run-main"}
	if _, selected := p.graph.Node(p.view.Node); selected {
		main = append(main, p.details())
		cls = append(cls, "with-details")
	}
	return f.Render(
		p.head(),
		historyNotice{Status: p.src.History(p.view.Thread)}.Render(),
		runBanners{Header: p.header, Replaying: p.replaying}.Render(),
		app.Div().Class(cls...).Body(main...),
		sliderView{Timeline: p.timeline, Index: p.timeline.IndexOf(p.view.Seq), Live: p.view.Live(),
			Running: p.header.Row.Live, OnSeek: p.seekIndex, OnLive: p.goLive}.Render(),
		app.Section().Class("panel", "tab-panel").Aria("label", "Run details").Body(
			tabBar{Active: tab, Counts: p.counts, OnPick: p.pickTab}.Render(),
			app.Div().ID("tabpanel").Attr("role", "tabpanel").Aria("labelledby", "tab-"+string(tab)).
				DataSet("tab", string(tab)).DataSet("seq", strconv.FormatUint(p.shownSeq, 10)).
				Body(p.tabContent(tab)),
		),
	)
}

// graphPanel is the run's graph, laid out left to right so that it stays
// short; it folds away (a choice remembered across pages and reloads).
func (p *RunPage) graphPanel() app.UI {
	label, hint := "Hide graph", "Fold the graph away"
	if p.folded {
		label, hint = "Show graph", "Show the graph"
	}
	var body app.UI
	if !p.folded {
		body = graphView{Graph: p.graph, Layout: p.layout, Selected: p.view.Node, Current: p.header.CurrentNode, OnSelect: p.selectNode}.Render()
	}
	return app.Section().ID("graph-panel").Class("panel", "graph-panel").Aria("labelledby", "graph-title").
		DataSet("folded", strconv.FormatBool(p.folded)).Body(
		app.Div().Class("panel-head").Body(
			app.H2().ID("graph-title").Text("Graph"),
			app.Span().Class("muted", "graph-caption").Text(graphCaption(p.graph)),
			app.If(!p.folded, graphLegend),
			app.Button().Type("button").ID("graph-fold").Class("btn", "btn-small", "panel-action").
				Aria("expanded", strconv.FormatBool(!p.folded)).Aria("controls", "graph-panel").Title(hint).
				OnClick(func(ctx app.Context, e app.Event) { p.foldGraph(ctx) }).Text(label),
		),
		body,
	)
}

func (p *RunPage) foldGraph(ctx app.Context) {
	p.folded = !p.folded
	setGraphFolded(p.folded)
	p.refresh(ctx)
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
		app.Span().Title("Duration").Text(viewmodel.FormatDuration(h.Row.Duration)),
		app.Span().Text(viewmodel.FormatCount(h.Processed) + " messages"),
	}
	if h.CurrentNode != "" && h.Row.Live {
		meta = append(meta, app.Span().Body(app.Text("Running "), app.Strong().Text(h.CurrentNode)))
	}
	if h.SchemaID != "" {
		meta = append(meta, app.Span().Title("schema id "+h.SchemaID).Text("schema "+viewmodel.Truncate(h.SchemaID, 8)))
	}
	return app.Div().Class("run-head").Body(
		app.Nav().Class("crumbs").Aria("label", "Breadcrumb").Body(app.A().Href("/runs").Text("Runs"), app.Span().Aria("hidden", "true").Text(" / "),
			app.Span().Aria("current", "page").Text(viewmodel.ShortID(p.view.Thread))),
		app.Div().Class("run-title").Body(
			app.H1().Class("page-title").Body(app.Text(title+" "), statusBadge(h.Row.Status)),
			app.Div().Class("run-actions").Body(
				p.compareLink(),
				copyLinkButton{Copied: p.copied, OnCopied: func(ctx app.Context) { p.copied = true; p.refresh(ctx) }}.Render(),
				exportMenu{OnExport: p.export}.Render(),
			),
		),
		app.P().Class("run-meta").Body(meta...),
		app.Div().ID("run-totals").Body(totalsView{T: p.totals, NodeRuns: p.nodeRuns}.Render()),
		app.If(p.failed, func() app.UI { return p.failureLine() }),
	)
}

// compareLink leads to the comparison with the previous run of the same
// graph: the catalog's, or the one before it that this tab holds.
func (p *RunPage) compareLink() app.UI {
	if p.previous == "" {
		why := "No earlier run of this graph is known to this dashboard"
		if p.prevFrom {
			why = "No earlier run of this graph is retained"
		}
		return app.Span().Class("btn", "btn-small", "btn-disabled").Aria("disabled", "true").
			Title(why).Text("Compare with previous")
	}
	return app.A().ID("compare-previous").Class("btn", "btn-small").Href(viewroute.CompareURL(p.previous, p.view.Thread)).
		Title("Compare with " + p.previous + ", the previous run of this graph").Text("Compare with previous")
}

// failureLine says why a failed run failed, where, and links to that
// moment.
func (p *RunPage) failureLine() app.UI {
	f := p.failure
	where := "Failed"
	if f.Node != "" {
		where += " in " + f.Node
	}
	var link app.UI
	if f.Seq != 0 {
		at := p.view
		at.Seq, at.Node, at.ListPage = f.Seq, f.Node, 0
		link = app.A().ID("failure-link").Class("banner-link").Href(at.String()).Text("Show the failing moment (seq " + strconv.FormatUint(f.Seq, 10) + ")")
	}
	return app.Div().ID("run-failure").Class("run-failure").Attr("role", "alert").Body(
		app.Strong().Text(where+": "),
		app.Span().Class("failure-text").Text(f.Error),
		link,
	)
}

func (p *RunPage) details() app.UI {
	n, ok := p.graph.Node(p.view.Node)
	return nodeDetails{Node: n, Selected: ok, OnSeek: p.seekSeq,
		OnClose: func(ctx app.Context) { p.selectNode(ctx, p.view.Node) }}.Render()
}

// selectSpan selects a waterfall row: its node, at its moment.
func (p *RunPage) selectSpan(ctx app.Context, node string, seq uint64) {
	p.view.Node, p.view.Seq = node, seq
	p.bookmark(ctx)
}

func (p *RunPage) tabContent(tab viewroute.Tab) app.UI {
	switch tab {
	case viewroute.TabTimeline:
		return waterfallView{W: p.trace, Selected: p.trace.Selected(p.view.Node, p.view.Seq), OnSelect: p.selectSpan}.Render()
	case viewroute.TabDiff:
		return diffView{Rows: p.diff, Total: p.diffTotal, Note: p.diffNote, Caption: diffCaption(p.diffSeq, p.shownSeq)}.Render()
	case viewroute.TabEvents:
		return eventList{Rows: p.events, Total: p.eventTotal, All: p.eventAll, Page: p.eventPage, Pages: p.eventPages,
			Query: p.view.Query, Selected: p.view.Seq,
			OnQuery: func(ctx app.Context, q string) { p.view.Query, p.view.ListPage = q, 0; p.bookmark(ctx) },
			OnPage:  func(ctx app.Context, n int) { p.view.ListPage = n + 1; p.bookmark(ctx) },
			OnSeek:  p.seekSeq}.Render()
	case viewroute.TabTokens:
		return tokensView{Rows: p.tokens, Selected: p.view.Seq, OnSeek: p.seekSeq}.Render()
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

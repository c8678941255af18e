package ui

import (
	"slices"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/app/viewroute"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// ComparePage is `/compare?a={thread}&b={thread}`: two runs side by side
// (usually two runs of one graph): their node times with the difference,
// their usage and cost, and the diff of their final states. Both runs are
// followed, so a bookmark opened in a fresh tab loads them from the server.
type ComparePage struct {
	app.Compo
	src  Source
	live liveness

	view     viewroute.View
	followed [2]string
	openedAt time.Time
	health   session.Health
	now      time.Time
	cmp      viewmodel.Comparison
}

// OnMount starts following the store.
func (p *ComparePage) OnMount(ctx app.Context) {
	p.src = orNone(p.src)
	p.live.start(ctx, p.src, p.refresh)
}

// OnNav reads the two runs from the URL.
func (p *ComparePage) OnNav(ctx app.Context) {
	p.src = orNone(p.src)
	ctx.Page().SetTitle("Compare · %s", Title)
	p.open(viewroute.Parse(ctx.Page().URL()), time.Now())
}

// OnDismount releases the runs.
func (p *ComparePage) OnDismount() {
	p.live.stop()
	if p.followed != [2]string{} {
		p.src.Unfollow()
		p.followed = [2]string{}
	}
}

func (p *ComparePage) open(v viewroute.View, now time.Time) {
	if v.A != p.view.A || v.B != p.view.B || p.openedAt.IsZero() {
		p.openedAt = now
	}
	p.view = v
	if want := [2]string{v.A, v.B}; want != p.followed {
		var threads []string
		for _, t := range []string{v.A, v.B} {
			if t != "" {
				threads = append(threads, t)
			}
		}
		p.src.Follow(threads...)
		p.followed = want
	}
	p.update(now)
}

func (p *ComparePage) refresh(app.Context) { p.update(time.Now()) }

func (p *ComparePage) update(now time.Time) {
	p.now = now
	p.health = p.src.Health()
	prices := pricesOf(p.src)
	p.src.Read(func(s *runstate.Store) {
		var a, b *runstate.Run
		if p.view.A != "" {
			a = s.Run(p.view.A)
		}
		if p.view.B != "" {
			b = s.Run(p.view.B)
		}
		p.cmp = viewmodel.BuildComparison(p.view.A, a, p.view.B, b, prices, now)
	})
}

// Render draws the page.
func (p *ComparePage) Render() app.UI {
	f := frame{Active: viewroute.Runs, Health: p.health, Now: p.now}
	v, c := p.view, p.cmp
	if v.A == "" || v.B == "" {
		return f.Render(app.Div().Class("panel", "notice").Body(
			app.H1().Class("page-title").Text("Compare two runs"),
			app.P().Text("Pick two runs in the runs list, or open a run and compare it with the previous run of its graph."),
			app.A().Class("btn").Href("/runs").Text("Go to the runs"),
		))
	}
	title := "Compare runs"
	if c.SameGraph {
		title += " of " + c.A.Graph
	}
	body := []app.UI{
		app.Div().Class("run-head").Body(
			app.Nav().Class("crumbs").Aria("label", "Breadcrumb").Body(app.A().Href("/runs").Text("Runs"),
				app.Span().Aria("hidden", "true").Text(" / "), app.Span().Aria("current", "page").Text("Compare")),
			app.Div().Class("run-title").Body(
				app.H1().Class("page-title").Text(title),
				app.Div().Class("run-actions").Body(
					app.A().ID("compare-swap").Class("btn", "btn-small").Href(viewroute.CompareURL(v.B, v.A)).
						Title("Put B first").Text("Swap A and B"),
				),
			),
		),
		app.Div().ID("compare-sides").Class("compare-sides").Body(p.side("A", c.A), p.side("B", c.B)),
	}
	if c.A.Found && c.B.Found {
		// Where the time went first: it is why runs are compared.
		body = append(body, p.nodes(), p.figures(), p.finalDiff())
	}
	return f.Render(body...)
}

// side is one run's card; while the run is not in the store it says it is
// loading, then that it is not known.
func (p *ComparePage) side(label string, s viewmodel.CompareSide) app.UI {
	id := "compare-" + label
	if !s.Found {
		msg := "Loading this run's history from the server…"
		if p.now.Sub(p.openedAt) >= loadingGrace && !p.loading() {
			msg = "No run with this thread id is known to this dashboard or still held by the server."
		}
		return app.Section().ID(id).Class("panel", "compare-side").DataSet("found", "false").Body(
			app.H2().Body(app.Span().Class("side-label").Text(label), app.Code().Class("side-thread").Text(s.Thread)),
			app.P().Class("muted").Text(msg),
		)
	}
	graph := s.Graph
	if graph == "" {
		graph = "Run"
	}
	// data-history ("loading", "incomplete", "complete") says whether the
	// figures are the whole run's, as the run page's notice does.
	var loading app.UI
	history, h := "complete", p.src.History(s.Thread)
	switch {
	case h.Loading || slices.Contains(p.health.ReplayingThreads, s.Thread):
		history = "loading"
		loading = app.P().Class("muted", "side-loading").Attr("role", "status").Text("Loading its history from the server; the figures fill in as it arrives.")
	case h.MissingBefore > 0:
		history = "incomplete"
		loading = app.P().Class("muted", "side-loading").Text("Its first " + viewmodel.Plural(int(h.MissingBefore), "message is", "messages are") + " no longer retained by the server: the figures start after them.")
	}
	if s.Version != "" {
		graph += " v" + s.Version
	}
	return app.Section().ID(id).Class("panel", "compare-side").DataSet("found", "true").DataSet("history", history).Body(
		app.H2().Body(app.Span().Class("side-label").Text(label),
			app.A().Class("run-link", "side-thread").Href(viewroute.RunPath(s.Thread)).Title(s.Thread).Text(viewmodel.ShortID(s.Thread)),
			statusBadge(s.Status)),
		app.P().Class("run-meta").Body(
			app.Span().Text(graph),
			app.Span().Text("Started "+viewmodel.FormatClock(s.Started)+" UTC"),
			app.Span().Text(viewmodel.FormatDuration(s.Duration)),
		),
		loading,
		totalsView{T: s.Totals, NodeRuns: -1}.Render(),
		app.If(s.Failure != nil, func() app.UI {
			return app.P().Class("error-text").Text("Failed" + inNode(s.Failure.Node) + ": " + s.Failure.Error)
		}),
	)
}

func inNode(n string) string {
	if n == "" {
		return ""
	}
	return " in " + n
}

func (p *ComparePage) loading() bool {
	h := p.health
	return h.State == session.Connecting || h.State == session.Replaying || len(h.ReplayingThreads) > 0
}

// figures lists the headline figures of both runs and B's difference.
func (p *ComparePage) figures() app.UI {
	c := p.cmp
	a, b := c.A.Totals, c.B.Totals
	cost := func(t viewmodel.Totals) string {
		if t.Cost == "" {
			return "–"
		}
		return t.Cost
	}
	row := func(name, va, vb, delta string) app.UI {
		return app.Tr().Body(app.Th().Attr("scope", "row").Text(name), app.Td().Class("num").Text(va),
			app.Td().Class("num").Text(vb), app.Td().Class("num", "delta", deltaClass(delta)).Text(orDash(delta)))
	}
	return app.Section().ID("compare-figures").Class("panel").Aria("labelledby", "figures-title").Body(
		app.H2().ID("figures-title").Text("Totals"),
		app.Div().Class("table-wrap").Body(app.Table().Class("compare-table").Body(
			app.THead().Body(app.Tr().Body(th(""), th("A"), th("B"), th("B − A"))),
			app.TBody().Body(
				row("Duration", viewmodel.FormatDuration(c.A.Duration), viewmodel.FormatDuration(c.B.Duration), c.DurationDelta),
				row("LLM calls", strconv.Itoa(a.LLMCalls), strconv.Itoa(b.LLMCalls), c.LLMCallDelta),
				row("Tokens", viewmodel.FormatCount(a.Tokens), viewmodel.FormatCount(b.Tokens), c.TokenDelta),
				row("Cost", cost(a), cost(b), c.CostDelta),
				row("Tool calls", strconv.Itoa(a.ToolCalls), strconv.Itoa(b.ToolCalls), c.ToolCallDelta),
				row("Errors", strconv.Itoa(a.Errors), strconv.Itoa(b.Errors), c.ErrorDelta),
			),
		)),
	)
}

// deltaClass colours a difference where more is worse (time, tokens,
// cost, errors): "worse" for an increase, "better" for a decrease.
func deltaClass(d string) string {
	switch {
	case d == "" || d == "±0" || d == "±$0":
		return "delta-same"
	case d[0] == '+':
		return "delta-worse"
	}
	return "delta-better"
}

// nodes lists each node's time in both runs, with bars on one scale.
func (p *ComparePage) nodes() app.UI {
	c := p.cmp
	var longest time.Duration
	for _, n := range c.Nodes {
		longest = max(longest, n.A, n.B)
	}
	bar := func(d time.Duration, runs int, failed bool, side string) app.UI {
		if runs == 0 {
			return app.Td().Class("muted").Text("did not run")
		}
		w := 0.0
		if longest > 0 {
			w = float64(d) * 100 / float64(longest)
		}
		text := viewmodel.FormatDuration(d)
		if runs > 1 {
			text += " ×" + strconv.Itoa(runs)
		}
		cls := []string{"cmp-bar", "cmp-bar-" + side}
		if failed {
			cls = append(cls, "cmp-bar-failed")
		}
		return app.Td().Class("cmp-cell").Body(
			app.Span().Class(cls...).Style("width", pct(max(w, 0.5))),
			app.Span().Class("cmp-value").Text(text),
		)
	}
	rows := make([]app.UI, len(c.Nodes))
	for i, n := range c.Nodes {
		cls := "delta-same"
		switch {
		case n.Slower:
			cls = "delta-worse"
		case n.Faster:
			cls = "delta-better"
		}
		rows[i] = app.Tr().DataSet("node", n.Node).Body(
			app.Th().Attr("scope", "row").Body(app.Code().Text(n.Node)),
			bar(n.A, n.RunsA, n.FailedA, "a"), bar(n.B, n.RunsB, n.FailedB, "b"),
			app.Td().Class("num", "delta", cls).Text(orDash(n.Delta)),
		)
	}
	return app.Section().ID("compare-nodes").Class("panel").Aria("labelledby", "nodes-title").Body(
		app.H2().ID("nodes-title").Text("Time per node"),
		app.P().Class("muted").Text("Each node's time summed over its executions (×n: it ran n times)."),
		app.Div().Class("table-wrap").Body(app.Table().Class("compare-table", "compare-nodes").Body(
			app.THead().Body(app.Tr().Body(th("Node"), th("A"), th("B"), th("B − A"))),
			app.TBody().Body(rows...),
		)),
	)
}

// finalDiff shows what turns A's final state into B's.
func (p *ComparePage) finalDiff() app.UI {
	c := p.cmp
	caption := "What turns A's final state into B's"
	if c.A.Live || c.B.Live {
		caption += " (a run still going: its latest state)"
	}
	return app.Section().ID("compare-diff").Class("panel").Aria("labelledby", "diff-title").Body(
		app.H2().ID("diff-title").Text("Final state"),
		diffView{Rows: c.Diff, Total: c.DiffTotal, Note: c.DiffNote, Caption: caption}.Render(),
	)
}

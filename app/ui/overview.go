package ui

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/catalog"
	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/app/viewroute"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// OverviewPage is `/`: the runs the gateway retains (how many, how many
// failed, how long they take, per graph, from the run catalog), the runs in
// progress and the recent failures (the catalog's, with the live runs over
// them), the connection and its throughput, and what needs attention.
type OverviewPage struct {
	app.Compo
	src  Source
	live liveness

	health session.Health
	now    time.Time
	model  viewmodel.Overview
	rate   viewmodel.RateMeter

	// From the run catalog.
	graphs     runsummary.Graphs
	graphsErr  string
	graphsAt   time.Time
	inProgress *catalog.List
	failures   *catalog.List
	progRows   []viewmodel.RunRow
	failRows   []runsummary.Summary
	seeds      [3]*seed // graphs, in progress, failures: what the prerendered page carries
	connected  uint64   // the connection epoch the catalog was last asked for since it went live
}

// overviewEvery is how often the overview asks the catalog again: its
// figures are aggregates over the whole window, not per-run changes (those
// come live).
const overviewEvery = 15 * time.Second

// OnMount starts following the store.
func (p *OverviewPage) OnMount(ctx app.Context) {
	p.src = orNone(p.src)
	p.refresh(ctx)
	p.live.start(ctx, p.src, p.refresh)
}

// OnNav sets the title (the page may be reused by the router).
func (p *OverviewPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Overview · %s", Title)
	p.graphsAt = time.Time{} // a fresh look on every visit
	p.refresh(ctx)
}

// OnDismount stops following the store.
func (p *OverviewPage) OnDismount() { p.live.stop() }

func (p *OverviewPage) refresh(ctx app.Context) {
	now := time.Now()
	p.lists()
	if h := p.src.Health(); h.State == session.Connected && h.Epoch != p.connected {
		p.connected = h.Epoch // live from here on: what started before is the catalog's
		p.graphsAt = time.Time{}
	}
	if now.Sub(p.graphsAt) >= overviewEvery || (p.graphsErr != "" || p.graphs.Building) && now.Sub(p.graphsAt) >= retryEvery {
		p.graphsAt = now
		p.inProgress.Reload()
		p.failures.Reload()
		if b, ok := takeSeed(catalog.GraphsPath); ok {
			if g, err := catalog.DecodeGraphs(b); err == nil {
				p.graphs, p.graphsErr = g, ""
			}
		}
		src := p.src
		sd := &seed{path: catalog.GraphsPath}
		p.seeds[0] = sd
		ctx.Async(func() {
			c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			g, err := src.CatalogGraphs(c)
			cancel()
			ctx.Dispatch(func(ctx app.Context) {
				p.graphs, p.graphsErr = g, ""
				if err != nil {
					p.graphsErr = err.Error()
				} else {
					sd.body = g
				}
				p.update(time.Now())
			})
		})
	}
	for i, l := range []*catalog.List{p.inProgress, p.failures} {
		if sd := fetchList(ctx, p.src, l, func() { p.update(time.Now()) }); sd != nil {
			p.seeds[i+1] = sd
		}
	}
	p.update(now)
}

// lists makes the catalog lists the page shows: runs in progress and
// failed runs, the newest eight of each.
func (p *OverviewPage) lists() {
	if p.inProgress == nil {
		p.inProgress, p.failures = catalog.NewList(8), catalog.NewList(8)
		p.inProgress.SetFilter(catalog.Filter{Status: runsummary.Running})
		p.failures.SetFilter(catalog.Filter{Status: runsummary.Failed})
	}
}

// update rebuilds the page's view models.
func (p *OverviewPage) update(now time.Time) {
	if p.src == nil {
		p.src = noSource{}
	}
	p.lists()
	p.now = now
	p.health = p.src.Health()
	p.rate.Add(p.now, p.health.Applied)
	var live []runsummary.Summary
	prices := listPrices(p.src)
	p.src.Read(func(s *runstate.Store) {
		p.model = viewmodel.BuildOverview(s, p.now)
		live = pricedSummaries(s, prices)
	})
	rows, _ := p.inProgress.Rows(live)
	p.progRows = p.progRows[:0]
	for _, r := range rows[:min(len(rows), 8)] {
		p.progRows = append(p.progRows, viewmodel.SummaryRow(r, now))
	}
	p.failRows, _ = p.failures.Rows(live)
	p.failRows = p.failRows[:min(len(p.failRows), 8)]
}

// Render draws the page.
func (p *OverviewPage) Render() app.UI {
	h, o := p.health, p.model
	f := frame{Active: viewroute.Overview, Health: h, Now: p.now, Banners: viewmodel.Banners(h, o)}
	tot := p.graphs.Total
	return f.Render(
		app.H1().Class("page-title").Text("Overview"),
		app.Section().Class("cards", "overview-cards").Aria("label", "Runs and health").Body(
			card("Runs retained", strconv.Itoa(tot.Runs)+" runs", runsDetail(tot, p.graphsErr), "card-runs"),
			card("Failure rate", percent(tot.FailureRate), strconv.Itoa(tot.Failed)+" of "+strconv.Itoa(tot.Completed+tot.Failed)+" finished", failClass(tot)),
			card("Duration", "p50 "+msText(tot.P50Ms), "p95 "+msText(tot.P95Ms), ""),
			card("Connection", viewmodel.ConnLabel(h, p.now), connDetail(h), "conn-"+h.State.String()),
			card("Throughput", viewmodel.FormatRate(p.rate.Rate()),
				viewmodel.FormatCount(h.Applied)+" messages applied", "", sparkline(p.rate.Series())),
			card("Integrity", trustValue(o),
				viewmodel.FormatCount(h.HashesVerified)+" hashes verified · "+decodeErrors(h), trustClass(o)),
		),
		app.Section().Class("panel").Aria("labelledby", "graphs-title").Body(
			app.H2().ID("graphs-title").Text("Graphs"),
			graphTable{Graphs: p.graphs.Graphs, Err: p.graphsErr}.Render(),
		),
		app.Div().Class("two-col").Body(
			app.Section().Class("panel").Aria("labelledby", "in-progress").Body(
				app.H2().ID("in-progress").Text("Runs in progress"),
				runTable{Rows: p.progRows, Now: p.now, Compact: true, Empty: "No run is in progress."}.Render(),
				app.A().Class("more-link").Href("/runs?status=running").Text("All running runs →"),
			),
			app.Section().Class("panel").Aria("labelledby", "recent-errors").Body(
				app.H2().ID("recent-errors").Text("Recent failures"),
				failureList{Rows: p.failRows}.Render(),
				app.A().Class("more-link").Href("/runs?status=failed").Text("All failed runs →"),
			),
		),
		p.seeds[0].Render(), p.seeds[1].Render(), p.seeds[2].Render(),
		app.If(len(o.Untrusted) > 0, func() app.UI {
			return app.Section().Class("panel").Aria("labelledby", "untrusted").Body(
				app.H2().ID("untrusted").Text("Runs whose state is not trusted"),
				runTable{Rows: o.Untrusted, Now: p.now, Compact: true}.Render(),
			)
		}),
		app.Footer().Class("page-foot muted").Body(
			app.Text(serverLine(h)),
			app.A().Href("/metrics").Text("Metrics"),
			app.A().Href("/health").Text("Health"),
		),
	)
}

func connDetail(h session.Health) string {
	switch {
	case h.LastError != "":
		return h.LastError
	case !h.Since.IsZero():
		return "since " + viewmodel.FormatClock(h.Since) + " UTC · connection " + strconv.FormatUint(h.Epoch, 10)
	}
	return "waiting for the gateway"
}

func decodeErrors(h session.Health) string {
	return viewmodel.FormatCount(h.DecodeErrorTotal()) + " decode errors"
}

func trustValue(o viewmodel.Overview) string {
	if n := o.Corrupted + o.Quarantined; n > 0 {
		return strconv.Itoa(n) + " untrusted"
	}
	return "All trusted"
}

func trustClass(o viewmodel.Overview) string {
	if o.Corrupted+o.Quarantined > 0 {
		return "card-warn"
	}
	return ""
}

func serverLine(h session.Health) string {
	s := "Server " + h.ServerVersion
	if h.ServerVersion == "" {
		s = "Server version unknown"
	}
	if h.SchemaVersion != 0 {
		s += " · schema v" + strconv.FormatUint(uint64(h.SchemaVersion), 10)
	}
	return s
}

// card is one figure of the overview.
func card(label, value, detail, class string, extra ...app.UI) app.UI {
	return app.Div().Class("card", class).Body(
		app.H2().Class("card-label").Text(label),
		app.P().Class("card-value").Text(value),
		app.P().Class("card-detail").Title(detail).Text(detail),
		app.Div().Class("card-extra").Body(extra...),
	)
}

// sparkline draws recent rates as a small line.
func sparkline(values []float64) app.UI {
	pts := viewmodel.Sparkline(values, 160, 28)
	if pts == "" {
		return nil
	}
	return svg("svg").Class("sparkline").Attr("viewBox", "0 0 160 28").Attr("preserveAspectRatio", "none").
		Aria("hidden", "true").Body(svg("polyline").Attr("points", pts))
}

func runsDetail(t runsummary.GraphStats, err string) string {
	if err != "" {
		return "catalog unavailable: " + err
	}
	return strconv.Itoa(t.Running) + " running · " + strconv.Itoa(t.Failed) + " failed"
}

func failClass(t runsummary.GraphStats) string {
	if t.FailureRate >= 0.2 {
		return "card-warn"
	}
	return ""
}

func percent(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + "%" }

func msText(ms int64) string {
	if ms == 0 {
		return "–"
	}
	return viewmodel.FormatDuration(time.Duration(ms) * time.Millisecond)
}

// graphTable lists the per-graph figures of the catalog's window; each
// graph leads to its runs.
type graphTable struct {
	Graphs []runsummary.GraphStats
	Err    string
}

func (g graphTable) Render() app.UI {
	if len(g.Graphs) == 0 {
		if g.Err != "" {
			return emptyState("The run catalog could not be read", g.Err)
		}
		return emptyState("No runs yet", "Graphs appear here with their first run.")
	}
	rows := make([]app.UI, len(g.Graphs))
	for i, s := range g.Graphs {
		name := s.Graph
		if name == "" {
			name = "(unknown graph)"
		}
		rows[i] = app.Tr().Class("graph-row").DataSet("graph", s.Graph).Body(
			app.Td().Body(app.A().Href("/runs?q="+url.QueryEscape(s.Graph)).Text(name)),
			app.Td().Class("num").Text(strconv.Itoa(s.Runs)),
			app.Td().Class("num").Text(strconv.Itoa(s.Running)),
			app.Td().Class("num").Class(errClass(s.Failed)).Text(strconv.Itoa(s.Failed)),
			app.Td().Class("num").Text(percent(s.FailureRate)),
			app.Td().Class("num").Text(msText(s.P50Ms)),
			app.Td().Class("num").Text(msText(s.P95Ms)),
			app.Td().Class("num").Text(tokensText(s.Tokens)),
			app.Td().Class("num").Text(costSum(s.CostUSD, s.LLMCalls)),
		)
	}
	return app.Div().Class("table-wrap").Body(app.Table().Class("graphs-table").Body(
		app.THead().Body(app.Tr().Body(th("Graph"), thNum("Runs", ""), thNum("Running", ""), thNum("Failed", ""),
			thNum("Failure rate", "failed / finished"), thNum("p50", "median duration of finished runs"),
			thNum("p95", "95th percentile duration of finished runs"), thNum("Tokens", ""), thNum("Cost", "priced LLM calls"))),
		app.TBody().Body(rows...),
	))
}

func costSum(usd float64, calls int) string {
	if calls == 0 {
		return "–"
	}
	return costText(&usd, calls)
}

// failureList lists failed runs with their error, each a link to the
// failing moment.
type failureList struct{ Rows []runsummary.Summary }

func (l failureList) Render() app.UI {
	if len(l.Rows) == 0 {
		return emptyState("No failures", "Failed runs show up here with their error.")
	}
	items := make([]app.UI, len(l.Rows))
	for i, s := range l.Rows {
		where := s.GraphName
		if s.ErrorNode != "" {
			where += " · " + s.ErrorNode
		}
		msg := s.Error
		if msg == "" {
			msg = "failed without an error message"
		}
		items[i] = app.Li().Class("error-row").DataSet("thread", s.ThreadID).Body(
			app.A().Href(viewroute.View{Page: viewroute.Run, Thread: s.ThreadID, Seq: s.ErrorSeq}.String()).Text(viewmodel.ShortID(s.ThreadID)),
			app.Span().Class("muted").Text(" "+where+" · "+viewmodel.FormatClock(s.EndedAt.Time())),
			app.P().Class("error-text").Text(viewmodel.Truncate(msg, 240)),
		)
	}
	return app.Ul().Class("error-list").Body(items...)
}

package ui

import (
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/app/viewroute"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// OverviewPage is `/`: the connection and its throughput, runs in
// progress, recent errors, and what needs attention.
type OverviewPage struct {
	app.Compo
	src  Source
	live liveness

	health session.Health
	now    time.Time
	model  viewmodel.Overview
	rate   viewmodel.RateMeter
}

// OnMount starts following the store.
func (p *OverviewPage) OnMount(ctx app.Context) {
	p.src = orNone(p.src)
	p.refresh(ctx)
	p.live.start(ctx, p.src, p.refresh)
}

// OnNav sets the title (the page may be reused by the router).
func (p *OverviewPage) OnNav(ctx app.Context) {
	ctx.Page().SetTitle("Overview · %s", Title)
	p.refresh(ctx)
}

// OnDismount stops following the store.
func (p *OverviewPage) OnDismount() { p.live.stop() }

func (p *OverviewPage) refresh(app.Context) { p.update(time.Now()) }

// update rebuilds the page's view models.
func (p *OverviewPage) update(now time.Time) {
	if p.src == nil {
		p.src = noSource{}
	}
	p.now = now
	p.health = p.src.Health()
	p.rate.Add(p.now, p.health.Applied)
	p.src.Read(func(s *runstate.Store) { p.model = viewmodel.BuildOverview(s, p.now) })
}

// Render draws the page.
func (p *OverviewPage) Render() app.UI {
	h, o := p.health, p.model
	f := frame{Active: viewroute.Overview, Health: h, Now: p.now, Banners: viewmodel.Banners(h, o)}
	return f.Render(
		app.H1().Class("page-title").Text("Overview"),
		app.Section().Class("cards").Aria("label", "Health").Body(
			card("Connection", viewmodel.ConnLabel(h, p.now), connDetail(h), "conn-"+h.State.String()),
			card("Throughput", viewmodel.FormatRate(p.rate.Rate()),
				viewmodel.FormatCount(h.Applied)+" messages applied", "", sparkline(p.rate.Series())),
			card("Runs", strconv.Itoa(o.Running)+" running",
				strconv.Itoa(o.Runs)+" kept · "+strconv.Itoa(o.Completed)+" completed · "+strconv.Itoa(o.Failed)+" failed", ""),
			card("Integrity", trustValue(o),
				viewmodel.FormatCount(h.HashesVerified)+" hashes verified · "+decodeErrors(h), trustClass(o)),
			card("Pipeline", strconv.Itoa(h.QueueDepth)+" queued",
				"apply lag "+viewmodel.FormatDuration(h.ApplyLag)+" · "+viewmodel.FormatCount(h.Frames)+" frames", ""),
		),
		app.Div().Class("two-col").Body(
			app.Section().Class("panel").Aria("labelledby", "in-progress").Body(
				app.H2().ID("in-progress").Text("Runs in progress"),
				runTable{Rows: o.InProgress, Now: p.now, Compact: true, Empty: "No run is in progress."}.Render(),
				app.A().Class("more-link").Href("/runs").Text("All runs →"),
			),
			app.Section().Class("panel").Aria("labelledby", "recent-errors").Body(
				app.H2().ID("recent-errors").Text("Recent errors"),
				errorList{Rows: o.RecentErrors}.Render(),
			),
		),
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

// errorList lists recent failures with links to their runs.
type errorList struct{ Rows []viewmodel.ErrorRow }

func (l errorList) Render() app.UI {
	if len(l.Rows) == 0 {
		return emptyState("No errors", "Failures of nodes and runs show up here.")
	}
	items := make([]app.UI, len(l.Rows))
	for i, e := range l.Rows {
		where := e.Graph
		if e.Node != "" {
			where += " · " + e.Node
		}
		items[i] = app.Li().Class("error-row").Body(
			app.A().Href(viewroute.View{Page: viewroute.Run, Thread: e.Thread, Seq: e.Seq}.String()).Text(viewmodel.ShortID(e.Thread)),
			app.Span().Class("muted").Text(" "+where+" · "+viewmodel.FormatClock(e.Time)),
			app.P().Class("error-text").Text(viewmodel.Truncate(e.Message, 240)),
		)
	}
	return app.Ul().Class("error-list").Body(items...)
}

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

// runsPerPage bounds the rows rendered at once.
const runsPerPage = 50

// RunsPage is `/runs`: every run, newest first, filtered by status and
// text (both kept in the URL), a page of them at a time.
type RunsPage struct {
	app.Compo
	src  Source
	live liveness

	view   viewroute.View
	page   int
	health session.Health
	now    time.Time
	all    []viewmodel.RunRow
}

// OnMount starts following the store.
func (p *RunsPage) OnMount(ctx app.Context) {
	p.src = orNone(p.src)
	p.live.start(ctx, p.src, p.refresh)
}

// OnNav reads the filter from the URL (also on back and forward).
func (p *RunsPage) OnNav(ctx app.Context) {
	p.src = orNone(p.src)
	p.view = viewroute.Parse(ctx.Page().URL())
	p.page = 0
	ctx.Page().SetTitle("Runs · %s", Title)
	p.refresh(ctx)
}

// OnDismount stops following the store.
func (p *RunsPage) OnDismount() { p.live.stop() }

func (p *RunsPage) refresh(app.Context) { p.update(time.Now()) }

// update rebuilds the page's view models.
func (p *RunsPage) update(now time.Time) {
	p.now = now
	p.health = p.src.Health()
	p.src.Read(func(s *runstate.Store) { p.all = viewmodel.RunRows(s, p.now) })
}

// setFilter applies a filter and bookmarks it.
func (p *RunsPage) setFilter(ctx app.Context, status, q string) {
	p.view.Status, p.view.Query, p.page = status, q, 0
	ctx.Page().ReplaceURL(p.view.URL())
}

// Render draws the page.
func (p *RunsPage) Render() app.UI {
	rows := viewmodel.FilterRuns(p.all, viewmodel.Status(p.view.Status), p.view.Query)
	shown, page, pages := viewmodel.Paginate(rows, p.page, runsPerPage)
	f := frame{Active: viewroute.Runs, Health: p.health, Now: p.now}
	empty := "No runs yet. Runs appear here as soon as a graph starts."
	if len(p.all) > 0 {
		empty = "No run matches this filter."
	}
	statusOpts := []app.UI{app.Option().Value("").Selected(p.view.Status == "").Text("All statuses")}
	for _, s := range viewmodel.Statuses {
		statusOpts = append(statusOpts, app.Option().Value(string(s)).Selected(p.view.Status == string(s)).Text(string(s)))
	}
	return f.Render(
		app.Div().Class("page-head").Body(
			app.H1().Class("page-title").Body(app.Text("Runs "), app.Span().Class("count").Text(strconv.Itoa(len(p.all)))),
			app.Form().Class("filters").Attr("role", "search").OnSubmit(func(ctx app.Context, e app.Event) { e.PreventDefault() }).Body(
				app.Label().For("run-status").Class("sr-only").Text("Status"),
				app.Select().ID("run-status").OnChange(func(ctx app.Context, e app.Event) {
					p.setFilter(ctx, ctx.JSSrc().Get("value").String(), p.view.Query)
				}).Body(statusOpts...),
				app.Label().For("run-search").Class("sr-only").Text("Search runs"),
				app.Input().ID("run-search").Type("search").Placeholder("Search thread id or graph…").
					Value(p.view.Query).OnInput(func(ctx app.Context, e app.Event) {
					p.setFilter(ctx, p.view.Status, ctx.JSSrc().Get("value").String())
				}),
			),
		),
		app.Section().Class("panel").Aria("label", "Runs").Body(
			runTable{Rows: shown, Now: p.now, Empty: empty}.Render(),
			pager{Page: page, Pages: pages, Total: len(rows), Noun: "runs", OnPage: func(ctx app.Context, n int) { p.page = n }}.Render(),
		),
	)
}

// pager moves through pages of a long list.
type pager struct {
	Page, Pages, Total int
	Noun               string
	OnPage             func(app.Context, int)
}

func (g pager) Render() app.UI {
	if g.Pages <= 1 {
		return nil
	}
	btn := func(label, aria string, to int, disabled bool) app.UI {
		return app.Button().Type("button").Class("btn", "btn-small").Aria("label", aria).Disabled(disabled).
			DataSet("page", to).
			OnClick(func(ctx app.Context, e app.Event) {
				if n, ok := intData(ctx, "page"); ok {
					g.OnPage(ctx, n)
				}
			}).Text(label)
	}
	return app.Nav().Class("pager").Aria("label", "Pages of "+g.Noun).Body(
		btn("← Newer", "Previous page", g.Page-1, g.Page == 0),
		app.Span().Class("muted").Text("Page "+strconv.Itoa(g.Page+1)+" of "+strconv.Itoa(g.Pages)+" · "+strconv.Itoa(g.Total)+" "+g.Noun),
		btn("Older →", "Next page", g.Page+1, g.Page >= g.Pages-1),
	)
}

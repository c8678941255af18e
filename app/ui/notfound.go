package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/viewroute"
)

// NotFoundPage is any path the dashboard does not serve: the app's own
// page (header, status bar, a way back), which the server sends with a 404
// status.
type NotFoundPage struct {
	app.Compo
	src  Source
	live liveness

	path   string
	health session.Health
	now    time.Time
}

// OnMount starts following the session's health.
func (p *NotFoundPage) OnMount(ctx app.Context) {
	p.src = orNone(p.src)
	p.live.start(ctx, p.src, p.refresh)
}

// OnNav reads the path.
func (p *NotFoundPage) OnNav(ctx app.Context) {
	p.src = orNone(p.src)
	p.path = ctx.Page().URL().Path
	ctx.Page().SetTitle("Not found · %s", Title)
	p.refresh(ctx)
}

// OnDismount stops following the session.
func (p *NotFoundPage) OnDismount() { p.live.stop() }

func (p *NotFoundPage) refresh(app.Context) {
	p.now = time.Now()
	p.health = p.src.Health()
}

// Render draws the page.
func (p *NotFoundPage) Render() app.UI {
	return frame{Active: viewroute.NotFound, Health: p.health, Now: p.now}.Render(
		app.Div().ID("not-found-page").Class("panel", "notice", "not-found").Body(
			app.H1().Class("page-title").Text("Page not found"),
			app.P().Body(app.Text("This dashboard has no page at "), app.Code().Text(p.path), app.Text(".")),
			app.P().Class("muted").Text("Runs live at /runs/{thread_id}; a comparison at /compare?a={thread_id}&b={thread_id}."),
			app.Div().Class("details-actions", "center").Body(
				app.A().Class("btn").Href("/").Text("Overview"),
				app.A().Class("btn").Href("/runs").Text("All runs"),
			),
		),
	)
}

package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/app/viewroute"
)

// frame is the chrome every page shares: a skip link, the header with the
// product name, the navigation and the connection state (a polite live
// region, so screen readers hear it change), the banners, and the main
// landmark holding the page.
type frame struct {
	Active  viewroute.Page
	Health  session.Health
	Now     time.Time
	Banners []viewmodel.Banner
}

func (f frame) Render(body ...app.UI) app.UI {
	runtime := "prerendered"
	if app.IsClient {
		runtime = "wasm"
	}
	st := f.Health.State.String()
	return app.Div().Class("shell", "page").Attr("data-runtime", runtime).Body(
		app.A().Class("skip-link").Href("#main").Text("Skip to content"),
		app.Header().Class("topbar").Body(
			app.A().Class("brand").Href("/").Aria("label", "DashStream overview").Body(
				app.Span().Class("brand-mark").Aria("hidden", "true"),
				app.Span().ID("title").Text(Title),
			),
			app.Nav().Class("mainnav").Aria("label", "Main").Body(
				navLink("/", "Overview", f.Active == viewroute.Overview),
				navLink("/runs", "Runs", f.Active == viewroute.Runs || f.Active == viewroute.Run),
			),
			// Not a live region: the status bar announces connection
			// changes, once.
			app.Span().ID("conn-state").Class("conn", "conn-"+st).
				Attr("data-state", st).
				Title(connTitle(f.Health)).
				Text(viewmodel.ConnLabel(f.Health, f.Now)),
		),
		app.Main().ID("main").Class("content").TabIndex(-1).Body(
			app.If(len(f.Banners) > 0, func() app.UI { return bannerList{Items: f.Banners}.Render() }),
			app.Div().Class("page-body").Body(body...),
		),
		StatusBar(f.Health, f.Now),
	)
}

func navLink(href, text string, current bool) app.UI {
	a := app.A().Href(href).Class("navlink").Text(text)
	if current {
		a = a.Aria("current", "page")
	}
	return a
}

func connTitle(h session.Health) string {
	if h.LastError != "" {
		return "Last error: " + h.LastError
	}
	if h.ServerVersion != "" {
		return "Server " + h.ServerVersion
	}
	return "Connection to the gateway"
}

// bannerList draws notices above a page: errors first, each with its
// reason and, when there is one, the way to act on it.
type bannerList struct{ Items []viewmodel.Banner }

func (b bannerList) Render() app.UI {
	items := make([]app.UI, len(b.Items))
	for i, it := range b.Items {
		role := "status"
		if it.Level == "error" {
			role = "alert"
		}
		var link app.UI
		if it.Link != "" {
			link = app.A().Class("banner-link").Href(it.Link).Text(it.LinkText)
		}
		items[i] = app.Div().Class("banner", "banner-"+it.Level).Attr("role", role).Body(
			app.Strong().Text(it.Title),
			app.Span().Class("banner-text").Text(it.Text),
			link,
		)
	}
	return app.Div().Class("banners").Body(items...)
}

// badge is a small coloured status label.
func badge(kind, text string) app.UI {
	return app.Span().Class("badge", "badge-"+kind).Text(text)
}

// emptyState is the friendly placeholder of an empty panel.
func emptyState(title, text string) app.UI {
	return app.Div().Class("empty").Body(
		app.P().Class("empty-title").Text(title),
		app.If(text != "", func() app.UI { return app.P().Class("muted").Text(text) }),
	)
}

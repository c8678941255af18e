package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Routes registers the dashboard's pages on the go-app router:
// `/` the overview, `/runs` the runs list, `/runs/{thread_id}` a run
// (with ?seq=N&node=ID&tab=T&q=Q&page=P), `/compare?a=…&b=…` two runs side
// by side, and every other path the not-found page. src may be nil where
// there is no session (the server prerendering pages): the pages then
// render their empty, connecting state.
func Routes(src Source) {
	src = orNone(src)
	retryNow = nil
	if r, ok := src.(Retrier); ok {
		retryNow = r.RetryNow
	}
	app.Route("/", func() app.Composer { return &OverviewPage{src: src} })
	app.Route("/runs", func() app.Composer { return &RunsPage{src: src} })
	app.RouteWithRegexp("^/runs/.+", func() app.Composer { return &RunPage{src: src} })
	app.Route("/compare", func() app.Composer { return &ComparePage{src: src} })
	// Regexp routes are tried in the order registered: this one last.
	app.RouteWithRegexp("^/", func() app.Composer { return &NotFoundPage{src: src} })
}

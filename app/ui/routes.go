package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Routes registers the dashboard's pages on the go-app router:
// `/` the overview, `/runs` the runs list, `/runs/{thread_id}` a run
// (with ?seq=N&node=ID&tab=T). src may be nil where there is no session
// (the server prerendering pages): the pages then render their empty,
// connecting state.
func Routes(src Source) {
	src = orNone(src)
	app.Route("/", func() app.Composer { return &OverviewPage{src: src} })
	app.Route("/runs", func() app.Composer { return &RunsPage{src: src} })
	app.RouteWithRegexp("^/runs/.+", func() app.Composer { return &RunPage{src: src} })
}

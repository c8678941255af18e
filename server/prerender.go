package main

import (
	"context"
	"net/url"

	"github.com/dashstream/dashstream/app/catalog"
	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/ui"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/runsummary"
	servercatalog "github.com/dashstream/dashstream/server/catalog"
)

// prerenderSource is what the server's prerendering of the dashboard reads:
// no session (a prerendered page is "connecting"), but the run catalog, so
// the first paint of /runs and / already lists the retained runs and their
// figures, before the browser has loaded the wasm.
type prerenderSource struct{ cat *servercatalog.Catalog }

// prerenderFor returns the pages' source for the server (nil: no catalog,
// in proxy mode).
func prerenderFor(cat *servercatalog.Catalog) ui.Source {
	if cat == nil {
		return nil
	}
	return prerenderSource{cat}
}

func (prerenderSource) Read(fn func(*runstate.Store)) {
	fn(runstate.NewStore(runstate.Config{MaxRuns: 1}))
}
func (prerenderSource) Health() session.Health               { return session.Health{State: session.Connecting} }
func (prerenderSource) Subscribe(func()) (cancel func())     { return func() {} }
func (prerenderSource) Follow(...string)                     {}
func (prerenderSource) Unfollow()                            {}
func (prerenderSource) History(string) session.HistoryStatus { return session.HistoryStatus{} }

func (s prerenderSource) CatalogRuns(_ context.Context, q catalog.Query) (runsummary.Page, error) {
	u, err := url.Parse(q.Path())
	if err != nil {
		return runsummary.Page{}, err
	}
	sq, err := servercatalog.ParseQuery(u.Query())
	if err != nil {
		return runsummary.Page{}, err
	}
	return s.cat.Query(sq), nil
}

func (s prerenderSource) CatalogRun(_ context.Context, thread string) (runsummary.Summary, bool, error) {
	sum, ok := s.cat.Get(thread)
	return sum, ok, nil
}

func (s prerenderSource) CatalogGraphs(context.Context) (runsummary.Graphs, error) {
	return s.cat.Graphs(0, 0), nil
}

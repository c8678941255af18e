package ui

import (
	"context"
	"errors"

	"github.com/dashstream/dashstream/app/catalog"
	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// Source is what the views need from the session: read access to the run
// store, the connection's health, change notifications, the runs on
// screen and their history, and the gateway's run catalog. The views never
// keep store internals beyond Read: they copy what they show into view
// models (state trees, being immutable, may be kept).
type Source interface {
	// Read runs fn while the apply loop is held off.
	Read(fn func(*runstate.Store))
	// Health returns a snapshot of the connection.
	Health() session.Health
	// Subscribe calls fn (coalesced, at most about ten times a second)
	// after the store or the health changed; cancel stops it.
	Subscribe(fn func()) (cancel func())
	// Follow pins the runs on screen (up to session.MaxFollowed, replacing
	// the previous set) and has the session load each one whole, from its
	// first retained message; Unfollow releases them.
	Follow(threads ...string)
	Unfollow()
	// History says how much of a followed run's history is loaded.
	History(thread string) session.HistoryStatus
	// CatalogRuns, CatalogRun and CatalogGraphs ask the gateway's run
	// catalog: the history every list starts from.
	CatalogRuns(ctx context.Context, q catalog.Query) (runsummary.Page, error)
	CatalogRun(ctx context.Context, thread string) (runsummary.Summary, bool, error)
	CatalogGraphs(ctx context.Context) (runsummary.Graphs, error)
}

// errNoSession answers catalog requests where there is no session.
var errNoSession = errors.New("no connection to the gateway")

// noSource is what pages use when no session exists (the server
// prerendering pages without a catalog): an empty store, forever
// connecting.
type noSource struct{}

func (noSource) Read(fn func(*runstate.Store))        { fn(runstate.NewStore(runstate.Config{MaxRuns: 1})) }
func (noSource) Health() session.Health               { return session.Health{State: session.Connecting} }
func (noSource) Subscribe(func()) (cancel func())     { return func() {} }
func (noSource) Follow(...string)                     {}
func (noSource) Unfollow()                            {}
func (noSource) History(string) session.HistoryStatus { return session.HistoryStatus{} }
func (noSource) CatalogGraphs(context.Context) (runsummary.Graphs, error) {
	return runsummary.Graphs{}, errNoSession
}
func (noSource) CatalogRuns(context.Context, catalog.Query) (runsummary.Page, error) {
	return runsummary.Page{}, errNoSession
}
func (noSource) CatalogRun(context.Context, string) (runsummary.Summary, bool, error) {
	return runsummary.Summary{}, false, errNoSession
}

func orNone(src Source) Source {
	if src == nil {
		return noSource{}
	}
	return src
}

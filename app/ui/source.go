package ui

import (
	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// Source is what the views need from the session: read access to the run
// store, the connection's health, change notifications, and which run is
// on screen. The views never keep store internals beyond Read: they copy
// what they show into view models (state trees, being immutable, may be
// kept).
type Source interface {
	// Read runs fn while the apply loop is held off.
	Read(fn func(*runstate.Store))
	// Health returns a snapshot of the connection.
	Health() session.Health
	// Subscribe calls fn (coalesced, at most about ten times a second)
	// after the store or the health changed; cancel stops it.
	Subscribe(fn func()) (cancel func())
	// Follow pins a run on screen and has the session replay its thread
	// from the start when its history is incomplete; Unfollow releases it.
	Follow(thread string)
	Unfollow()
}

// noSource is what pages use when no session exists (the server
// prerendering pages): an empty store, forever connecting.
type noSource struct{}

func (noSource) Read(fn func(*runstate.Store))    { fn(runstate.NewStore(runstate.Config{MaxRuns: 1})) }
func (noSource) Health() session.Health           { return session.Health{State: session.Connecting} }
func (noSource) Subscribe(func()) (cancel func()) { return func() {} }
func (noSource) Follow(string)                    {}
func (noSource) Unfollow()                        {}

func orNone(src Source) Source {
	if src == nil {
		return noSource{}
	}
	return src
}

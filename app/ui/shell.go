// Package ui holds the dashboard's go-app components and its route table.
// The same table is registered by the browser build (./wasm) and by the
// server, which prerenders pages with it.
package ui

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// Title is the product name shown in the header and the page title.
const Title = "DashStream"

// Routes registers every page of the dashboard.
func Routes() {
	app.Route("/", func() app.Composer { return &Shell{} })
}

// ConnState is the connection state the shell displays.
type ConnState string

// Connection states. Only Connecting exists until the session lands.
const (
	Connecting ConnState = "connecting"
)

// Shell is the page frame: a header with the product name and the
// connection state.
type Shell struct {
	app.Compo
	// State is the connection state shown; zero means Connecting.
	State ConnState
	// runtime is "wasm" once the component runs in the browser; the
	// server's prerendered HTML says "prerendered", so tests (and curious
	// users) can tell the two apart.
	runtime string
}

// OnMount records where the component runs.
func (s *Shell) OnMount(ctx app.Context) {
	if app.IsClient {
		s.runtime = "wasm"
	}
}

// state returns the state to show.
func (s *Shell) state() ConnState {
	if s.State == "" {
		return Connecting
	}
	return s.State
}

// Render draws the header. The status is a polite live region so screen
// readers announce connection changes.
func (s *Shell) Render() app.UI {
	st := s.state()
	runtime := s.runtime
	if runtime == "" {
		runtime = "prerendered"
	}
	return app.Div().Class("shell").Attr("data-runtime", runtime).Body(
		app.Header().Class("topbar").Body(
			app.H1().ID("title").Text(Title),
			app.Span().
				ID("conn-state").
				Class("conn", "conn-"+string(st)).
				Aria("live", "polite").
				Attr("data-state", string(st)).
				Text(label(st)),
		),
		app.Main().Class("content").Body(
			app.P().Class("muted").Text("Waiting for the gateway…"),
		),
	)
}

func label(st ConnState) string {
	switch st {
	case Connecting:
		return "Connecting…"
	}
	return string(st)
}

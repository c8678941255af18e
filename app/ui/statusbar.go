// Package ui holds the dashboard's go-app components and its route table
// (Routes). The same table is registered by the browser build (./wasm),
// with the session as the Source, and by the server, which prerenders the
// pages with none.
package ui

import (
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/session"
)

// Title is the product name shown in the header and the page title.
const Title = "DashStream"

// StatusBar draws the health model as a footer: the state (data-state),
// the epoch, messages applied, quarantined runs and the apply lag, and a
// polite live region that announces connection changes only (not every
// count), so screen readers are not flooded.
func StatusBar(h session.Health, now time.Time) app.UI {
	st := h.State.String()
	item := func(key, name, value string) app.UI {
		return app.Span().Class("status-item").Attr("data-key", key).Body(
			app.Span().Class("status-name").Text(name+" "),
			app.Span().Class("status-value").Text(value),
		)
	}
	announce := announcement(h.State)
	decodeErrs := h.DecodeErrorTotal()
	if h.State == session.Reconnecting && h.LastError != "" {
		announce += ": " + h.LastError
	}
	lag := "–"
	if h.QueueDepth > 0 || h.ApplyLag > 0 {
		lag = h.ApplyLag.Round(time.Millisecond).String()
	}
	return app.Footer().ID("status-bar").Class("statusbar", "statusbar-"+st).Attr("data-state", st).Body(
		app.Span().ID("conn-announce").Class("status-state").Attr("role", "status").Aria("live", "polite").Text(announce),
		item("epoch", "epoch", strconv.FormatUint(h.Epoch, 10)),
		item("applied", "applied", strconv.FormatUint(h.Applied, 10)),
		item("verified", "hashes verified", strconv.FormatUint(h.HashesVerified, 10)),
		item("quarantined", "quarantined", strconv.Itoa(h.Quarantined)),
		item("lag", "apply lag", lag),
		app.If(len(h.ReplayingThreads) > 0, func() app.UI {
			return item("replaying", "replaying runs", strconv.Itoa(len(h.ReplayingThreads)))
		}),
		app.If(decodeErrs > 0, func() app.UI {
			return item("decode-errors", "decode errors", strconv.FormatUint(decodeErrs, 10))
		}),
		app.If(h.SchemaMismatch != "", func() app.UI {
			return app.Span().Class("status-warn").Text(h.SchemaMismatch)
		}),
	)
}

// announcement is what the live region says when the state changes: the
// header's short label (viewmodel.ConnLabel) in a sentence a screen reader
// can say alone.
func announcement(st session.State) string {
	switch st {
	case session.Connecting:
		return "Connecting…"
	case session.Connected:
		return "Connected"
	case session.Replaying:
		return "Catching up…"
	case session.Reconnecting:
		return "Reconnecting…"
	case session.Stalled:
		return "Stalled: no data while the server has traffic"
	}
	return st.String()
}

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
	announce := announcement(h)
	decodeErrs := h.DecodeErrorTotal()
	// The raw error is for whoever investigates (the tooltip); the words
	// are for everyone.
	why := ""
	if h.State == session.Reconnecting {
		why = h.LastError
	}
	lag := "–"
	if h.QueueDepth > 0 || h.ApplyLag > 0 {
		lag = h.ApplyLag.Round(time.Millisecond).String()
	}
	return app.Footer().ID("status-bar").Class("statusbar", "statusbar-"+st).Attr("data-state", st).Body(
		app.Span().Class("status-conn").Body(
			app.Span().ID("conn-announce").Class("status-state").Attr("role", "status").Aria("live", "polite").Title(why).Text(announce),
			app.If(h.State == session.Reconnecting, func() app.UI { return retryCountdown(h, now) }),
		),
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
// can say alone. It stays the same while the state does (no countdown in
// it), so it is announced once.
func announcement(h session.Health) string {
	switch h.State {
	case session.Connecting:
		return "Connecting…"
	case session.Connected:
		return "Connected"
	case session.Replaying:
		return "Catching up…"
	case session.Reconnecting:
		if h.Unreachable {
			return "Server unreachable"
		}
		return "Connection lost"
	case session.Stalled:
		return "Stalled: no data while the server has traffic"
	}
	return h.State.String()
}

// retryNow cuts the session's reconnect back-off short; nil when the
// Source cannot (Routes sets it).
var retryNow func()

// Retrier is implemented by a Source that can reconnect at once.
type Retrier interface{ RetryNow() }

// retryCountdown says when the next attempt comes, with a button to make
// it now.
func retryCountdown(h session.Health, now time.Time) app.UI {
	when := ", retrying now…"
	if left := h.NextRetry.Sub(now); !h.NextRetry.IsZero() && left > 0 {
		secs := int((left + time.Second - 1) / time.Second)
		when = ", retrying in " + strconv.Itoa(secs) + " s"
	}
	return app.Span().Class("status-retry").Body(
		app.Span().ID("retry-when").Text(", "+when),
		app.If(retryNow != nil, func() app.UI {
			return app.Button().Type("button").ID("retry-now").Class("link-btn").
				OnClick(func(ctx app.Context, e app.Event) {
					if retryNow != nil {
						retryNow()
					}
				}).Text("Retry now")
		}),
	)
}

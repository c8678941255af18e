package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// tokensView is the LLM calls tab: each call's model, node, usage, time to
// first token, duration, cost and finish reason, and its response as it
// streams in.
type tokensView struct {
	Rows     []viewmodel.TokenRow
	Selected uint64
	OnSeek   func(ctx app.Context, seq uint64)
}

func (v tokensView) Render() app.UI {
	if len(v.Rows) == 0 {
		return emptyState("No LLM calls", "LLM calls that stream tokens show here with their usage, timing, cost and text.")
	}
	items := make([]app.UI, len(v.Rows))
	for i, t := range v.Rows {
		items[i] = v.call(t)
	}
	return app.Div().ID("llm-calls").Class("items").Body(items...)
}

func (v tokensView) call(t viewmodel.TokenRow) app.UI {
	state, kind := "streaming", "running"
	switch {
	case t.Failed:
		state, kind = "failed", "failed"
	case t.Final:
		state, kind = "done", "completed"
	}
	if t.FinishReason != "" {
		state += " · " + t.FinishReason
	}
	stat := func(name, value, title string) app.UI {
		d := app.Dd().Text(value)
		if title != "" {
			d = d.Title(title)
		}
		return app.Div().Class("stat").Body(app.Dt().Text(name), d)
	}
	tokens := "–"
	if t.Total > 0 {
		tokens = viewmodel.FormatCount(uint64(t.Prompt)) + " → " + viewmodel.FormatCount(uint64(t.Completion))
	}
	cost, costTitle := t.Cost, ""
	if cost == "" {
		cost, costTitle = "no price", t.Unpriced
		if t.Total == 0 {
			cost = "–"
		}
	}
	node := "–"
	if t.Node != "" {
		node = t.Node
		if t.Execution > 1 {
			node += " #" + strconv.Itoa(t.Execution)
		}
	}
	meta := strconv.Itoa(t.Chunks) + " chunks"
	if t.Missing > 0 {
		meta += " · " + strconv.Itoa(t.Missing) + " missing"
	}
	if t.Truncated {
		meta += " · text truncated"
	}
	seq := strconv.FormatUint(t.LastSeq, 10)
	return app.Article().Class("item-card", "llm-call").DataSet("request", t.RequestID).Body(
		app.Div().Class("call-head").Body(
			app.H3().Body(app.Span().Class("call-model").Text(orDash(t.Model)), badge(kind, state)),
			app.Span().Class("muted", "call-id").Title("request id").Text(t.RequestID),
			app.If(t.LastSeq != 0, func() app.UI {
				return app.Button().Type("button").Class("link-btn").DataSet("seq", seq).
					Aria("label", "Show the run when this call ended (sequence "+seq+")").
					OnClick(func(ctx app.Context, e app.Event) {
						if n, err := strconv.ParseUint(dataOf(ctx, "seq"), 10, 64); err == nil {
							v.OnSeek(ctx, n)
						}
					}).Text("seq " + seq)
			}),
		),
		app.Dl().Class("call-stats").Body(
			stat("Node", node, ""),
			stat("Tokens in → out", tokens, t.Tokens),
			stat("Total", orDash(viewmodel.FormatCount(uint64(t.Total))), ""),
			stat("First token", t.TTFT, "Time to first token, from the call's LLM_START event"),
			stat("Duration", t.Duration, ""),
			stat("Cost", cost, costTitle),
		),
		app.P().Class("muted", "call-meta").Text(meta),
		app.Pre().Class("token-text").Text(t.Text),
	)
}

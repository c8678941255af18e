package ui

import (
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// nodeDetails is the side panel of the selected node: type, status,
// timings, and ways to see the state when it started and after it ended.
type nodeDetails struct {
	Node     viewmodel.GraphNode
	Selected bool
	OnSeek   func(ctx app.Context, seq uint64)
	OnClose  func(ctx app.Context)
}

func (d nodeDetails) Render() app.UI {
	if !d.Selected {
		return app.Aside().Class("panel", "details").Aria("label", "Node details").Body(
			app.H2().Text("Node details"),
			app.P().Class("muted").Text("Select a node in the graph (click it, or Tab to it and press Enter) to see its details."),
		)
	}
	n := d.Node
	row := func(k string, v app.UI) app.UI {
		return app.Div().Class("dl-row").Body(app.Dt().Text(k), app.Dd().Body(v))
	}
	text := func(s string) app.UI { return app.Text(s) }
	seekBtn := func(label string, seq uint64) app.UI {
		if seq == 0 {
			return nil
		}
		return app.Button().Type("button").Class("btn", "btn-small").DataSet("seq", seq).
			OnClick(func(ctx app.Context, e app.Event) {
				if n, err := strconv.ParseUint(dataOf(ctx, "seq"), 10, 64); err == nil {
					d.OnSeek(ctx, n)
				}
			}).Text(label)
	}
	schema := "declared in the schema"
	if !n.InSchema {
		schema = "seen in the run, not declared in the schema"
	}
	return app.Aside().ID("node-details").Class("panel", "details").Aria("label", "Node details").Body(
		app.Div().Class("details-head").Body(
			app.H2().Text(n.ID),
			app.Button().Type("button").Class("btn", "btn-icon").Aria("label", "Close node details").
				OnClick(func(ctx app.Context, e app.Event) { d.OnClose(ctx) }).Text("✕"),
		),
		app.Dl().Body(
			row("Type", text(orDash(n.Type))),
			row("Status", badge(string(n.Status), string(n.Status))),
			row("Schema", text(schema)),
			app.If(n.Description != "", func() app.UI { return row("About", text(n.Description)) }),
			row("Duration", text(viewmodel.FormatMicros(n.DurationUs))),
			row("Runs", text(strconv.Itoa(n.Executions))),
			row("Started", text(clockMicros(n.StartTime)+seqNote(n.StartSeq))),
			row("Ended", text(clockMicros(n.EndTime)+seqNote(n.EndSeq))),
		),
		app.If(n.Error != "", func() app.UI { return app.P().Class("error-box").Attr("role", "note").Text(n.Error) }),
		app.Div().Class("details-actions").Body(
			seekBtn("State at start", n.StartSeq),
			seekBtn("State after node", n.EndSeq),
		),
	)
}

func clockMicros(us int64) string {
	if us == 0 {
		return "–"
	}
	return viewmodel.FormatClock(time.UnixMicro(us))
}

func seqNote(seq uint64) string {
	if seq == 0 {
		return ""
	}
	return " · seq " + strconv.FormatUint(seq, 10)
}

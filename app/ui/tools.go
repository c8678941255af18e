package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// toolsView shows tool executions: stages, arguments, results, errors and
// retries.
type toolsView struct{ Rows []viewmodel.ToolRow }

func (v toolsView) Render() app.UI {
	if len(v.Rows) == 0 {
		return emptyState("No tool calls", "Tool executions of the run show here.")
	}
	items := make([]app.UI, len(v.Rows))
	for i, t := range v.Rows {
		kind := "running"
		switch t.Stage {
		case "completed":
			kind = "completed"
		case "failed":
			kind = "failed"
		}
		meta := t.Stages + " · " + t.Duration
		if t.Retries > 0 {
			meta += " · " + strconv.FormatUint(uint64(t.Retries), 10) + " retries"
		}
		items[i] = app.Article().Class("item-card").Body(
			app.H3().Body(app.Text(t.Tool+" "), badge(kind, t.Stage), app.Span().Class("muted").Text(" "+t.CallID)),
			app.P().Class("muted").Text(meta),
			app.Div().Class("kv").Body(
				app.Div().Body(app.H4().Text("Arguments · "+t.ArgsSize), app.Pre().Class("code").Text(orDash(t.Arguments))),
				app.Div().Body(app.H4().Text("Result · "+t.ResultSz), app.Pre().Class("code").Text(orDash(t.Result))),
			),
			app.If(t.Error != "", func() app.UI { return app.P().Class("error-text").Text(t.Error) }),
		)
	}
	return app.Div().Class("items").Body(items...)
}

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
		meta := t.Stages + " · took " + t.Duration
		if t.Elapsed != "–" && t.Elapsed != t.Duration {
			meta += " (" + t.Elapsed + " with retries)"
		}
		if t.Retries > 0 {
			meta += " · " + viewmodel.Plural(int(t.Retries), "retry", "retries")
		}
		if t.Node != "" {
			meta = "in " + t.Node + execSuffix(t.Execution) + " · " + meta
		}
		errText := t.Error
		if errText != "" && !t.Failed {
			errText = "Last retry: " + errText
		}
		items[i] = app.Article().Class("item-card").Body(
			app.H3().Body(app.Text(t.Tool+" "), badge(kind, t.Stage), app.Span().Class("muted").Text(" "+t.CallID)),
			app.P().Class("muted").Text(meta),
			app.Div().Class("kv").Body(
				app.Div().Body(app.H4().Text("Arguments · "+t.ArgsSize), app.Pre().Class("code").Text(orDash(t.Arguments))),
				app.Div().Body(app.H4().Text("Result · "+t.ResultSz), app.Pre().Class("code").Text(orDash(t.Result))),
			),
			app.If(errText != "", func() app.UI {
				cls := "error-text"
				if !t.Failed {
					cls = "muted"
				}
				return app.P().Class(cls).Text(errText)
			}),
		)
	}
	return app.Div().Class("items").Body(items...)
}

// execSuffix is " #n" for a node's second and later executions.
func execSuffix(n int) string {
	if n > 1 {
		return " #" + strconv.Itoa(n)
	}
	return ""
}

package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// exportFormat is one way to take a run out of the dashboard.
type exportFormat string

// The export formats.
const (
	exportJSON    exportFormat = "json"
	exportDOT     exportFormat = "dot"
	exportMermaid exportFormat = "mermaid"
)

// exportMenu offers the run as JSON and its graph as GraphViz and Mermaid.
type exportMenu struct {
	OnExport func(ctx app.Context, f exportFormat)
}

func (m exportMenu) Render() app.UI {
	btn := func(f exportFormat, label, title string) app.UI {
		return app.Button().Type("button").ID("export-"+string(f)).Class("btn", "btn-small").Title(title).
			OnClick(func(ctx app.Context, e app.Event) { m.OnExport(ctx, f) }).Text(label)
	}
	return app.Div().Class("exports").Attr("role", "group").Aria("label", "Export").Body(
		app.Span().Class("muted").Text("Export"),
		btn(exportJSON, "Run JSON", "The run's messages and final state"),
		btn(exportDOT, "GraphViz", "The graph as a .dot file"),
		btn(exportMermaid, "Mermaid", "The graph as a Mermaid flowchart"),
	)
}

package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// metricsView lists the latest value of each metric the run reported.
type metricsView struct{ Rows []viewmodel.MetricRow }

func (v metricsView) Render() app.UI {
	if len(v.Rows) == 0 {
		return emptyState("No metrics", "Metrics the run reports show here.")
	}
	rows := make([]app.UI, len(v.Rows))
	for i, m := range v.Rows {
		rows[i] = app.Tr().Body(
			app.Td().Text(m.Scope), app.Td().Body(app.Code().Text(m.Name)),
			app.Td().Class("num", "mono").Title(m.Exact).Text(m.Value), app.Td().Text(m.Unit), app.Td().Text(m.Type),
			app.Td().Class("num").Text(strconv.FormatUint(m.Seq, 10)),
		)
	}
	return app.Div().Class("table-wrap").Body(app.Table().Class("metrics-table").Body(
		app.THead().Body(app.Tr().Body(th("Scope"), th("Metric"), th("Value"), th("Unit"), th("Type"), th("Seq"))),
		app.TBody().Body(rows...),
	))
}

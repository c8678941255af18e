package ui

import (
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/app/viewroute"
)

// runTable is a table of runs, each row led by a real link to its page.
type runTable struct {
	Rows    []viewmodel.RunRow
	Now     time.Time
	Compact bool
	Empty   string
}

func (t runTable) Render() app.UI {
	if len(t.Rows) == 0 {
		msg := t.Empty
		if msg == "" {
			msg = "No runs."
		}
		return emptyState(msg, "")
	}
	head := []app.UI{th("Run"), th("Graph"), th("Status"), th("Started"), th("Duration")}
	if !t.Compact {
		head = append(head, th("Nodes"), th("Events"))
	}
	rows := make([]app.UI, len(t.Rows))
	for i, r := range t.Rows {
		cells := []app.UI{
			app.Td().Class("cell-run").Body(
				app.A().Class("run-link").Href(viewroute.RunPath(r.Thread)).Title(r.Thread).Text(viewmodel.ShortID(r.Thread)),
			),
			app.Td().Class("cell-graph").Text(orDash(r.Graph)),
			app.Td().Body(statusBadge(r.Status), app.If(r.Reason != "", func() app.UI {
				return app.Span().Class("reason").Title(r.Reason).Text(viewmodel.Truncate(r.Reason, 48))
			})),
			app.Td().Class("num").Text(viewmodel.FormatClock(r.Started)),
			app.Td().Class("num").Text(viewmodel.FormatDuration(r.Duration)),
		}
		if !t.Compact {
			cells = append(cells, app.Td().Class("num").Text(strconv.Itoa(r.Nodes)), app.Td().Class("num").Text(strconv.Itoa(r.Events)))
		}
		rows[i] = app.Tr().Class("run-row").DataSet("status", string(r.Status)).Body(cells...)
	}
	return app.Div().Class("table-wrap").Body(
		app.Table().Class("runs-table").Body(
			app.THead().Body(app.Tr().Body(head...)),
			app.TBody().Body(rows...),
		),
	)
}

func th(text string) app.UI { return app.Th().Scope("col").Text(text) }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func statusBadge(s viewmodel.Status) app.UI { return badge(string(s), string(s)) }

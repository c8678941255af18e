package ui

import (
	"slices"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/app/viewroute"
)

// runTable is a table of runs, each row led by a real link to its page.
// The full table has the usage columns (LLM calls, tokens, cost, tool
// calls, errors) and, when OnSelect is set, a checkbox per row to pick
// runs to compare.
type runTable struct {
	Rows     []viewmodel.RunRow
	Now      time.Time
	Compact  bool
	Empty    string
	Selected []string
	OnSelect func(ctx app.Context, thread string, on bool)
}

func (t runTable) Render() app.UI {
	if len(t.Rows) == 0 {
		msg := t.Empty
		if msg == "" {
			msg = "No runs."
		}
		return emptyState(msg, "")
	}
	var head []app.UI
	if t.OnSelect != nil {
		head = append(head, app.Th().Scope("col").Class("cell-pick").Body(app.Span().Class("sr-only").Text("Compare")))
	}
	head = append(head, th("Run"), th("Graph"), th("Status"), th("Started"), thNum("Duration", ""))
	if !t.Compact {
		head = append(head, thNum("Nodes", "node executions"), thNum("LLM", "LLM calls"), thNum("Tokens", ""),
			thNum("Cost", "cost of the priced LLM calls"), thNum("Tools", "tool calls"), thNum("Errors", ""))
	}
	rows := make([]app.UI, len(t.Rows))
	for i, r := range t.Rows {
		var cells []app.UI
		if t.OnSelect != nil {
			picked := slices.Contains(t.Selected, r.Thread)
			cells = append(cells, app.Td().Class("cell-pick").Body(
				checkbox(picked).Class("pick").DataSet("thread", r.Thread).
					Aria("label", "Select run "+viewmodel.ShortID(r.Thread)+" to compare").
					OnChange(func(ctx app.Context, e app.Event) {
						t.OnSelect(ctx, ctx.JSSrc().Get("dataset").Get("thread").String(), ctx.JSSrc().Get("checked").Bool())
					}),
			))
		}
		href := viewroute.RunPath(r.Thread)
		cells = append(cells,
			app.Td().Class("cell-run").Body(
				app.A().Class("run-link").Href(href).Title(r.Thread).Text(viewmodel.ShortID(r.Thread)),
			),
			app.Td().Class("cell-graph").Text(orDash(r.Graph)),
			app.Td().Body(statusBadge(r.Status), app.If(r.Reason != "", func() app.UI {
				return app.Span().Class("reason").Title(r.Reason).Text(viewmodel.Truncate(r.Reason, 48))
			})),
			app.Td().Class("num").Text(viewmodel.FormatClock(r.Started)),
			app.Td().Class("num").Text(viewmodel.FormatDuration(r.Duration)),
		)
		if !t.Compact {
			cells = append(cells,
				app.Td().Class("num").Text(strconv.Itoa(r.Nodes)),
				app.Td().Class("num").Text(zeroDash(r.LLMCalls)),
				app.Td().Class("num").Text(tokensText(r.Tokens)),
				app.Td().Class("num").Text(costText(r.CostUSD, r.LLMCalls)),
				app.Td().Class("num").Text(zeroDash(r.ToolCalls)),
				app.Td().Class("num").Class(errClass(r.Errors)).Text(zeroDash(r.Errors)),
			)
		}
		rows[i] = app.Tr().Class("run-row").DataSet("status", string(r.Status)).DataSet("thread", r.Thread).Body(cells...)
	}
	return app.Div().Class("table-wrap").Body(
		app.Table().Class("runs-table").Body(
			app.THead().Body(app.Tr().Body(head...)),
			app.TBody().Body(rows...),
		),
	)
}

func th(text string) app.UI { return app.Th().Scope("col").Text(text) }

// thNum is a numeric column's header (right-aligned), with a longer name
// as its tooltip.
func thNum(text, title string) app.UI {
	h := app.Th().Scope("col").Class("num").Text(text)
	if title != "" {
		h = h.Title(title)
	}
	return h
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func zeroDash(n int) string {
	if n == 0 {
		return "–"
	}
	return strconv.Itoa(n)
}

func errClass(n int) string {
	if n > 0 {
		return "cell-bad"
	}
	return ""
}

func tokensText(n uint64) string {
	if n == 0 {
		return "–"
	}
	return viewmodel.FormatCount(n)
}

// costText writes a run's cost, "–" when no call has a known price (never
// a guess).
func costText(usd *float64, calls int) string {
	if usd == nil || calls == 0 {
		return "–"
	}
	return viewmodel.FormatUSD(*usd)
}

func statusBadge(s viewmodel.Status) app.UI { return badge(string(s), string(s)) }

// checkbox is a checkbox, checked only when on: go-app writes a boolean
// attribute with its value, and checked="false" checks the box in the
// prerendered page.
func checkbox(on bool) app.HTMLInput {
	in := app.Input().Type("checkbox")
	if on {
		in = in.Checked(true)
	}
	return in
}

package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// eventsPerPage bounds the event rows rendered at once.
const eventsPerPage = 50

// eventList shows the run's messages of every type, newest first, with a
// search box; a sequenced row jumps the slider to it.
type eventList struct {
	Rows     []viewmodel.EventRow // the page shown
	Total    int                  // rows matching the search
	All      int                  // rows kept
	Page     int
	Pages    int
	Query    string
	Selected uint64
	OnQuery  func(ctx app.Context, q string)
	OnPage   func(ctx app.Context, p int)
	OnSeek   func(ctx app.Context, seq uint64)
}

func (l eventList) Render() app.UI {
	rows := make([]app.UI, len(l.Rows))
	for i, r := range l.Rows {
		rows[i] = l.row(r)
	}
	var body app.UI
	if len(l.Rows) == 0 {
		body = emptyState("No events match", "")
	} else {
		body = app.Div().Class("table-wrap").Body(app.Table().ID("events").Class("events-table").Body(
			app.THead().Body(app.Tr().Body(th("Seq"), th("Time"), th("Type"), th("Node"), th("Details"))),
			app.TBody().Body(rows...),
		))
	}
	return app.Div().Class("events-wrap").Body(
		app.Div().Class("events-bar").Body(
			app.Label().For("event-search").Class("sr-only").Text("Search events"),
			app.Input().ID("event-search").Type("search").Placeholder("Search type, node, field…").Value(l.Query).
				OnInput(func(ctx app.Context, e app.Event) { l.OnQuery(ctx, ctx.JSSrc().Get("value").String()) }),
			app.Span().Class("muted").Text(strconv.Itoa(l.Total)+" of "+strconv.Itoa(l.All)+" events"),
		),
		body,
		pager{Page: l.Page, Pages: l.Pages, Total: l.Total, Noun: "events", OnPage: l.OnPage}.Render(),
	)
}

func (l eventList) row(r viewmodel.EventRow) app.UI {
	cls := []string{"event-row"}
	if r.Error {
		cls = append(cls, "event-error")
	}
	if r.Seq != 0 && r.Seq == l.Selected {
		cls = append(cls, "event-selected")
	}
	seqCell := app.Td().Class("num").Text("–")
	if r.Seq != 0 {
		seq := strconv.FormatUint(r.Seq, 10)
		seqCell = app.Td().Class("num").Body(app.Button().Type("button").Class("link-btn").
			Aria("label", "Show the run at sequence "+seq).DataSet("seq", seq).
			OnClick(func(ctx app.Context, e app.Event) {
				if n, err := strconv.ParseUint(dataOf(ctx, "seq"), 10, 64); err == nil {
					l.OnSeek(ctx, n)
				}
			}).Text(seq))
	}
	// Numbers are rounded for reading; the tooltip has them as received.
	details, exact := "", ""
	for _, f := range r.Summary {
		if details != "" {
			details += " · "
			exact += " · "
		}
		details += f.Key + "=" + viewmodel.Truncate(viewmodel.FormatValue(f.Value), 60)
		exact += f.Key + "=" + viewmodel.Truncate(f.Value, 200)
	}
	if r.Duration != "" {
		details = "took " + r.Duration + "  " + details
	}
	return app.Tr().Class(cls...).Body(
		seqCell,
		app.Td().Class("num").Text(viewmodel.FormatClock(r.Time)),
		app.Td().Body(app.Span().Class("etype").Text(r.Name)),
		app.Td().Text(r.Node),
		app.Td().Class("event-details").Body(
			app.If(r.Detail != "", func() app.UI { return app.Span().Class("error-text").Text(viewmodel.Truncate(r.Detail, 200) + " ") }),
			app.If(r.Note != "", func() app.UI { return app.Span().Class("note").Text(r.Note) }),
			app.Span().Class("muted").Title(exact).Text(" "+viewmodel.Truncate(details, 160)),
		),
	)
}

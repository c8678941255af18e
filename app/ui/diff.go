package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// diffView shows the patch that produced the selected state: additions,
// removals and replacements, each with its path and values.
type diffView struct {
	Rows    []viewmodel.DiffRow
	Total   int
	Caption string
	Note    string
}

func (d diffView) Render() app.UI {
	if len(d.Rows) == 0 {
		msg := d.Note
		if msg == "" {
			msg = "This event changed no state."
		}
		return app.Div().Class("diff-wrap").Body(app.P().Class("muted").Text(d.Caption), emptyState(msg, ""))
	}
	var adds, removes, changes int
	for _, r := range d.Rows {
		switch r.Op {
		case "add":
			adds++
		case "remove":
			removes++
		default:
			changes++
		}
	}
	items := make([]app.UI, len(d.Rows))
	for i, r := range d.Rows {
		sign := map[string]string{"add": "+", "remove": "−", "replace": "~"}[r.Op]
		path := r.Path
		if path == "" {
			path = "(whole state)"
		}
		items[i] = app.Li().Class("diff-row", "diff-"+r.Op).Body(
			app.Span().Class("diff-sign").Aria("label", r.Op).Text(sign),
			app.Code().Class("diff-path").Text(path),
			app.If(r.Old != "", func() app.UI { return app.Code().Class("diff-old").Title("before").Text(r.Old) }),
			app.If(r.Op != "remove", func() app.UI { return app.Code().Class("diff-new").Title("after").Text(r.Value) }),
		)
	}
	summary := "+" + strconv.Itoa(adds) + " ~" + strconv.Itoa(changes) + " −" + strconv.Itoa(removes)
	if d.Total > len(d.Rows) {
		summary += " · first " + strconv.Itoa(len(d.Rows)) + " of " + strconv.Itoa(d.Total) + " operations"
	}
	return app.Div().Class("diff-wrap").Body(
		app.P().Class("muted").Body(app.Text(d.Caption+" · "), app.Span().Class("diff-summary").Text(summary)),
		app.Ul().ID("diff").Class("diff").Body(items...),
	)
}

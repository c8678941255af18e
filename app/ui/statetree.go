package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// stateTree shows a state as a collapsible tree: containers are toggle
// buttons, numbers show as their literal, what the shown change touched
// is highlighted.
type stateTree struct {
	Rows     []viewmodel.TreeRow
	Caption  string
	OnToggle func(ctx app.Context, path string, open bool)
}

func (t stateTree) Render() app.UI {
	if len(t.Rows) == 0 {
		return emptyState("No state at this point", "The run has not sent a state yet.")
	}
	rows := make([]app.UI, len(t.Rows))
	for i, r := range t.Rows {
		rows[i] = t.row(r)
	}
	return app.Div().Class("tree-wrap").Body(
		app.P().Class("muted", "tree-caption").Text(t.Caption),
		app.Ul().ID("state-tree").Class("tree").Attr("role", "tree").Aria("label", "State").Body(rows...),
	)
}

func (t stateTree) row(r viewmodel.TreeRow) app.UI {
	cls := []string{"tree-row", "t-" + r.Kind}
	if r.Changed {
		cls = append(cls, "changed")
	}
	indent := app.Span().Class("indent").Style("width", strconv.Itoa(r.Depth*16)+"px")
	key := r.Key
	if r.Depth == 0 {
		key = "state"
	}
	var head app.UI
	if r.Expandable {
		arrow := "▸"
		if r.Expanded {
			arrow = "▾"
		}
		head = app.Button().Type("button").Class("tree-toggle").Aria("expanded", strconv.FormatBool(r.Expanded)).
			DataSet("path", r.Path).DataSet("open", strconv.FormatBool(r.Expanded)).
			OnClick(func(ctx app.Context, e app.Event) {
				t.OnToggle(ctx, dataOf(ctx, "path"), dataOf(ctx, "open") != "true")
			}).Body(
			app.Span().Class("arrow").Aria("hidden", "true").Text(arrow),
			app.Span().Class("key").Text(key),
		)
	} else if r.Kind == "more" {
		head = app.Span().Class("more").Text(r.Preview)
	} else {
		head = app.Span().Class("key", "leaf-key").Text(key)
	}
	var value app.UI
	if r.Kind != "more" {
		value = app.Span().Class("value", "v-"+r.Kind).Text(r.Preview)
	}
	return app.Li().Class(cls...).Attr("role", "treeitem").DataSet("path", r.Path).Body(indent, head, value)
}

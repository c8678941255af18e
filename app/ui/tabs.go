package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewroute"
)

var tabLabels = map[viewroute.Tab]string{
	viewroute.TabTimeline: "Timeline", viewroute.TabState: "State", viewroute.TabDiff: "Diff", viewroute.TabEvents: "Events",
	viewroute.TabTokens: "LLM calls", viewroute.TabTools: "Tools", viewroute.TabMetrics: "Metrics",
}

// tabBar is an ARIA tablist: one tab stop, arrows move between tabs, Home
// and End jump to the ends.
type tabBar struct {
	Active viewroute.Tab
	Counts map[viewroute.Tab]string
	OnPick func(ctx app.Context, t viewroute.Tab)
}

func (b tabBar) Render() app.UI {
	tabs := viewroute.Tabs
	items := make([]app.UI, len(tabs))
	for i, t := range tabs {
		selected := t == b.Active
		tabIndex := -1
		if selected {
			tabIndex = 0
		}
		label := []app.UI{app.Text(tabLabels[t])}
		if c := b.Counts[t]; c != "" {
			label = append(label, app.Span().Class("tab-count").Text(c))
		}
		items[i] = app.Button().Type("button").ID("tab-"+string(t)).Class("tab").Attr("role", "tab").
			Aria("selected", strconv.FormatBool(selected)).Aria("controls", "tabpanel").TabIndex(tabIndex).
			OnClick(func(ctx app.Context, e app.Event) { b.OnPick(ctx, t) }).
			OnKeyDown(func(ctx app.Context, e app.Event) {
				next := -1
				switch e.Get("key").String() {
				case "ArrowRight":
					next = (i + 1) % len(tabs)
				case "ArrowLeft":
					next = (i + len(tabs) - 1) % len(tabs)
				case "Home":
					next = 0
				case "End":
					next = len(tabs) - 1
				}
				if next < 0 {
					return
				}
				e.PreventDefault()
				b.OnPick(ctx, tabs[next])
				id := "tab-" + string(tabs[next])
				ctx.Defer(func(app.Context) { app.Window().GetElementByID(id).Call("focus") })
			}).Body(label...)
	}
	return app.Div().Class("tabs").Attr("role", "tablist").Aria("label", "Run details").Body(items...)
}

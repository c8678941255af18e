package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// maxTraceRows bounds the rows drawn at once (a long loop can run a node
// hundreds of times); the rest are counted below the list.
const maxTraceRows = 400

// waterfallView is the Timeline tab: one row per node execution on the
// run's time axis, with the LLM and tool calls of each nested under it,
// bars coloured by status and failures marked. Hovering or focusing a row
// shows when it started, how long it took and its share of the run; a
// click (or Enter) selects its node and moves the slider to it. The rows
// are one tab stop: the arrow keys move between them, Home and End jump.
type waterfallView struct {
	W        viewmodel.Waterfall
	Selected int // index of the selected row, -1 for none
	OnSelect func(ctx app.Context, node string, seq uint64)
}

func (v waterfallView) Render() app.UI {
	w := v.W
	if len(w.Rows) == 0 {
		return emptyState("No node has run yet", "Each node execution shows here as a bar on the run's time axis.")
	}
	ticks := make([]app.UI, 0, len(w.Ticks))
	for _, t := range w.Ticks {
		ticks = append(ticks, app.Span().Class("trace-tick").Style("left", pct(w.Left(viewmodel.Span{Start: t.At}))).Text(t.Label))
	}
	rows := w.Rows
	if len(rows) > maxTraceRows {
		rows = rows[:maxTraceRows]
	}
	focus := v.Selected
	if focus < 0 || focus >= len(rows) {
		focus = 0
	}
	items := make([]app.UI, len(rows))
	for i, s := range rows {
		items[i] = v.row(i, s, i == v.Selected, i == focus)
	}
	var fail app.UI
	if w.Failed != "" {
		fail = app.Span().Class("trace-fail").Style("left", pct(w.Left(viewmodel.Span{Start: w.FailedAt}))).
			Title("The run failed here: " + w.Failed)
	}
	caption := "Run time " + viewmodel.FormatDuration(w.Total)
	if w.Live {
		caption += " so far (live)"
	}
	return app.Div().ID("trace").Class("trace").Body(
		app.Div().Class("trace-head").Aria("hidden", "true").Body(
			app.Span().Class("trace-name").Text(caption),
			app.Div().Class("trace-track", "trace-axis").Body(ticks...),
		),
		app.Div().Class("trace-body").Body(
			app.Ul().ID("trace-rows").Class("trace-rows").Aria("label", "Node executions on the run's time axis").Body(items...),
			app.Div().Class("trace-overlay").Aria("hidden", "true").Body(fail),
		),
		app.If(len(w.Rows) > len(rows), func() app.UI {
			return app.P().Class("muted").Text("First " + strconv.Itoa(len(rows)) + " of " + strconv.Itoa(len(w.Rows)) + " rows.")
		}),
	)
}

func (v waterfallView) row(i int, s viewmodel.Span, selected, focus bool) app.UI {
	w := v.W
	cls := []string{"trace-row", "trace-" + string(s.Kind), "trace-depth-" + strconv.Itoa(s.Depth)}
	if selected {
		cls = append(cls, "trace-selected")
	}
	name := []app.UI{}
	switch s.Kind {
	case viewmodel.SpanLLM:
		name = append(name, app.Span().Class("trace-kind").Text("LLM"))
	case viewmodel.SpanTool:
		name = append(name, app.Span().Class("trace-kind").Text("tool"))
	}
	name = append(name, app.Span().Class("trace-label").Text(s.Name))
	if s.Kind == viewmodel.SpanNode && s.Execution > 1 {
		name = append(name, app.Span().Class("trace-exec").Text("#"+strconv.Itoa(s.Execution)))
	}
	if s.Status == viewmodel.NodeFailed {
		name = append(name, app.Span().Class("trace-err").Aria("label", "failed").Text("✕"))
	}
	tip := w.Tooltip(s)
	if s.Error != "" {
		tip += " · " + s.Error
	}
	detail := s.Detail
	if s.Error != "" && s.Kind != viewmodel.SpanNode {
		detail = viewmodel.Truncate(s.Error, 60)
	}
	barCls := []string{"trace-bar", "bar-" + string(s.Status)}
	if s.Open {
		barCls = append(barCls, "bar-open")
	}
	tab := -1
	if focus {
		tab = 0
	}
	label := string(s.Kind) + " " + s.Name
	if s.Kind == viewmodel.SpanNode {
		label = s.Name + " execution " + strconv.Itoa(s.Execution)
	}
	return app.Li().Body(
		app.Button().Type("button").ID("trace-row-"+strconv.Itoa(i)).Class(cls...).TabIndex(tab).
			Aria("pressed", strconv.FormatBool(selected)).Aria("label", label+", "+string(s.Status)+", "+tip).
			DataSet("index", i).DataSet("node", s.Node).DataSet("seq", s.Seq).DataSet("key", s.Key).
			OnClick(func(ctx app.Context, e app.Event) {
				if seq, err := strconv.ParseUint(dataOf(ctx, "seq"), 10, 64); err == nil {
					v.OnSelect(ctx, dataOf(ctx, "node"), seq)
				}
			}).
			OnKeyDown(func(ctx app.Context, e app.Event) {
				i, ok := intData(ctx, "index")
				if !ok {
					return
				}
				var next int
				switch e.Get("key").String() {
				case "ArrowDown":
					next = i + 1
				case "ArrowUp":
					next = i - 1
				case "Home":
					next = 0
				case "End":
					next = 1 << 30
				default:
					return
				}
				e.PreventDefault()
				moveRowFocus(ctx, i, next)
			}).Body(
			app.Span().Class("trace-name").Body(name...),
			app.Span().Class("trace-track").Body(
				app.Span().Class(barCls...).Style("left", pct(w.Left(s))).Style("width", pct(w.Width(s))),
				detailAt(w.Left(s), w.Width(s), detail),
			),
			app.Span().Class("trace-tip").Attr("role", "tooltip").Text(tip),
		),
	)
}

// moveRowFocus moves the roving tab stop from row i to row next (clamped
// to the rows drawn) and focuses it.
func moveRowFocus(ctx app.Context, i, next int) {
	doc := app.Window().Get("document")
	n := doc.Call("querySelectorAll", "#trace-rows .trace-row").Get("length").Int()
	next = min(max(next, 0), n-1)
	if next == i || n == 0 {
		return
	}
	from := doc.Call("getElementById", "trace-row-"+strconv.Itoa(i))
	to := doc.Call("getElementById", "trace-row-"+strconv.Itoa(next))
	if !to.Truthy() {
		return
	}
	if from.Truthy() {
		from.Set("tabIndex", -1)
	}
	to.Set("tabIndex", 0)
	to.Call("focus")
}

// detailAt places a bar's detail where there is room: after a bar that
// ends early, before one that starts late, else inside it.
func detailAt(left, width float64, text string) app.UI {
	d := app.Span().Class("trace-detail").Text(text)
	switch end := left + width; {
	case text == "":
		return nil
	case end <= 72:
		return d.Style("left", pct(end))
	case left >= 25:
		return d.Class("trace-detail-before").Style("right", pct(100-left))
	}
	return d.Class("trace-detail-in").Style("left", pct(left))
}

func pct(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "%" }

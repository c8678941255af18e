package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// maxMarkers bounds the markers drawn on the slider track.
const maxMarkers = 300

// sliderView is the time-travel control: a range over the run's events
// (arrow keys, Home/End and Page keys work natively), step buttons,
// LIVE/PAUSED (LATEST once the run ended), markers for the run's lifecycle, "event i of N" and the
// elapsed time at the position.
type sliderView struct {
	Timeline viewmodel.Timeline
	Index    int
	Live     bool
	Running  bool
	OnSeek   func(ctx app.Context, index int)
	OnLive   func(ctx app.Context)
}

func (s sliderView) Render() app.UI {
	n := s.Timeline.Len()
	if n == 0 {
		return app.Section().Class("panel", "slider").Aria("label", "Time travel").Body(
			emptyState("No events yet", ""))
	}
	i := min(max(s.Index, 0), n-1)
	last := n - 1
	step := func(label, aria string, to int, disabled bool) app.UI {
		return app.Button().Type("button").Class("btn", "btn-icon").Aria("label", aria).Title(aria).Disabled(disabled).
			DataSet("index", to).
			OnClick(func(ctx app.Context, e app.Event) {
				if i, ok := intData(ctx, "index"); ok {
					s.OnSeek(ctx, i)
				}
			}).Text(label)
	}
	// A run that has ended has nothing live to follow: the button then
	// goes to its last event, and never says "Live".
	liveLabel, liveClass, liveTitle := "Paused", "pill-paused", "Follow the run as it happens"
	switch {
	case !s.Running:
		liveLabel, liveTitle = "Latest", "The run has ended: show its last event"
	case s.Live:
		liveLabel, liveClass = "Live", "pill-live"
	}
	var markers []app.UI
	stride := max(len(s.Timeline.Markers)/maxMarkers, 1)
	for k := 0; k < len(s.Timeline.Markers); k += stride {
		m := s.Timeline.Markers[k]
		pos := 0.0
		if last > 0 {
			pos = float64(m.Index) * 100 / float64(last)
		}
		markers = append(markers, app.Span().Class("marker", "marker-"+string(m.Kind)).
			Style("left", strconv.FormatFloat(pos, 'f', 2, 64)+"%").Title(m.Label))
	}
	seq := s.Timeline.Seqs[i]
	node := s.Timeline.Nodes[i]
	where := "Event " + strconv.Itoa(i+1) + " of " + strconv.Itoa(n) + " · seq " + strconv.FormatUint(seq, 10)
	if node != "" {
		where += " · " + node
	}
	return app.Section().Class("panel", "slider").Aria("label", "Time travel").Body(
		app.Div().Class("slider-controls").Body(
			step("«", "First event", 0, i == 0),
			step("‹", "Previous event", i-1, i == 0),
			app.Button().Type("button").ID("live-toggle").Class("pill", liveClass).Aria("pressed", strconv.FormatBool(s.Live)).
				Title(liveTitle).Disabled(s.Live).
				OnClick(func(ctx app.Context, e app.Event) { s.OnLive(ctx) }).Text(liveLabel),
			step("›", "Next event", i+1, i == last),
			step("»", "Last event", last, i == last),
			app.Div().Class("slider-track").Body(
				app.Input().ID("seq-slider").Type("range").Min(0).Max(last).Value(i).Step(1).
					Aria("label", "Position in the run").Aria("valuetext", where).
					OnInput(func(ctx app.Context, e app.Event) {
						if v, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil {
							s.OnSeek(ctx, v)
						}
					}),
				app.Div().Class("markers").Aria("hidden", "true").Body(markers...),
			),
		),
		app.Div().Class("slider-foot").Body(
			app.Span().ID("slider-position").Text(where),
			app.Span().Class("mono").Title("Time since the run started").Text(viewmodel.FormatElapsed(s.Timeline.Elapsed(i))),
		),
	)
}

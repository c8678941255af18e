package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// runBanners says plainly what a run's state is worth: corrupted or
// quarantined (with the reason and what is being done), still loading, or
// joined mid-stream.
type runBanners struct {
	Header    viewmodel.RunHeader
	Replaying bool
}

func (b runBanners) Render() app.UI {
	h := b.Header
	var items []viewmodel.Banner
	action := "The dashboard asks the server to replay this run from its start to rebuild it."
	if b.Replaying {
		action = "Replaying this run from the server now…"
	}
	switch {
	case h.Corrupted:
		items = append(items, viewmodel.Banner{Level: "error", Title: "Corrupted state", Text: h.Reason + ". " + action})
	case h.Gap:
		items = append(items, viewmodel.Banner{Level: "warn", Title: "Quarantined: messages were lost", Text: h.Reason + ". " + action})
	case h.Incomplete:
		items = append(items, viewmodel.Banner{Level: "info", Title: "Joined mid-run",
			Text: "No starting state has arrived for this run yet, so its state cannot be shown."})
	}
	if h.Heals > 0 && !h.Untrusted() {
		items = append(items, viewmodel.Banner{Level: "info", Title: "Recovered",
			Text: "This run's state was rebuilt " + strconv.Itoa(h.Heals) + " time(s) after a problem and is verified again."})
	}
	if len(items) == 0 {
		return nil
	}
	return app.Div().ID("run-integrity").Body(bannerList{Items: items}.Render())
}

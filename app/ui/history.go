package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/viewmodel"
)

// historyNotice says how much of a run's history the page holds, so a run
// is never shown partial as if it were whole: "Loading history" until
// everything the server retains of it, from its first message, is applied
// (the session asks until it is), and for a run whose first messages left
// the server's retention, which ones are gone. Its data-state ("loading",
// "incomplete", "complete") lets tests and scripts wait for a whole run.
type historyNotice struct {
	Status session.HistoryStatus
}

func (n historyNotice) Render() app.UI {
	s := n.Status
	if !s.Followed {
		return nil
	}
	state := "complete"
	var items []viewmodel.Banner
	if s.Loading {
		state = "loading"
		text := "Rebuilding this run from its first message on the server; the events, figures and slider below are partial until it is done."
		if s.Err != "" {
			text += " (" + s.Err + ")"
		}
		items = append(items, viewmodel.Banner{Level: "info", Title: "Loading history", Text: text})
	}
	if s.MissingBefore > 0 {
		if !s.Loading {
			state = "incomplete"
		}
		gone := "Sequence 1"
		if s.MissingBefore > 1 {
			gone = "Sequences 1–" + strconv.FormatUint(s.MissingBefore, 10)
		}
		items = append(items, viewmodel.Banner{Level: "warn", Title: "Incomplete history",
			Text: gone + " of this run are no longer retained by the server (they left Kafka retention); what is shown starts at sequence " +
				strconv.FormatUint(s.MissingBefore+1, 10) + "."})
	}
	return app.Div().ID("run-history").DataSet("state", state).Body(
		app.If(len(items) > 0, func() app.UI { return bannerList{Items: items}.Render() }),
	)
}

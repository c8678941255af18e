package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// tokensView shows each LLM call's streamed response as it grows.
type tokensView struct{ Rows []viewmodel.TokenRow }

func (v tokensView) Render() app.UI {
	if len(v.Rows) == 0 {
		return emptyState("No token streams", "LLM calls that stream tokens show their text here.")
	}
	items := make([]app.UI, len(v.Rows))
	for i, t := range v.Rows {
		state := "streaming"
		if t.Final {
			state = "done"
			if t.FinishReason != "" {
				state += " (" + t.FinishReason + ")"
			}
		}
		meta := strconv.Itoa(t.Chunks) + " chunks"
		if t.Missing > 0 {
			meta += " · " + strconv.Itoa(t.Missing) + " missing"
		}
		if t.Tokens != "" {
			meta += " · " + t.Tokens
		}
		if t.Truncated {
			meta += " · text truncated"
		}
		items[i] = app.Article().Class("item-card").Body(
			app.H3().Body(app.Code().Text(t.RequestID), app.Text(" "), badge(map[bool]string{true: "completed", false: "running"}[t.Final], state)),
			app.P().Class("muted").Text(t.Model+" · "+meta+" · seq "+strconv.FormatUint(t.FirstSeq, 10)+"–"+strconv.FormatUint(t.LastSeq, 10)),
			app.Pre().Class("token-text").Text(t.Text),
		)
	}
	return app.Div().Class("items").Body(items...)
}

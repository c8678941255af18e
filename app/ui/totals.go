package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/viewmodel"
)

// totalsView is the run header's usage line: node runs, LLM calls, tokens,
// cost, tool calls and errors, the same figures as the run's row in the
// runs list.
type totalsView struct {
	T viewmodel.Totals
	// NodeRuns counts node executions; < 0 leaves it out.
	NodeRuns int
}

func (v totalsView) Render() app.UI {
	t := v.T
	stat := func(key, name, value, title string, extra ...string) app.UI {
		cls := append([]string{"stat"}, extra...)
		d := app.Dd().Text(value)
		if title != "" {
			d = d.Title(title)
		}
		return app.Div().Class(cls...).DataSet("key", key).Body(app.Dt().Text(name), d)
	}
	tokens := viewmodel.FormatCount(t.Tokens)
	tokTitle := viewmodel.FormatCount(t.PromptTokens) + " prompt · " + viewmodel.FormatCount(t.CompletionTokens) + " completion"
	for _, m := range t.Models {
		tokTitle += "\n" + orDash(m.Model) + ": " + viewmodel.Plural(m.Calls, "call", "calls") + ", " +
			viewmodel.FormatCount(m.PromptTokens+m.CompletionTokens) + " tokens"
	}
	cost, costCls := t.Cost, []string{}
	switch {
	case t.LLMCalls == 0:
		cost = "–"
	case cost == "":
		cost, costCls = "no price", []string{"stat-muted"}
	case t.Unpriced > 0:
		cost += "+"
	}
	errCls := []string{}
	if t.Errors > 0 {
		errCls = append(errCls, "stat-bad")
	}
	return app.Dl().Class("run-totals").Aria("label", "Run totals").Body(
		app.If(v.NodeRuns >= 0, func() app.UI { return stat("nodes", "Node runs", strconv.Itoa(v.NodeRuns), "") }),
		stat("llm", "LLM calls", strconv.Itoa(t.LLMCalls), ""),
		stat("tokens", "Tokens", tokens, tokTitle),
		stat("cost", "Cost", cost, t.CostNote, costCls...),
		stat("tools", "Tool calls", strconv.Itoa(t.ToolCalls), viewmodel.Plural(t.ToolErrors, "failed", "failed")),
		stat("errors", "Errors", strconv.Itoa(t.Errors), "", errCls...),
	)
}

// copyLinkButton copies the page's address, which is a bookmark of what is
// on screen, to the clipboard.
type copyLinkButton struct {
	Copied   bool
	OnCopied func(ctx app.Context)
}

func (b copyLinkButton) Render() app.UI {
	label := "Copy link"
	if b.Copied {
		label = "Link copied ✓"
	}
	return app.Button().Type("button").ID("copy-link").Class("btn", "btn-small").
		Title("Copy the address of this view: it opens the same run, moment, tab and search").
		OnClick(func(ctx app.Context, e app.Event) {
			copyText(app.Window().Get("location").Get("href").String())
			b.OnCopied(ctx)
		}).Text(label)
}

package ui

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/catalog"
	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/app/viewroute"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// runsPerPage is the page size asked of the catalog.
const runsPerPage = 50

// retryEvery is how often a failed catalog request, or one answered while
// the server still reads its history, is asked again.
const retryEvery = 2 * time.Second

// RunsPage is `/runs`: every run the gateway retains, newest first, a page
// of the catalog at a time, filtered by status and text (both in the URL;
// the server filters history, the page filters the runs it sees live), with
// the runs this tab follows live laid over them. Two runs can be picked
// and compared.
type RunsPage struct {
	app.Compo
	src  Source
	live liveness

	view     viewroute.View
	list     *catalog.List
	asked    time.Time // when the current request was made
	health   session.Health
	now      time.Time
	rows     []viewmodel.RunRow
	total    int
	selected []string
	seed     *seed // the answer the prerendered page carries
	// connected is the connection epoch the list was last asked for since
	// it went live.
	connected uint64
}

// OnMount starts following the store.
func (p *RunsPage) OnMount(ctx app.Context) {
	p.src = orNone(p.src)
	p.live.start(ctx, p.src, p.refresh)
}

// OnNav reads the filter from the URL (also on back and forward).
func (p *RunsPage) OnNav(ctx app.Context) {
	p.src = orNone(p.src)
	p.view = viewroute.Parse(ctx.Page().URL())
	ctx.Page().SetTitle("Runs · %s", Title)
	if canon := p.canonical(); canon.String() != p.view.String() {
		// An old bookmark's "All statuses" or an unknown status: every run.
		p.view = canon
		ctx.Page().ReplaceURL(p.view.URL())
	}
	p.apply()
	p.refresh(ctx)
}

// OnDismount stops following the store.
func (p *RunsPage) OnDismount() { p.live.stop() }

// canonical is the view with its status reduced to a known one.
func (p *RunsPage) canonical() viewroute.View {
	v := p.view
	v.Status = string(viewmodel.ParseStatus(v.Status))
	return v
}

// filter is what the catalog is asked for: the view's filter, except a
// status only this tab knows (corrupted, quarantined), which the catalog
// cannot filter on.
func (p *RunsPage) filter() catalog.Filter {
	st := viewmodel.ParseStatus(p.view.Status)
	f := catalog.Filter{Text: p.view.Query}
	if !st.Local() {
		f.Status = runsummary.Status(st)
	}
	return f
}

// apply makes the list follow the view's filter.
func (p *RunsPage) apply() {
	if p.list == nil {
		p.list = catalog.NewList(runsPerPage)
	}
	p.list.SetFilter(p.filter())
}

// refresh is the page's heartbeat (store changes, and once a second): it
// asks the catalog for what is due and redraws.
func (p *RunsPage) refresh(ctx app.Context) {
	now := time.Now()
	if p.list == nil {
		p.apply()
	}
	if (p.list.Err() != "" || p.list.Building()) && now.Sub(p.asked) >= retryEvery {
		p.list.Reload()
	}
	if h := p.src.Health(); h.State == session.Connected && h.Epoch != p.connected {
		// From now on the stream shows every run from its start; runs that
		// started before are in the catalog, so ask it once more.
		p.connected = h.Epoch
		p.list.Reload()
	}
	p.fetch(ctx, now)
	p.update(now)
	for _, t := range p.list.Refetch(p.liveSummaries()) {
		p.fetchRow(ctx, t)
	}
}

// fetch sends the list's due request, if any; the answer comes back on the
// UI goroutine.
func (p *RunsPage) fetch(ctx app.Context, now time.Time) {
	if sd := fetchList(ctx, p.src, p.list, func() { p.update(time.Now()) }); sd != nil {
		p.seed, p.asked = sd, now
	}
}

// fetchList sends l's due request, if any, and hands the answer to l on
// the UI goroutine, then calls done. In the browser, a page prerendered
// with that very answer (a seed) takes it at once and asks again for a
// fresh one; on the server, it returns the seed to render.
func fetchList(ctx app.Context, src Source, l *catalog.List, done func()) *seed {
	q, gen, due := l.Request()
	if !due {
		return nil
	}
	path := q.Path()
	if b, ok := takeSeed(path); ok {
		if page, err := catalog.DecodePage(b); err == nil && l.Loaded(gen, page, nil) {
			l.Reload()
			q, gen, _ = l.Request()
		}
	}
	sd := &seed{path: path}
	ctx.Async(func() {
		c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		page, err := src.CatalogRuns(c, q)
		cancel()
		ctx.Dispatch(func(ctx app.Context) {
			if l.Loaded(gen, page, err) {
				if err == nil {
					sd.body = page
				}
				done()
			}
		})
	})
	return sd
}

// seed is a catalog answer a prerendered page carries to the browser.
type seed struct {
	path string
	body any
}

func (s *seed) Render() app.UI {
	if s == nil || s.body == nil {
		return nil
	}
	return seedElement(s.path, s.body)
}

// fetchRow asks the catalog for one run's row again.
func (p *RunsPage) fetchRow(ctx app.Context, thread string) {
	src, list := p.src, p.list
	ctx.Async(func() {
		c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		s, found, err := src.CatalogRun(c, thread)
		cancel()
		if err != nil || !found {
			return
		}
		ctx.Dispatch(func(ctx app.Context) {
			list.Fixed(s)
			p.update(time.Now())
		})
	})
}

// liveSummaries returns the summaries of the runs this tab holds, priced.
func (p *RunsPage) liveSummaries() []runsummary.Summary {
	var out []runsummary.Summary
	prices := listPrices(p.src)
	p.src.Read(func(s *runstate.Store) { out = pricedSummaries(s, prices) })
	return out
}

// update rebuilds the page's rows: the catalog's page with the live runs
// over it, each shown with this tab's verdict on its state when it holds
// the run.
func (p *RunsPage) update(now time.Time) {
	p.now = now
	p.health = p.src.Health()
	if p.list == nil {
		p.apply()
	}
	verdicts := map[string]viewmodel.RunRow{}
	var live []runsummary.Summary
	prices := listPrices(p.src)
	p.src.Read(func(s *runstate.Store) {
		live = pricedSummaries(s, prices)
		for _, r := range s.Runs() {
			if st := viewmodel.StatusOf(r); st.Local() {
				verdicts[r.ThreadID()] = viewmodel.NewRunRow(r, now)
			}
		}
	})
	st := viewmodel.ParseStatus(p.view.Status)
	if st.Local() {
		// Only this tab knows which runs it does not trust.
		p.rows = p.rows[:0]
		for _, sum := range live {
			if v, ok := verdicts[sum.ThreadID]; ok && v.Status == st && (catalog.Filter{Text: p.view.Query}).Matches(&sum) {
				row := viewmodel.SummaryRow(sum, now)
				row.Status, row.Reason = v.Status, v.Reason
				p.rows = append(p.rows, row)
			}
		}
		p.total = len(p.rows)
		return
	}
	sums, total := p.list.Rows(live)
	p.rows, p.total = make([]viewmodel.RunRow, len(sums)), total
	for i, sum := range sums {
		row := viewmodel.SummaryRow(sum, now)
		if v, ok := verdicts[sum.ThreadID]; ok {
			row.Status, row.Reason = v.Status, v.Reason
		}
		p.rows[i] = row
	}
}

// setFilter applies a filter, bookmarks it and asks the catalog.
func (p *RunsPage) setFilter(ctx app.Context, status, q string) {
	p.view.Status, p.view.Query = string(viewmodel.ParseStatus(status)), q
	ctx.Page().ReplaceURL(p.view.URL())
	p.apply()
	p.refresh(ctx)
}

// page moves to the older (+1) or newer (-1) page.
func (p *RunsPage) page(ctx app.Context, dir int) {
	moved := false
	if dir > 0 {
		moved = p.list.Older()
	} else {
		moved = p.list.Newer()
	}
	if moved {
		p.refresh(ctx)
	}
}

// pick selects a run to compare (at most two: a third replaces the
// earliest picked).
func (p *RunsPage) pick(ctx app.Context, thread string, on bool) {
	p.selected = slices.DeleteFunc(p.selected, func(t string) bool { return t == thread })
	if on {
		p.selected = append(p.selected, thread)
		if len(p.selected) > 2 {
			p.selected = p.selected[1:]
		}
	}
}

// comparePath is the comparison page of two runs.
func comparePath(a, b string) string {
	return "/compare?a=" + url.QueryEscape(a) + "&b=" + url.QueryEscape(b)
}

// Render draws the page.
func (p *RunsPage) Render() app.UI {
	f := frame{Active: viewroute.Runs, Health: p.health, Now: p.now}
	status := viewmodel.ParseStatus(p.view.Status)
	loading := p.list == nil || p.list.Loading() && !status.Local()
	empty := "No runs yet. Runs appear here as soon as a graph starts."
	switch {
	case loading && (p.list == nil || p.list.Err() == ""):
		empty = "Loading runs…"
	case p.list != nil && p.list.Err() != "":
		empty = "The run list could not be loaded (" + p.list.Err() + "); retrying."
	case status != "" || p.view.Query != "":
		empty = "No run matches this filter."
	}
	// go-app writes a boolean attribute as its value ("false" included),
	// so only the chosen option carries one; and an empty value attribute
	// is dropped, so "every status" is named.
	option := func(value, text string, chosen bool) app.UI {
		o := app.Option().Value(value).Text(text)
		if chosen {
			o = o.Selected(true)
		}
		return o
	}
	statusOpts := []app.UI{option(allStatuses, "All statuses", status == "")}
	for _, s := range viewmodel.Statuses {
		statusOpts = append(statusOpts, option(string(s), strings.ToUpper(string(s[:1]))+string(s[1:]), status == s))
	}
	var compare app.UI
	if len(p.selected) == 2 {
		compare = app.A().ID("compare-link").Class("btn", "btn-small").Href(comparePath(p.selected[0], p.selected[1])).Text("Compare 2 runs")
	} else {
		compare = app.Span().ID("compare-hint").Class("muted", "compare-hint").Text("Pick two runs to compare")
	}
	pageNo, more := 1, false
	if p.list != nil {
		pageNo, more = p.list.PageNumber(), p.list.HasOlder()
	}
	return f.Render(
		app.Div().Class("page-head").Body(
			app.H1().Class("page-title").Body(app.Text("Runs "), app.Span().ID("runs-count").Class("count").
				Title("runs matching the filter").Text(strconv.Itoa(p.total))),
			app.Form().Class("filters").Attr("role", "search").OnSubmit(func(ctx app.Context, e app.Event) { e.PreventDefault() }).Body(
				compare,
				app.Label().For("run-status").Class("sr-only").Text("Status"),
				app.Select().ID("run-status").OnChange(func(ctx app.Context, e app.Event) {
					p.setFilter(ctx, ctx.JSSrc().Get("value").String(), p.view.Query)
				}).Body(statusOpts...),
				app.Label().For("run-search").Class("sr-only").Text("Search runs"),
				app.Input().ID("run-search").Type("search").Placeholder("Search thread id, graph or error…").
					Value(p.view.Query).OnInput(func(ctx app.Context, e app.Event) {
					p.setFilter(ctx, p.view.Status, ctx.JSSrc().Get("value").String())
				}),
			),
		),
		app.If(p.list != nil && p.list.Building(), func() app.UI {
			return app.P().Class("muted", "list-note").Attr("role", "status").Text("The server is still reading its retained history; older runs are being added.")
		}),
		app.Section().ID("runs-panel").Class("panel").Aria("label", "Runs").DataSet("loaded", !loading).DataSet("pending", p.list != nil && p.list.Pending()).DataSet("page", pageNo).
			DataSet("live", p.connected != 0).Body(
			runTable{Rows: p.rows, Now: p.now, Empty: empty, Selected: p.selected, OnSelect: p.pick}.Render(),
			cursorPager{Page: pageNo, Pages: max((p.total+runsPerPage-1)/runsPerPage, pageNo), Total: p.total,
				HasNewer: pageNo > 1, HasOlder: more, OnPage: p.page}.Render(),
		),
		p.seed.Render(),
	)
}

// allStatuses is the status select's value for every status.
const allStatuses = "all"

// cursorPager moves through the catalog's pages, newer and older (the
// catalog pages by cursor: no jumping to page n).
type cursorPager struct {
	Page, Pages, Total int
	HasNewer, HasOlder bool
	// OnPage is called with -1 (newer) or +1 (older).
	OnPage func(app.Context, int)
}

func (g cursorPager) Render() app.UI {
	if !g.HasNewer && !g.HasOlder {
		return nil
	}
	btn := func(label, aria string, dir int, disabled bool) app.UI {
		b := app.Button().Type("button").Class("btn", "btn-small").Aria("label", aria)
		if disabled {
			b = b.Disabled(true) // disabled="false" would disable it in the prerendered page
		}
		return b.DataSet("dir", dir).
			OnClick(func(ctx app.Context, e app.Event) {
				if n, ok := intData(ctx, "dir"); ok {
					g.OnPage(ctx, n)
				}
			}).Text(label)
	}
	return app.Nav().Class("pager").Aria("label", "Pages of runs").Body(
		btn("← Newer", "Newer runs", -1, !g.HasNewer),
		app.Span().ID("pager-pos").Class("muted").Text("Page "+strconv.Itoa(g.Page)+" of "+strconv.Itoa(g.Pages)+" · "+strconv.Itoa(g.Total)+" runs"),
		btn("Older →", "Older runs", 1, !g.HasOlder),
	)
}

// pager moves through pages of a long list held in memory.
type pager struct {
	Page, Pages, Total int
	Noun               string
	OnPage             func(app.Context, int)
}

func (g pager) Render() app.UI {
	if g.Pages <= 1 {
		return nil
	}
	btn := func(label, aria string, to int, disabled bool) app.UI {
		return app.Button().Type("button").Class("btn", "btn-small").Aria("label", aria).Disabled(disabled).
			DataSet("page", to).
			OnClick(func(ctx app.Context, e app.Event) {
				if n, ok := intData(ctx, "page"); ok {
					g.OnPage(ctx, n)
				}
			}).Text(label)
	}
	return app.Nav().Class("pager").Aria("label", "Pages of "+g.Noun).Body(
		btn("← Newer", "Previous page", g.Page-1, g.Page == 0),
		app.Span().Class("muted").Text("Page "+strconv.Itoa(g.Page+1)+" of "+strconv.Itoa(g.Pages)+" · "+strconv.Itoa(g.Total)+" "+g.Noun),
		btn("Older →", "Next page", g.Page+1, g.Page >= g.Pages-1),
	)
}

package ui

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/internal/sample"
	"github.com/dashstream/dashstream/app/viewmodel"
	"github.com/dashstream/dashstream/app/viewroute"
	"github.com/dashstream/dashstream/protocol/pricing"
)

// pricedSource is a storeSource that knows the built-in prices and can
// retry.
type pricedSource struct {
	*storeSource
	prices  *pricing.Table
	retries int
}

func (p *pricedSource) Prices() *pricing.Table { return p.prices }
func (p *pricedSource) RetryNow()              { p.retries++ }

func traceSource() *pricedSource {
	src := newSource()
	sample.Apply(src.store, sample.Trace("run-trace").Msgs)
	b := sample.NewBuilder("run-bare").Start("", `{"n":0}`)
	b.NodeStart("fetch").NodeEnd("fetch", 100).NodeStart("fetch").NodeEnd("fetch", 120).End()
	sample.Apply(src.store, b.Msgs)
	return &pricedSource{storeSource: src, prices: pricing.Builtin()}
}

func openRunFrom(t *testing.T, src Source, url string) *RunPage {
	t.Helper()
	p := &RunPage{src: src}
	p.open(viewroute.Parse(mustURL(t, url)), now)
	return p
}

func TestRunPage_TimelineDrawsOneBarPerExecutionWithCallsNested(t *testing.T) {
	src := traceSource()
	p := openRunFrom(t, src, "/runs/run-trace?tab=timeline")
	page := html(p)
	if n := strings.Count(page, `class="trace-row trace-node`); n != 5 {
		t.Errorf("%d node bars, want 5 (plan, web_search, db_lookup, write twice: one per execution)", n)
	}
	if n := strings.Count(page, `class="trace-row trace-llm trace-depth-1`); n != 3 {
		t.Errorf("%d nested LLM rows, want 3", n)
	}
	if n := strings.Count(page, `class="trace-row trace-tool trace-depth-1`); n != 2 {
		t.Errorf("%d nested tool rows, want 2", n)
	}
	contains(t, "timeline", page, `id="trace"`, "bar-failed", `class="trace-fail"`, ">#2<", "% of the run", "$0.00027",
		`data-key="node:write#2"`, `role="tooltip"`)
	// One tab stop: only the first row (nothing selected) is in the tab order.
	var stops []string
	for _, b := range regexp.MustCompile(`<button[^>]*class="trace-row[^>]*>`).FindAllString(page, -1) {
		if strings.Contains(b, `tabindex="0"`) {
			stops = append(stops, b)
		}
	}
	if len(stops) != 1 || !strings.Contains(stops[0], `id="trace-row-0"`) {
		t.Errorf("tab stops %q", stops)
	}
	// Selecting a row is node= and seq= in the URL; the row shows selected.
	w := viewmodel.BuildWaterfall(src.store.Run("run-trace"), nil, now)
	w2, _ := w.Row("node:write#2")
	p.view.Node, p.view.Seq = w2.Node, w2.Seq
	p.update(now)
	if got := p.view.String(); !strings.Contains(got, "node=write") || !strings.Contains(got, "seq=") {
		t.Errorf("URL after selecting %q", got)
	}
	sel := regexp.MustCompile(`<button[^>]*trace-selected[^>]*>`).FindString(html(p))
	// (Prerendered HTML writes an attribute "true" bare.)
	if !strings.Contains(sel, `data-key="node:write#2"`) || strings.Contains(sel, `aria-pressed="false"`) || !strings.Contains(sel, `tabindex="0"`) {
		t.Errorf("selected row %q", sel)
	}
}

func TestRunPage_ARunWithoutSchemaOpensOnTheTimeline(t *testing.T) {
	src := traceSource()
	page := html(openRunFrom(t, src, "/runs/run-bare"))
	contains(t, "bare run", page, `data-tab="timeline"`, `data-key="node:fetch#2"`)
	// With a schema, the state stays the default; the URL keeps an
	// explicit tab either way.
	contains(t, "schema run", html(openRunFrom(t, src, "/runs/run-trace")), `data-tab="state"`)
	contains(t, "bare run, state asked", html(openRunFrom(t, src, "/runs/run-bare?tab=state")), `data-tab="state"`)
}

func TestRunPage_HeaderSaysTotalsCostAndWhyARunFailed(t *testing.T) {
	src := traceSource()
	p := openRunFrom(t, src, "/runs/run-trace?tab=events")
	page := html(p)
	contains(t, "header", page, `id="run-totals"`, ">LLM calls<", ">3<", ">4,700<", ">$0.00027+<", "excludes 1 call without a price",
		">Tool calls<", ">2<", ">Errors<", "stat-bad")
	f, _ := viewmodel.FailureOf(src.store.Run("run-trace"))
	link := regexp.MustCompile(`<a[^>]*id="failure-link"[^>]*>`).FindString(page)
	want := viewroute.View{Page: viewroute.Run, Thread: "run-trace", Seq: f.Seq, Node: "write", Tab: viewroute.TabEvents}.String()
	if !strings.Contains(link, `href="`+want+`"`) {
		t.Errorf("failure link %q, want href %q", link, want)
	}
	contains(t, "failure line", page, `id="run-failure"`, "Failed in write: ", "rate limited", `role="alert"`)
	if strings.Contains(html(openRunFrom(t, src, "/runs/run-ok")), `id="run-failure"`) {
		t.Error("a completed run has no failure line")
	}
	// Without prices the tokens show and the cost says there is none.
	noPrices := openRunFrom(t, src.storeSource, "/runs/run-trace")
	contains(t, "no prices", html(noPrices), ">4,700<", ">no price<")
}

func TestRunPage_LLMCallsShowUsageTimingAndCost(t *testing.T) {
	page := html(openRunFrom(t, traceSource(), "/runs/run-trace?tab=tokens"))
	contains(t, "llm calls", page, `id="llm-calls"`, "gpt-4o-mini", ">1,000 → 200<", ">1,200<", ">250 ms<", ">500 ms<", ">$0.00027<",
		"done · stop", "llama-3.1-70b-instruct", `title="no price for llama-3.1-70b-instruct"`, "failed · error", "write #2", "Search both.")
}

func TestRunPage_EventsSearchAndPageAreInTheURL(t *testing.T) {
	src := traceSource()
	p := openRunFrom(t, src, "/runs/run-ok?tab=events&q=token_chunk")
	contains(t, "search from the URL", html(p), `value="token_chunk"`, "3 of 37 events")
	long := sample.NewBuilder("run-long").Start(sample.Schema, `{}`)
	for range eventsPerPage {
		long.Metric("m", 0.5, "")
	}
	sample.Apply(src.store, long.End().Msgs)
	p = openRunFrom(t, src, "/runs/run-long?tab=events&page=2")
	contains(t, "second page from the URL", html(p), "Page 2 of 2")
	if got := p.view.String(); got != "/runs/run-long?tab=events&page=2" {
		t.Errorf("URL %q", got)
	}
	contains(t, "copy link", html(p), `id="copy-link"`, "Copy link")
}

func TestRunPage_GraphFoldsAndRemembersIt(t *testing.T) {
	src := traceSource()
	defer setGraphFolded(false)
	p := openRunFrom(t, src, "/runs/run-trace")
	contains(t, "open graph", html(p), `data-folded="false"`, `id="graph"`, "Hide graph", `aria-expanded`)
	setGraphFolded(true)
	page := html(openRunFrom(t, src, "/runs/run-trace"))
	contains(t, "folded graph, another page", page, `data-folded`, `aria-expanded="false"`, "Show graph")
	if strings.Contains(page, `id="graph"`) {
		t.Error("a folded graph is not drawn")
	}
}

func TestGraphView_LongNamesFitTheirBoxes(t *testing.T) {
	const schema = `{"name":"support_triage","entry_point":"classify_ticket","nodes":[{"name":"classify_ticket","node_type":"router"},
{"name":"escalate_to_human","node_type":"human_in_loop"},{"name":"a_node_name_far_too_long_for_any_box_at_all"}],
"edges":[{"from":"classify_ticket","to":"escalate_to_human","edge_type":"conditional","label":"angry customer"}]}`
	src := newSource()
	sample.Apply(src.store, sample.NewBuilder("long").Start(schema, `{}`).Msgs)
	p := openRunFrom(t, src, "/runs/long")
	page := html(p)
	contains(t, "long names", page, ">escalate_to_human<", ">classify_ticket<", "angry customer", "<title>a_node_name_far_too_long_for_any_box_at_all (pending)")
	for _, b := range p.layout.Boxes {
		fits := fitChars(b.W, nameCharW)
		if len([]rune(b.ID)) <= 30 && fits < len([]rune(b.ID)) {
			t.Errorf("box of %s is %.0f wide, fits %d characters", b.ID, b.W, fits)
		}
	}
	if strings.Contains(page, ">a_node_name_far_too_long_for_any_box_at_all<") {
		t.Error("a name wider than the widest box is cut (its tooltip has it whole)")
	}
}

func TestComparePage_ShowsBothRunsNodeTimesAndTheFinalDiff(t *testing.T) {
	src := traceSource()
	p := &ComparePage{src: src}
	p.open(viewroute.Parse(mustURL(t, "/compare?a=run-trace&b=run-ok")), now)
	page := html(p)
	contains(t, "compare", page, `id="compare-A"`, `id="compare-B"`, `href="/runs/run-trace"`, `href="/runs/run-ok"`,
		"Compare runs of research-assistant", `id="compare-figures"`, `id="compare-nodes"`, `data-node="plan"`, `data-node="write"`,
		"×2", `id="compare-diff"`, "diff-", `href="/compare?a=run-ok&b=run-trace"`)
	if strings.Contains(page, `data-found="false"`) {
		t.Error("both runs are in the store")
	}
	if len(src.followed) != 2 || src.followed[0] != "run-trace" || src.followed[1] != "run-ok" {
		t.Errorf("followed %v, want both runs", src.followed)
	}
	p.open(viewroute.Parse(mustURL(t, "/compare?a=run-trace&b=nobody")), now)
	contains(t, "one run unknown", html(p), `id="compare-B"`, `data-found="false"`, "Loading this run")
	p.open(viewroute.Parse(mustURL(t, "/compare")), now)
	contains(t, "nothing to compare", html(p), "Compare two runs", `href="/runs"`)
}

func TestRunPage_LinksToTheComparisonWithThePreviousRunOfItsGraph(t *testing.T) {
	src := newSource()
	// run-ok and run-fail are both research-assistant runs; sample runs
	// start at the same instant, so add a later one.
	sample.Apply(src.store, sample.Shift(sample.Trace("run-later").Msgs, time.Hour))
	page := html(openRunFrom(t, src, "/runs/run-later"))
	link := regexp.MustCompile(`<a[^>]*id="compare-previous"[^>]*>`).FindString(page)
	if !strings.Contains(link, `href="/compare?a=run-`) || !strings.Contains(link, `&b=run-later"`) {
		t.Errorf("compare link %q", link)
	}
	contains(t, "the first run has none", html(openRunFrom(t, src, "/runs/run-ok")), "No earlier run of this graph")
}

func TestNotFoundPage_IsTheAppsOwnPage(t *testing.T) {
	e := app.NewTestEngine()
	p := &NotFoundPage{src: newSource(), path: "/nowhere"}
	if err := e.Load(p); err != nil {
		t.Fatal(err)
	}
	e.ConsumeAll()
	contains(t, "not found", app.HTMLString(p), `id="not-found-page"`, "Page not found", `href="/runs"`, `id="status-bar"`, `id="conn-state"`)
}

func TestStatusBar_RetryNowReachesTheSource(t *testing.T) {
	src := traceSource()
	Routes(src)
	defer Routes(nil)
	if retryNow == nil {
		t.Fatal("a Source that can retry gets a retry button")
	}
	retryNow()
	if src.retries != 1 {
		t.Errorf("retries %d", src.retries)
	}
}

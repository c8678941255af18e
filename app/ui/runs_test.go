package ui

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/catalog"
	"github.com/dashstream/dashstream/app/internal/sample"
	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/viewroute"
)

// loadRuns opens /runs at url and answers its catalog request at once (the
// browser does it asynchronously).
func loadRuns(t *testing.T, src *storeSource, url string) *RunsPage {
	t.Helper()
	p := &RunsPage{src: src, view: viewroute.Parse(mustURL(t, url))}
	p.view = p.canonical()
	p.apply()
	answer(t, p)
	return p
}

func answer(t *testing.T, p *RunsPage) {
	t.Helper()
	if q, gen, due := p.list.Request(); due {
		page, err := p.src.CatalogRuns(context.Background(), q)
		p.list.Loaded(gen, page, err)
	}
	p.update(now)
}

// Attribute order varies: match the row by its data-thread alone.
var rowRE = regexp.MustCompile(`<tr[^>]*data-thread="([^"]+)"`)

// badge returns the count badge's text.
func badgeText(page string) string {
	m := regexp.MustCompile(`<span[^>]*id="runs-count"[^>]*>([^<]*)<`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

func rowThreads(page string) []string {
	var out []string
	for _, m := range rowRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestRunsPage_ListsTheCatalogsHistoryWithTheLiveRunsOverIt(t *testing.T) {
	src := newSource()
	// Runs the server retains but this tab never saw.
	src.retain(sample.Research("hist-old")...)
	src.retain(sample.Failing("hist-failed")...)
	page := html(loadRuns(t, src, "/runs"))
	got := rowThreads(page)
	for _, want := range []string{"hist-old", "hist-failed", "run-ok", "run-fail", "run-bad", "run-live"} {
		if !strings.Contains(strings.Join(got, ","), want) {
			t.Errorf("%s is not listed: %v", want, got)
		}
	}
	if b := badgeText(page); b != "6" {
		t.Errorf("badge %q, want 6", b)
	}
	contains(t, "runs", page, "badge-corrupted", "hash mismatch",
		`href="/runs/hist-old"`, "search API timed out")
	// A history run's figures come from the catalog: the same run as
	// run-ok, so the same cells but its id.
	cells := func(thread string) string {
		m := regexp.MustCompile(`(?s)data-thread="` + thread + `"[^>]*>(.*?)</tr>`).FindStringSubmatch(page)
		if m == nil {
			return ""
		}
		return strings.Join(regexp.MustCompile(`<td class="num[^"]*">[^<]*</td>`).FindAllString(m[1], -1), "")
	}
	if a, b := cells("hist-old"), cells("run-ok"); a == "" || a != b {
		t.Errorf("history run cells %q, live twin %q", a, b)
	}
}

// Issue 11: "All statuses" after "failed" emptied the list. The
// prerendered options had no value (so the browser sent their text) and
// every one carried selected="false" (a present boolean attribute selects).
func TestRunsPage_StatusOptionsHaveValuesAndOnlyTheChosenOneIsSelected(t *testing.T) {
	src := newSource()
	for _, c := range []struct{ url, chosen string }{{"/runs", "all"}, {"/runs?status=failed", "failed"}} {
		page := html(loadRuns(t, src, c.url))
		opts := regexp.MustCompile(`<option[^>]*>`).FindAllString(page, -1)
		if len(opts) != 7 {
			t.Fatalf("%s: %d options: %v", c.url, len(opts), opts)
		}
		selected := 0
		for _, o := range opts {
			if !strings.Contains(o, `value="`) || strings.Contains(o, `value=""`) {
				t.Errorf("%s: option without a value: %s", c.url, o)
			}
			if strings.Contains(o, "selected") {
				selected++
				if !strings.Contains(o, `value="`+c.chosen+`"`) || strings.Contains(o, `selected="false"`) {
					t.Errorf("%s: %s is selected, want only %q", c.url, o, c.chosen)
				}
			}
		}
		if selected != 1 {
			t.Errorf("%s: %d options selected, want 1", c.url, selected)
		}
	}
}

func TestRunsPage_AnUnknownStatusInABookmarkShowsEveryRun(t *testing.T) {
	src := newSource()
	for _, url := range []string{"/runs?status=All+statuses", "/runs?status=all", "/runs?status=nonsense"} {
		p := loadRuns(t, src, url)
		if p.view.String() != "/runs" {
			t.Errorf("%s canonicalises to %s, want /runs", url, p.view.String())
		}
		page := html(p)
		if n := len(rowThreads(page)); n != 4 || strings.Contains(page, "No run matches") {
			t.Errorf("%s lists %d runs, want all 4", url, n)
		}
	}
}

func TestRunsPage_CountBadgeCountsTheRunsTheFilterKeeps(t *testing.T) {
	src := newSource()
	cases := map[string]string{"/runs": "4", "/runs?status=failed": "1", "/runs?q=run-b": "1", "/runs?status=corrupted": "1", "/runs?status=completed&q=bad": "0"}
	for url, want := range cases {
		if b := badgeText(html(loadRuns(t, src, url))); b != want {
			t.Errorf("%s: badge %q, want %s", url, b, want)
		}
	}
}

func TestRunsPage_TwoPickedRunsLinkToTheirComparison(t *testing.T) {
	p := loadRuns(t, newSource(), "/runs")
	contains(t, "nothing picked", html(p), `id="compare-hint"`)
	p.pick(app.Context{}, "run-ok", true)
	p.pick(app.Context{}, "run-fail", true)
	p.pick(app.Context{}, "run-live", true) // replaces the earliest pick
	page := html(p)
	contains(t, "two picked", page, `id="compare-link"`, `href="/compare?a=run-fail&b=run-live"`)
	if n := strings.Count(page, `checked`); n != 2 || strings.Contains(page, `checked="false"`) {
		t.Errorf("%d rows checked, want 2", n)
	}
	p.pick(app.Context{}, "run-fail", false)
	contains(t, "one left", html(p), `id="compare-hint"`)
}

// loadOverview answers the overview's catalog requests at once.
func loadOverview(t *testing.T, p *OverviewPage) {
	t.Helper()
	p.lists()
	for _, l := range []*catalog.List{p.inProgress, p.failures} {
		if q, gen, due := l.Request(); due {
			page, err := p.src.CatalogRuns(context.Background(), q)
			l.Loaded(gen, page, err)
		}
	}
	g, err := p.src.CatalogGraphs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.graphs = g
}

func TestSeed_ThePrerenderedAnswerReachesTheBrowserOnce(t *testing.T) {
	page := app.HTMLString(renderSeed("/api/runs?limit=50", map[string]string{"q": `a "quoted" <value>`}))
	m := regexp.MustCompile(`data-path="([^"]*)"[^>]*data-body="([^"]*)"|data-body="([^"]*)"[^>]*data-path="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no seed element in %s", page)
	}
	path, body := m[1]+m[4], m[2]+m[3]
	putSeed(path, body)
	b, ok := takeSeed("/api/runs?limit=50")
	if !ok || string(b) != `{"q":"a \"quoted\" \u003cvalue\u003e"}` {
		t.Errorf("seed %q, %v", b, ok)
	}
	if _, ok := takeSeed("/api/runs?limit=50"); ok {
		t.Error("a seed was used twice")
	}
}

func TestRunPage_SaysWhileItsHistoryLoadsAndWhatAnIncompleteRunLacks(t *testing.T) {
	src := newSource()
	src.history["run-ok"] = session.HistoryStatus{Followed: true, Loading: true, Attempts: 2, Err: "the server sent nothing of this run; asking again"}
	contains(t, "loading", html(openRun(t, src, "/runs/run-ok")), `data-state="loading"`, "Loading history", "partial until it is done", "asking again")
	src.history["run-ok"] = session.HistoryStatus{Followed: true, Complete: true, MissingBefore: 7}
	page := html(openRun(t, src, "/runs/run-ok"))
	contains(t, "incomplete", page, `data-state="incomplete"`, "Incomplete history", "Sequences 1–7 of this run are no longer retained", "starts at sequence 8")
	if strings.Contains(page, "Loading history") {
		t.Error("a complete run says it is loading")
	}
	src.history["run-ok"] = session.HistoryStatus{Followed: true, Complete: true}
	page = html(openRun(t, src, "/runs/run-ok"))
	if !strings.Contains(page, `data-state="complete"`) || strings.Contains(page, "Loading history") {
		t.Error("a complete run is not said to be complete")
	}
	// A run not in the store yet whose history is loading is "Loading
	// run", not "not found", however long it takes.
	src.history["nobody"] = session.HistoryStatus{Followed: true, Loading: true}
	p := openRun(t, src, "/runs/nobody")
	p.update(now.Add(time.Hour))
	contains(t, "still loading", html(p), "Loading run")
}

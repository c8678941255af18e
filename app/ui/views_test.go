package ui

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/catalog"
	"github.com/dashstream/dashstream/app/internal/sample"
	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/app/viewroute"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/runsummary"
	servercatalog "github.com/dashstream/dashstream/server/catalog"
)

// storeSource serves a real run store the way the session does, and the
// gateway's real run catalog over the same runs (plus any history added
// with retain); only the connection is absent.
type storeSource struct {
	store    *runstate.Store
	health   session.Health
	followed []string
	history  map[string]session.HistoryStatus
	cat      *servercatalog.Catalog
	offset   int64
}

func newSource() *storeSource {
	s := &storeSource{store: sample.Store(), health: session.Health{State: session.Connected},
		history: map[string]session.HistoryStatus{}, cat: servercatalog.New(servercatalog.Config{})}
	for _, th := range []struct {
		id   string
		msgs func(string) []*pb.DashStreamMessage
	}{{"run-ok", sample.Research}, {"run-fail", sample.Failing}, {"run-bad", sample.Corrupted}, {"run-live", sample.Running}} {
		s.retain(th.msgs(th.id)...)
	}
	return s
}

// retain adds messages to the server's catalog only (history the tab has
// not seen).
func (s *storeSource) retain(msgs ...*pb.DashStreamMessage) {
	for _, m := range msgs {
		s.cat.Observe(0, s.offset, m)
		s.offset++
	}
}

func (s *storeSource) Read(fn func(*runstate.Store))    { fn(s.store) }
func (s *storeSource) Health() session.Health           { return s.health }
func (s *storeSource) Subscribe(func()) (cancel func()) { return func() {} }
func (s *storeSource) Follow(t ...string)               { s.followed = append(s.followed, t...) }
func (s *storeSource) Unfollow()                        { s.followed = append(s.followed, "") }
func (s *storeSource) History(t string) session.HistoryStatus {
	return s.history[t]
}

func (s *storeSource) CatalogRuns(_ context.Context, q catalog.Query) (runsummary.Page, error) {
	u, _ := url.Parse(q.Path())
	sq, err := servercatalog.ParseQuery(u.Query())
	if err != nil {
		return runsummary.Page{}, err
	}
	return s.cat.Query(sq), nil
}

func (s *storeSource) CatalogRun(_ context.Context, t string) (runsummary.Summary, bool, error) {
	sum, ok := s.cat.Get(t)
	return sum, ok, nil
}

func (s *storeSource) CatalogGraphs(context.Context) (runsummary.Graphs, error) {
	return s.cat.Graphs(0, 0), nil
}

var now = sample.T0.Add(time.Hour)

func html(c interface{ Render() app.UI }) string { return app.HTMLString(c.Render()) }

func openRun(t *testing.T, src *storeSource, url string) *RunPage {
	t.Helper()
	u := viewroute.View{}
	if url != "" {
		u = viewroute.Parse(mustURL(t, url))
	}
	p := &RunPage{src: src}
	p.open(u, now)
	return p
}

func contains(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func TestRunsPage_ListsEveryRunAsARealLinkAndFilters(t *testing.T) {
	src := newSource()
	cases := []struct {
		url     string
		threads []string
	}{
		{"/runs", []string{"run-ok", "run-fail", "run-bad", "run-live"}},
		{"/runs?status=failed", []string{"run-fail"}},
		{"/runs?q=LIVE", []string{"run-live"}},
		{"/runs?status=completed&q=bad", nil},
	}
	var order []string
	for _, r := range src.store.Runs() {
		order = append(order, r.ThreadID())
	}
	cases[0].threads = order
	linkRE := regexp.MustCompile(`<a[^>]*href="/runs/([^"]+)"`)
	for _, c := range cases {
		page := html(loadRuns(t, src, c.url))
		var got []string
		for _, m := range linkRE.FindAllStringSubmatch(page, -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, ",") != strings.Join(c.threads, ",") {
			t.Errorf("%s lists %v, want %v", c.url, got, c.threads)
		}
	}
	contains(t, "runs page", html(loadRuns(t, src, "/runs")), "research-assistant", `badge-corrupted`, `badge-failed`, `data-status="running"`, `id="conn-state"`, `aria-live="polite"`)
}

func TestRunPage_OpenedByURLShowsItsThreadAndGraphAndFollowsIt(t *testing.T) {
	src := newSource()
	p := openRun(t, src, "/runs/run-ok")
	page := html(p)
	contains(t, "run page", page, `id="run-thread"`, ">run-ok<", `id="graph"`, "<svg",
		"edge-conditional", "edge-parallel", "needs web", "revise", `data-node="merge"`, "node-completed", "badge-completed",
		`role="tablist"`, `id="seq-slider"`, "Event 37 of 37", ">Latest<")
	if strings.Contains(page, "pill-live") {
		t.Error("a completed run's slider says Live")
	}
	contains(t, "a running run", html(openRun(t, newSource(), "/runs/run-live")), "pill-live", ">Live<", "(live)")
	if n := strings.Count(page, `class="node `); n != 7 {
		t.Errorf("%d nodes drawn, want 7", n)
	}
	if len(src.followed) != 1 || src.followed[0] != "run-ok" {
		t.Errorf("followed %v, want [run-ok]", src.followed)
	}
}

func TestRunPage_ShowsExactlyTheStoreStateAtTheBookmarkedSequence(t *testing.T) {
	src := newSource()
	cases := []struct {
		url      string
		position string
		present  []string
		absent   []string
	}{
		{"/runs/run-ok?seq=3", "Event 3 of 37", []string{`data-path="/plan"`, "State after sequence 3"}, []string{`data-path="/strategy"`}},
		{"/runs/run-ok?seq=13", "Event 13 of 37", []string{`data-path="/web"`, `data-path="/web/hits"`}, []string{`data-path="/db"`}},
		{"/runs/run-ok", "Event 37 of 37", []string{`data-path="/verdict"`, "(final)", ">1.0<", ">12345678901234567890<"}, []string{"(live)"}},
	}
	for _, c := range cases {
		p := openRun(t, src, c.url)
		page := html(p)
		contains(t, c.url, page, c.position)
		contains(t, c.url, page, c.present...)
		for _, a := range c.absent {
			if strings.Contains(page, a) {
				t.Errorf("%s shows %q, which comes later", c.url, a)
			}
		}
	}
	// The tree is the store's reconstruction: every member of StateAt(13)
	// has a row, and nothing else at the top level.
	st, err := src.store.StateAt("run-ok", 13)
	if err != nil {
		t.Fatal(err)
	}
	page := html(openRun(t, src, "/runs/run-ok?seq=13"))
	top := regexp.MustCompile(`data-path="/([^/"]+)"`).FindAllStringSubmatch(page, -1)
	seen := map[string]bool{}
	for _, m := range top {
		seen[m[1]] = true
	}
	if len(seen) != st.Len() {
		t.Errorf("tree shows %d top-level members, StateAt(13) has %d", len(seen), st.Len())
	}
	for i := range st.Len() {
		if k, _ := st.Member(i); !seen[k] {
			t.Errorf("member %q of StateAt(13) not shown", k)
		}
	}
}

func TestRunPage_EveryChangeUpdatesTheBookmark(t *testing.T) {
	p := openRun(t, newSource(), "/runs/run-ok")
	p.setIndex(2)
	if got := p.view.String(); got != "/runs/run-ok?seq=3" {
		t.Errorf("after moving the slider the URL is %q", got)
	}
	if p.setIndex(99) {
		t.Error("a position past the end must be refused")
	}
	p.setIndex(3)
	p.view.Node = "plan"
	p.view.Tab = viewroute.TabDiff
	if got := p.view.String(); got != "/runs/run-ok?seq=4&node=plan&tab=diff" {
		t.Errorf("URL %q", got)
	}
	p.update(now)
	page := html(p)
	contains(t, "paused run with a node", page, `id="node-details"`, "State after node", "pill-paused", "the latest at or before sequence 4")
	// Prerendered HTML writes aria-selected="true" as a bare attribute.
	if n := strings.Count(page, `aria-selected="false"`); n != len(viewroute.Tabs)-1 {
		t.Errorf("%d unselected tabs, want %d", n, len(viewroute.Tabs)-1)
	}
	if !strings.Contains(page, `data-tab="diff"`) {
		t.Error("the diff tab is not the panel shown")
	}
}

func TestRunPage_TabsShowDiffEventsTokensToolsMetrics(t *testing.T) {
	src := newSource()
	cases := []struct {
		url   string
		wants []string
	}{
		{"/runs/run-ok?seq=31&tab=diff", []string{"diff-replace", "/draft", "Sunlight scatters", "The sky is blue because…"}},
		{"/runs/run-ok?seq=4&tab=diff", []string{"Change made by sequence 3 (the latest at or before sequence 4)", "diff-add", "/plan"}},
		{"/runs/run-ok?seq=1&tab=diff", []string{"Change made by sequence 1", "(whole state)", "12345678901234567890"}},
		{"/runs/run-ok?tab=events", []string{`id="events"`, "graph_end", "tool_execution", "37 of 37 events"}},
		{"/runs/run-ok?tab=tokens", []string{"req-1", "The sky is blue because…", "120 in · 3 out · 123 total"}},
		{"/runs/run-ok?tab=tools", []string{"web_search", "requested → started → retrying → completed", "1 retry", "rayleigh scattering"}},
		{"/runs/run-ok?tab=metrics", []string{"quality", "0.92"}},
		{"/runs/run-live?tab=tokens", []string{"No LLM calls"}},
	}
	for _, c := range cases {
		contains(t, c.url, html(openRun(t, src, c.url)), c.wants...)
	}
	p := openRun(t, src, "/runs/run-ok?tab=events")
	p.view.Query = "token_chunk"
	p.update(now)
	contains(t, "searched events", html(p), "3 of 37 events")
}

func TestRunPage_SaysPlainlyWhenARunIsNotTrusted(t *testing.T) {
	src := newSource()
	page := html(openRun(t, src, "/runs/run-bad"))
	contains(t, "corrupted run", page, `id="run-integrity"`, "Corrupted state", "hash mismatch at sequence 8", "replay this run",
		"not trusted", "node-outside", "not in schema")
	src.health.ReplayingThreads = []string{"run-bad"}
	contains(t, "corrupted run being replayed", html(openRun(t, src, "/runs/run-bad")), "Replaying this run from the server now")
	contains(t, "failed run", html(openRun(t, src, "/runs/run-fail")), "node-failed", "badge-failed")
}

func TestRunPage_UnknownRunLoadsThenSaysNotFound(t *testing.T) {
	src := newSource()
	p := openRun(t, src, "/runs/nobody")
	contains(t, "just opened", html(p), "Loading run", `role="status"`, ">nobody<")
	p.update(now.Add(loadingGrace + time.Second))
	page := html(p)
	contains(t, "after the grace", page, "Run not found", `href="/runs"`, "Back to all runs")

	src.health.ReplayingThreads = []string{"nobody"}
	p.update(now.Add(time.Minute))
	contains(t, "while its thread replays", html(p), "Loading run")
	src.health = session.Health{State: session.Connecting}
	p.update(now.Add(time.Minute))
	contains(t, "while connecting", html(p), "Loading run")
}

func TestOverviewPage_ShowsHealthRunsAndErrors(t *testing.T) {
	src := newSource()
	src.health.Applied, src.health.HashesVerified = 1200, 900
	src.health.SchemaMismatch = "server speaks schema v2, this dashboard v1"
	p := &OverviewPage{src: src}
	src.retain(sample.Failing("hist-failed")...) // retained by the server, never seen by the tab
	loadOverview(t, p)
	p.update(now)
	src.health.Applied = 2200
	p.update(now.Add(time.Second))
	src.health.Applied = 3200
	p.update(now.Add(2 * time.Second))
	page := html(p)
	contains(t, "overview", page, "<h1", "Overview", "Live", "1,000/s", "5 runs", "2 running", "900 hashes verified", "1 untrusted",
		"search API timed out", `href="/runs/run-fail?seq=`, `href="/runs/hist-failed?seq=`, "Schema version mismatch", `role="alert"`,
		"Runs in progress", `href="/runs/run-live"`, `<polyline`, "Failure rate", "66.7%", `data-graph="research-assistant"`, "p50", "p95")
}

func TestPages_MountInTheEngine(t *testing.T) {
	src := newSource()
	for _, c := range []app.Composer{&OverviewPage{src: src}, &RunsPage{src: src}, &RunPage{src: src, view: viewroute.View{Page: viewroute.Run, Thread: "run-ok"}}} {
		e := app.NewTestEngine()
		if err := e.Load(c); err != nil {
			t.Fatalf("load %T: %v", c, err)
		}
		e.ConsumeAll()
		if !strings.Contains(app.HTMLString(c), `id="conn-state"`) {
			t.Errorf("%T has no header", c)
		}
		c.(app.Dismounter).OnDismount()
	}
}

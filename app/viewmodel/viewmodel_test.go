package viewmodel

import (
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/app/internal/sample"
	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/protocol/runstate"
)

var now = sample.T0.Add(time.Hour)

func TestRunRows_ShowEveryRunWithItsDisplayedStatus(t *testing.T) {
	s := sample.Store()
	rows := RunRows(s, now)
	got := map[string]RunRow{}
	for _, r := range rows {
		got[r.Thread] = r
	}
	cases := []struct {
		thread string
		status Status
		live   bool
		reason string
		nodes  int
	}{
		{"run-ok", StatusCompleted, false, "", 7},
		{"run-fail", StatusFailed, false, "search API timed out", 7},
		{"run-bad", StatusCorrupted, true, "hash mismatch", 8},
		{"run-live", StatusRunning, true, "", 7},
	}
	for _, c := range cases {
		r, ok := got[c.thread]
		if !ok {
			t.Fatalf("no row for %s", c.thread)
		}
		if r.Status != c.status || r.Live != c.live || !strings.Contains(r.Reason, c.reason) || r.Nodes != c.nodes {
			t.Errorf("%s: %+v, want status %s live %v reason ~%q nodes %d", c.thread, r, c.status, c.live, c.reason, c.nodes)
		}
		if r.Graph != "research-assistant" {
			t.Errorf("%s: graph %q", c.thread, r.Graph)
		}
	}
	if d := got["run-ok"].Duration; d != 36*250*time.Millisecond {
		t.Errorf("completed run lasted %v by its own clock, want 9s", d)
	}
}

func TestFilterRuns_ByStatusAndText(t *testing.T) {
	rows := RunRows(sample.Store(), now)
	cases := []struct {
		status Status
		q      string
		want   int
	}{
		{"", "", 4},
		{StatusFailed, "", 1},
		{"", "RUN-B", 1},
		{"", "research", 4},
		{StatusCompleted, "fail", 0},
	}
	for _, c := range cases {
		if got := len(FilterRuns(rows, c.status, c.q)); got != c.want {
			t.Errorf("FilterRuns(%q, %q) kept %d, want %d", c.status, c.q, got, c.want)
		}
	}
}

func TestPaginate_ClampsThePage(t *testing.T) {
	xs := []int{1, 2, 3, 4, 5}
	cases := []struct{ p, n, wantLen, wantP, wantPages int }{
		{0, 2, 2, 0, 3}, {2, 2, 1, 2, 3}, {9, 2, 1, 2, 3}, {-1, 10, 5, 0, 1},
	}
	for _, c := range cases {
		got, p, pages := Paginate(xs, c.p, c.n)
		if len(got) != c.wantLen || p != c.wantP || pages != c.wantPages {
			t.Errorf("Paginate(p=%d,n=%d) = %v,%d,%d", c.p, c.n, got, p, pages)
		}
	}
	if got, _, pages := Paginate([]int(nil), 0, 10); len(got) != 0 || pages != 1 {
		t.Error("an empty list is one empty page")
	}
}

func TestBuildGraph_FansOutConditionalsAndDrawsNodesOutsideTheSchema(t *testing.T) {
	s := sample.Store()
	ok := s.Run("run-ok")
	g := BuildGraph(ok, ok.NodeStates())
	if !g.HasSchema || g.Name != "research-assistant" || g.Entry != "plan" || len(g.Nodes) != 7 {
		t.Fatalf("graph %+v", g)
	}
	kinds := map[[2]string]GraphEdge{}
	for _, e := range g.Edges {
		kinds[[2]string{e.From, e.To}] = e
	}
	cases := []struct {
		from, to string
		kind     EdgeKind
		label    string
		taken    bool
	}{
		{"plan", "route", EdgeDirect, "", true},
		{"route", "web_search", EdgeConditional, "needs web", true},
		// "needs web" labels the edge to web_search: a fanned-out target
		// gets no label of another branch's.
		{"route", "db_lookup", EdgeConditional, "", true},
		{"web_search", "merge", EdgeParallel, "", true},
		{"review", "write", EdgeConditional, "revise", false},
	}
	for _, c := range cases {
		e, found := kinds[[2]string{c.from, c.to}]
		if !found || e.Kind != c.kind || e.Label != c.label || e.Taken != c.taken {
			t.Errorf("edge %s→%s = %+v (found %v), want %s %q taken %v", c.from, c.to, e, found, c.kind, c.label, c.taken)
		}
	}
	for _, n := range g.Nodes {
		if n.Status != NodeCompleted {
			t.Errorf("node %s is %s in a completed run", n.ID, n.Status)
		}
	}
	if w, _ := g.Node("write"); w.Executions != 2 || w.DurationUs != 1_800_000 {
		t.Errorf("write ran twice, latest 1.8 s: %+v", w)
	}

	bad := s.Run("run-bad")
	bg := BuildGraph(bad, bad.NodeStates())
	rogue, found := bg.Node("rogue_step")
	if !found || rogue.InSchema {
		t.Errorf("a node the schema lacks must be drawn and marked: %+v %v", rogue, found)
	}
	if p, _ := bg.Node("merge"); p.Status != NodePending {
		t.Errorf("an unstarted node is pending, got %s", p.Status)
	}

	fail := s.Run("run-fail")
	fg := BuildGraph(fail, fail.NodeStates())
	if ws, _ := fg.Node("web_search"); ws.Status != NodeFailed || !strings.Contains(ws.Error, "timed out") {
		t.Errorf("failed node: %+v", ws)
	}
}

func TestBuildGraph_AtASequenceShowsThatMoment(t *testing.T) {
	r := sample.Store().Run("run-ok")
	g := BuildGraph(r, r.NodeStatesAt(5)) // route just started
	want := map[string]NodeStatus{"plan": NodeCompleted, "route": NodeActive, "write": NodePending}
	for id, st := range want {
		if n, _ := g.Node(id); n.Status != st {
			t.Errorf("at seq 5 %s is %s, want %s", id, n.Status, st)
		}
	}
}

func TestBuildTimeline_MarksLifecycleAndSeeksBySequence(t *testing.T) {
	r := sample.Store().Run("run-ok")
	tl := BuildTimeline(r)
	if tl.Len() != 37 || !tl.CanSeek || tl.SeekLast != 37 {
		t.Fatalf("timeline len %d seek %v..%v %v", tl.Len(), tl.SeekFirst, tl.SeekLast, tl.CanSeek)
	}
	count := map[MarkerKind]int{}
	for _, m := range tl.Markers {
		count[m.Kind]++
	}
	if count[MarkRunStart] != 1 || count[MarkRunEnd] != 1 || count[MarkNodeStart] != 9 || count[MarkNodeEnd] != 9 {
		t.Errorf("markers %v", count)
	}
	cases := []struct {
		seq  uint64
		want int
	}{{0, 36}, {1, 0}, {3, 2}, {37, 36}, {99, 36}}
	for _, c := range cases {
		if got := tl.IndexOf(c.seq); got != c.want {
			t.Errorf("IndexOf(%d) = %d, want %d", c.seq, got, c.want)
		}
	}
	if e := tl.Elapsed(4); e != time.Second {
		t.Errorf("elapsed at index 4 = %v, want 1s", e)
	}
	fail := BuildTimeline(sample.Store().Run("run-fail"))
	hasErr := false
	for _, m := range fail.Markers {
		hasErr = hasErr || m.Kind == MarkNodeError
	}
	if !hasErr {
		t.Error("a node error must be marked")
	}
}

func TestTreeRows_ShowNumbersAsTheirLiteralAndRespectExpansion(t *testing.T) {
	r := sample.Store().Run("run-ok")
	st, seq := r.State()
	rows := TreeRows(st, TreeOptions{Changed: ChangedAt(r, 34)})
	byPath := map[string]TreeRow{}
	for _, row := range rows {
		byPath[row.Path] = row
	}
	if seq != 34 {
		t.Fatalf("state at %d", seq)
	}
	cases := []struct {
		path, preview, kind string
		changed             bool
	}{
		{"", "11 keys", "object", true},
		{"/ratio", "1.0", "number", false},
		{"/big", "12345678901234567890", "number", false},
		{"/question", `"Why is the sky blue?"`, "string", false},
		{"/verdict", `"pass"`, "string", true},
		{"/web", "2 keys", "object", false},
		{"/web/hits", "3", "number", false},
		{"/notes", "0 items", "array", false},
		{"/plan/1", `"write"`, "string", false},
	}
	for _, c := range cases {
		row, ok := byPath[c.path]
		if !ok || row.Preview != c.preview || row.Kind != c.kind || row.Changed != c.changed {
			t.Errorf("row %q = %+v (shown %v), want %q %s changed %v", c.path, row, ok, c.preview, c.kind, c.changed)
		}
	}
	collapsed := TreeRows(st, TreeOptions{Open: func(p string, d int) bool { return p == "" }})
	if len(collapsed) != 12 {
		t.Errorf("root open only: %d rows, want 12", len(collapsed))
	}
	limited := TreeRows(st, TreeOptions{ChildLimit: 3})
	last := limited[len(limited)-1]
	if last.Kind != "more" || last.More != 8 {
		t.Errorf("child limit: last row %+v", last)
	}
	if TreeRows(nil, TreeOptions{}) != nil {
		t.Error("no state, no rows")
	}
}

func TestDiffRows_ShowThePatchOfTheSelectedChange(t *testing.T) {
	r := sample.Store().Run("run-ok")
	before, _ := r.StateAt(30)
	after, _ := r.StateAt(31) // write's second draft replaces the first
	rows, total := DiffRows(before, after, 50, 200)
	if total != 1 || len(rows) != 1 {
		t.Fatalf("rows %+v total %d", rows, total)
	}
	want := DiffRow{Op: "replace", Path: "/draft", Value: `"Sunlight scatters off air molecules."`, Old: `"The sky is blue because…"`}
	if rows[0] != want {
		t.Errorf("diff %+v, want %+v", rows[0], want)
	}
	b2, _ := r.StateAt(12)
	a2, _ := r.StateAt(13)
	rows, _ = DiffRows(b2, a2, 50, 200)
	if len(rows) != 1 || rows[0].Op != "add" || rows[0].Path != "/web" || rows[0].Value != `{"hits":3,"top":"Rayleigh scattering"}` {
		t.Errorf("add diff %+v", rows)
	}
	rows, total = DiffRows(nil, a2, 50, 20)
	if total != 1 || rows[0].Op != "add" || rows[0].Path != "" || !strings.HasSuffix(rows[0].Value, "…") {
		t.Errorf("state created: %+v", rows)
	}
}

func TestEventRows_AreSearchable(t *testing.T) {
	r := sample.Store().Run("run-ok")
	rows := EventRows(r)
	if len(rows) != 37 || rows[0].Name != "graph_start" || rows[36].Name != "graph_end" {
		t.Fatalf("%d rows", len(rows))
	}
	cases := []struct {
		q    string
		want int
	}{{"", 37}, {"TOOL_EXEC", 4}, {"web_search", 7}, {"verified", 9}, {"gpt-sample", 3}, {"nothing-like-this", 0}}
	for _, c := range cases {
		if got := len(FilterEvents(rows, c.q)); got != c.want {
			t.Errorf("FilterEvents(%q) = %d rows, want %d", c.q, got, c.want)
		}
	}
	fail := EventRows(sample.Store().Run("run-fail"))
	errs := 0
	for _, e := range fail {
		if e.Error {
			errs++
		}
	}
	if errs != 2 {
		t.Errorf("%d error rows in the failing run, want 2 (node and graph error)", errs)
	}
}

func TestDetails_CopyTokensToolsAndMetrics(t *testing.T) {
	r := sample.Store().Run("run-ok")
	tok := TokenRows(r, nil, now)
	if len(tok) != 1 || tok[0].Text != "The sky is blue because…" || !tok[0].Final || tok[0].Tokens != "120 in · 3 out · 123 total" {
		t.Errorf("tokens %+v", tok)
	}
	tools := ToolRows(r, now)
	if len(tools) != 1 || tools[0].Retries != 1 || tools[0].Stages != "requested → started → retrying → completed" ||
		tools[0].Result != `{"hits":3}` || tools[0].Duration != "42 ms" {
		t.Errorf("tools %+v", tools)
	}
	ms := MetricRows(r)
	if len(ms) != 1 || ms[0].Name != "quality" || ms[0].Value != "0.92" || ms[0].Scope != "graph" {
		t.Errorf("metrics %+v", ms)
	}
}

func TestOverviewAndBanners_SayWhatNeedsAttention(t *testing.T) {
	o := BuildOverview(sample.Store(), now)
	if o.Runs != 4 || o.Running != 2 || o.Completed != 1 || o.Failed != 1 || o.Corrupted != 1 || len(o.InProgress) != 2 {
		t.Errorf("overview %+v", o)
	}
	if len(o.RecentErrors) == 0 || o.RecentErrors[0].Node != "web_search" {
		t.Errorf("recent errors %+v", o.RecentErrors)
	}
	cases := []struct {
		name   string
		health session.Health
		titles []string
	}{
		{"healthy", session.Health{State: session.Connected}, []string{"1 run not trusted"}},
		{"mismatch and stall", session.Health{State: session.Stalled, SchemaMismatch: "server speaks v2"},
			[]string{"Schema version mismatch", "Stream stalled", "1 run not trusted"}},
		{"replaying", session.Health{State: session.Connected, ReplayingThreads: []string{"a", "b"}},
			[]string{"1 run not trusted", "Replaying 2 runs"}},
	}
	for _, c := range cases {
		bs := Banners(c.health, o)
		var titles []string
		for _, b := range bs {
			titles = append(titles, b.Title)
		}
		if strings.Join(titles, "|") != strings.Join(c.titles, "|") {
			t.Errorf("%s: banners %q, want %q", c.name, titles, c.titles)
		}
	}
	if bs := Banners(session.Health{}, o); bs[0].Link != "/runs?status=corrupted" {
		t.Errorf("untrusted banner links %q", bs[0].Link)
	}
}

func TestConnLabel_SaysTheStateInWords(t *testing.T) {
	cases := []struct {
		h    session.Health
		want string
	}{
		{session.Health{State: session.Connecting}, "Connecting…"},
		{session.Health{State: session.Connected}, "Live"},
		{session.Health{State: session.Replaying}, "Catching up…"},
		{session.Health{State: session.Stalled}, "Stalled"},
		{session.Health{State: session.Reconnecting, Attempt: 3, NextRetry: now.Add(2 * time.Second)}, "Reconnecting (attempt 3) in 2.0 s"},
	}
	for _, c := range cases {
		if got := ConnLabel(c.h, now); got != c.want {
			t.Errorf("ConnLabel(%v) = %q, want %q", c.h.State, got, c.want)
		}
	}
}

// The run store is the single source of truth: a time-travelled state is
// exactly StateAt, and ChangedAt names what that sequence changed.
func TestChangedAt_NamesThePathsOfTheChange(t *testing.T) {
	r := sample.Store().Run("run-ok")
	cases := []struct {
		seq  uint64
		want string
	}{{3, "/plan"}, {13, "/web"}, {4, ""}}
	for _, c := range cases {
		if got := strings.Join(ChangedAt(r, c.seq), ","); got != c.want {
			t.Errorf("ChangedAt(%d) = %q, want %q", c.seq, got, c.want)
		}
	}
	_ = runstate.ErrNoRun
}

func TestTouched_MarksTheChangeItsAncestorsAndItsInsides(t *testing.T) {
	cases := []struct {
		path    string
		changed []string
		want    bool
	}{
		{"/a", []string{"/a"}, true},
		{"/a/b", []string{"/a"}, true},
		{"/a", []string{"/a/b"}, true},
		{"", []string{"/a"}, true},
		{"/ab", []string{"/a"}, false},
		{"/b", []string{"/a"}, false},
		{"", []string{""}, true},
		{"/a", []string{""}, false},
		{"/a", nil, false},
	}
	for _, c := range cases {
		if got := touched(c.path, c.changed); got != c.want {
			t.Errorf("touched(%q, %q) = %v, want %v", c.path, c.changed, got, c.want)
		}
	}
}

func TestLastChangeAt_FindsTheChangeInEffect(t *testing.T) {
	r := sample.Store().Run("run-ok")
	cases := []struct{ seq, want uint64 }{{0, 34}, {3, 3}, {4, 3}, {12, 6}, {1, 1}}
	for _, c := range cases {
		if got := LastChangeAt(r, c.seq); got != c.want {
			t.Errorf("LastChangeAt(%d) = %d, want %d", c.seq, got, c.want)
		}
	}
}

package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// filled returns a catalog of n runs of runsOf (no Kafka).
func filled(n int) (*Catalog, []spec) {
	c := New(Config{Logger: quiet})
	runs := runsOf("run", n, t0)
	off := int64(0)
	for _, r := range runs {
		off = feed(c, int32(len(r.thread)%2), off, r.messages()...)
	}
	return c, runs
}

func TestQuery_FiltersAndTotals(t *testing.T) {
	c, runs := filled(40)
	count := func(keep func(spec) bool) int {
		n := 0
		for _, r := range runs {
			if keep(r) {
				n++
			}
		}
		return n
	}
	at := func(i int) runsummary.Time { return runsummary.Time(runs[i].start) }
	cases := []struct {
		name string
		q    Query
		keep func(spec) bool
	}{
		{"everything", Query{}, func(spec) bool { return true }},
		{"failed", Query{Status: runsummary.Failed}, func(r spec) bool { return r.fail != "" }},
		{"graph", Query{Graph: "support"}, func(r spec) bool { return r.graph == "support" }},
		{"failed of a graph", Query{Status: runsummary.Failed, Graph: "research"}, func(r spec) bool { return r.fail != "" && r.graph == "research" }},
		{"text in the error", Query{Text: "timed out"}, func(r spec) bool { return r.fail != "" }},
		{"text in the thread", Query{Text: "run-01"}, func(r spec) bool { return strings.Contains(r.thread, "run-01") }},
		{"text in the graph, any case", Query{Text: "review"}, func(r spec) bool { return r.graph == "review" }},
		{"since", Query{Since: at(30)}, func(r spec) bool { return r.start >= runs[30].start }},
		{"until", Query{Until: at(10)}, func(r spec) bool { return r.start < runs[10].start }},
		{"window and status", Query{Since: at(5), Until: at(25), Status: runsummary.Completed}, func(r spec) bool {
			return r.start >= runs[5].start && r.start < runs[25].start && r.fail == ""
		}},
		{"nothing", Query{Text: "no such run"}, func(spec) bool { return false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := count(tc.keep)
			var got []runsummary.Summary
			q := tc.q
			q.Limit = 7
			for {
				p := c.Query(q)
				if p.Total != want {
					t.Fatalf("total %d, want %d", p.Total, want)
				}
				got = append(got, p.Runs...)
				if p.Next == "" {
					break
				}
				if q.After, _ = DecodeCursor(p.Next); len(got) > len(runs) {
					t.Fatal("paging does not end")
				}
			}
			if len(got) != want {
				t.Fatalf("%d runs over all pages, want %d", len(got), want)
			}
			for i, s := range got {
				if i > 0 && s.StartedAt > got[i-1].StartedAt {
					t.Errorf("not newest first at %d", i)
				}
			}
		})
	}
}

func TestQuery_PagingIsStableWhileRunsAreAdded(t *testing.T) {
	c, runs := filled(30)
	first := c.Query(Query{Limit: 10})
	// Newer runs arrive, and an older page's run goes on receiving records.
	off := int64(10_000)
	for _, r := range runsOf("late", 15, t0+3600e6) {
		off = feed(c, 0, off, r.messages()...)
	}
	var seen []string
	seen = append(seen, threads(first.Runs)...)
	next := first.Next
	for next != "" {
		cur, err := DecodeCursor(next)
		if err != nil {
			t.Fatal(err)
		}
		p := c.Query(Query{Limit: 10, After: cur})
		seen = append(seen, threads(p.Runs)...)
		next = p.Next
	}
	want := make([]string, len(runs))
	for i, r := range runs {
		want[len(runs)-1-i] = r.thread
	}
	if !slices.Equal(seen, want) {
		t.Errorf("pages after additions: %v\nwant the original runs, each once: %v", seen, want)
	}
}

func TestParseQuery_BadParametersNameTheParameter(t *testing.T) {
	cases := map[string]string{
		"limit=0":                    "limit",
		"limit=501":                  "limit",
		"limit=ten":                  "limit",
		"limit=1&limit=2":            "limit",
		"next=%25%25":                "next",
		"next=bm90IGEgY3Vyc29y":      "next",
		"status=done":                "status",
		"status=All+statuses":        "status",
		"since=yesterday":            "since",
		"until=2026-13-01T00:00:00Z": "until",
		"since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z": "until",
		"q=" + strings.Repeat("x", 201):                         "q",
		"graph=%ff":                                             "graph",
		"stauts=failed":                                         "stauts",
	}
	for raw, param := range cases {
		_, err := ParseQuery(values(raw))
		pe, ok := err.(*ParamError)
		if !ok || pe.Param != param {
			t.Errorf("%s: %v, want an error naming %s", raw, err, param)
		}
	}
	q, err := ParseQuery(values("limit=500&status=failed&graph=research&q=%20Timeout%20&since=2026-03-01T12:00:00Z&token=x"))
	if err != nil || q.Limit != 500 || q.Status != runsummary.Failed || q.Graph != "research" || q.Text != "timeout" ||
		q.Since != runsummary.Time(t0) {
		t.Errorf("good query: %+v, %v", q, err)
	}
}

func TestAPI_RunsRunAndGraphsOverHTTP(t *testing.T) {
	c, runs := filled(12)
	feed(c, 1, 50_000, spec{thread: "team/a b", graph: "slash", start: t0 + 1e9, nodes: 1}.messages()...)
	mux := http.NewServeMux()
	refused := 0
	c.Routes(mux, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Origin") == "https://evil.example" {
			refused++
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return false
		}
		return true
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string, hdr ...string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	code, body := get("/api/runs?limit=5&status=completed")
	var page runsummary.Page
	if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil || len(page.Runs) != 5 || page.Next == "" {
		t.Fatalf("GET /api/runs: %d %v %.300s", code, err, body)
	}
	for _, k := range []string{`"thread_id"`, `"graph_name"`, `"status":"completed"`, `"started_at":"2026-03-01T12:00:`, `"duration_ms"`, `"node_count"`, `"message_count"`, `"llm_calls"`, `"total_tokens"`, `"cost_usd"`, `"tool_calls"`} {
		if !strings.Contains(body, k) {
			t.Errorf("a row lacks %s: %.400s", k, body)
		}
	}
	if code, body = get("/api/runs?next=" + url.QueryEscape(page.Next) + "&limit=5&status=completed"); code != 200 || strings.Contains(body, page.Runs[0].ThreadID) {
		t.Errorf("second page: %d %.200s", code, body)
	}
	if code, body = get("/api/runs/" + runs[3].thread); code != 200 || !strings.Contains(body, `"error":"tool timed out"`) {
		t.Errorf("one run: %d %.300s", code, body)
	}
	if code, body = get("/api/runs/" + url.PathEscape("team/a b")); code != 200 || !strings.Contains(body, `"graph_name":"slash"`) {
		t.Errorf("a thread id with a slash and a space: %d %.300s", code, body)
	}
	if code, body = get("/api/runs/nope"); code != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("unknown thread: %d %s", code, body)
	}
	if code, body = get("/api/runs?limit=0"); code != 400 || !strings.Contains(body, `"parameter":"limit"`) {
		t.Errorf("bad limit: %d %s", code, body)
	}
	if code, body = get("/api/graphs?since=soon"); code != 400 || !strings.Contains(body, `"parameter":"since"`) {
		t.Errorf("bad since: %d %s", code, body)
	}
	code, body = get("/api/graphs")
	var g runsummary.Graphs
	if err := json.Unmarshal([]byte(body), &g); code != 200 || err != nil || g.Total.Runs != 13 || len(g.Graphs) != 4 {
		t.Fatalf("GET /api/graphs: %d %v %.300s", code, err, body)
	}
	if code, _ = get("/api/runs", "Origin", "https://evil.example"); code != 403 || refused != 1 {
		t.Errorf("the admission check was not applied: %d", code)
	}
}

func TestGraphs_RatesAndPercentiles(t *testing.T) {
	c := New(Config{Logger: quiet})
	off := int64(0)
	named := map[string]*pb.AttributeValue{"graph_name": str("g")}
	// Ten runs of "g" lasting 1..10 s (the 3rd and 7th failed), one still
	// running.
	for i := 1; i <= 10; i++ {
		th := "g" + string(rune('a'+i))
		s := t0 + int64(i)*60e6
		end := pb.EventType_EVENT_TYPE_GRAPH_END
		if i == 3 || i == 7 {
			end = pb.EventType_EVENT_TYPE_GRAPH_ERROR
		}
		off = feed(c, 0, off,
			event(th, 1, s, pb.EventType_EVENT_TYPE_GRAPH_START, "", named),
			event(th, 2, s+int64(i)*1e6, end, "", nil))
	}
	feed(c, 0, off, event("open", 1, t0+3600e6, pb.EventType_EVENT_TYPE_GRAPH_START, "", named))
	g := c.Graphs(0, 0).Graphs[0]
	if g.Runs != 11 || g.Failed != 2 || g.Completed != 8 || g.Running != 1 || g.P50Ms != 5000 || g.P95Ms != 10000 || g.FailureRate != 0.2 {
		t.Errorf("%+v", g)
	}
	// The window keeps the runs started in it: the 5th, 6th and 7th.
	w := c.Graphs(runsummary.Time(t0+5*60e6), runsummary.Time(t0+8*60e6)).Total
	if w.Runs != 3 || w.P50Ms != 6000 || w.Failed != 1 {
		t.Errorf("window: %+v", w)
	}
}

// TestQuery_PagesAgreeWithANaiveSortAndFilter pages through every kind of
// query (the ordered walk and the flat scan) on a catalog with runs that
// share start times and rows moved by removals, and compares each with
// sorting and filtering every summary.
func TestQuery_PagesAgreeWithANaiveSortAndFilter(t *testing.T) {
	c := New(Config{Logger: quiet})
	graphs := []string{"research", "support", "review"}
	off := int64(0)
	for i := range 300 {
		r := spec{thread: fmt.Sprintf("t-%03d", (i*7919)%300), graph: graphs[i%3], start: t0 + int64(i%60)*1_000_000, nodes: 1}
		switch i % 5 {
		case 1:
			r.fail = "tool timed out"
		case 2:
			r.open = true
		}
		off = feed(c, int32(i%2), off, r.messages()...)
	}
	c.mu.Lock()
	for i := 0; i < 300; i += 9 { // rows swapped into freed slots
		c.remove(c.runs[fmt.Sprintf("t-%03d", i)])
	}
	c.mu.Unlock()
	var every []runsummary.Summary
	for _, e := range c.runs {
		every = append(every, e.sum)
	}
	slices.SortFunc(every, func(a, b runsummary.Summary) int {
		if newerFirst(item{start: a.StartedAt, key: a.ThreadID}, item{start: b.StartedAt, key: b.ThreadID}) {
			return -1
		}
		return 1
	})
	mid := every[len(every)/2].StartedAt
	queries := []Query{
		{}, {Status: runsummary.Running}, {Graph: "review", Status: runsummary.Failed},
		{Text: "timed"}, {Text: "t-1"}, {Text: "zzz"}, {Text: "support", Status: runsummary.Completed},
		{Since: mid}, {Until: mid}, {Since: mid - 5_000_000, Until: mid + 5_000_000, Graph: "support"},
		{Until: mid, Text: "t-"},
	}
	for _, q := range queries {
		for _, limit := range []int{1, 7, 500} {
			var want []string
			for _, s := range every {
				if (q.Status == "" || s.Status == q.Status) && (q.Graph == "" || s.GraphName == q.Graph) && s.Matches(q.Text) &&
					(q.Since == 0 || s.StartedAt >= q.Since) && (q.Until == 0 || s.StartedAt < q.Until) {
					want = append(want, s.ThreadID)
				}
			}
			q.Limit = limit
			q.After = Cursor{}
			var got []string
			for range 400 {
				p := c.Query(q)
				if p.Total != len(want) {
					t.Fatalf("%+v: total %d, want %d", q, p.Total, len(want))
				}
				got = append(got, threads(p.Runs)...)
				if p.Next == "" {
					break
				}
				var err error
				if q.After, err = DecodeCursor(p.Next); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%+v:\n got %v\nwant %v", q, got, want)
			}
		}
	}
}

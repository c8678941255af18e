package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol/runsummary"
)

const t0 = runsummary.Time(1_780_000_000_000_000)

// row is a catalog row of a run started at t0 + i seconds.
func row(thread string, i int, st runsummary.Status, first, last uint64) runsummary.Summary {
	return runsummary.Summary{ThreadID: thread, GraphName: "research", Status: st, Outcome: st, StartedAt: t0 + runsummary.Time(i)*1e6,
		FirstSeq: first, LastSeq: last, MessageCount: int(last - first + 1), StartSeen: first == 1, LLMCalls: 3, TotalTokens: 900}
}

func threadsOf(rows []runsummary.Summary) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.ThreadID
	}
	return out
}

func TestQuery_PathEscapesAndOmitsDefaults(t *testing.T) {
	cases := map[string]Query{
		"/api/runs":          {},
		"/api/runs?limit=50": {Limit: 50},
		"/api/runs?graph=a%26b&limit=50&next=abc&q=time+out%3F&status=failed": {Filter: Filter{Status: runsummary.Failed, Graph: "a&b", Text: " time out? "}, Limit: 50, Next: "abc"},
		"/api/runs?graph=g&limit=1&until=2026-12-04T10%3A00%3A00.5Z":          {Filter: Filter{Graph: "g"}, Limit: 1, Until: time.Date(2026, 12, 4, 11, 0, 0, 5e8, time.FixedZone("CET", 3600))},
	}
	for want, q := range cases {
		if got := q.Path(); got != want {
			t.Errorf("%+v: %s, want %s", q, got, want)
		}
	}
	if got := RunPath("team/a b"); got != "/api/runs/team%2Fa%20b" {
		t.Errorf("RunPath: %s", got)
	}
}

func TestDecode_RejectsWhatIsNotAnAnswer(t *testing.T) {
	for _, b := range []string{"", "nul", `{"runs":[{"status":"running"}]}`, `{"runs":"x"}`, `[1,2]`} {
		if _, err := DecodePage([]byte(b)); err == nil {
			t.Errorf("page %q decoded", b)
		}
	}
	for _, b := range []string{"", `{}`, `{"thread_id":7}`, `{"thread_id":"t","started_at":"yesterday"}`} {
		if _, err := DecodeSummary([]byte(b)); err == nil {
			t.Errorf("summary %q decoded", b)
		}
	}
	p, err := DecodePage([]byte(`{"runs":[{"thread_id":"t","status":"failed","started_at":"2026-03-01T12:00:00Z","cost_usd":0.5}],"next":"n","total":9,"building":true}`))
	if err != nil || len(p.Runs) != 1 || p.Runs[0].Status != runsummary.Failed || p.Next != "n" || p.Total != 9 || !p.Building ||
		p.Runs[0].StartedAt.Time().Hour() != 12 || *p.Runs[0].CostUSD != 0.5 {
		t.Errorf("%+v, %v", p, err)
	}
	if _, err := DecodeGraphs([]byte(`{"graphs":[{"graph":"g","runs":2,"p95_duration_ms":40}],"total":{"runs":2}}`)); err != nil {
		t.Error(err)
	}
}

func TestOverlay(t *testing.T) {
	server := row("r", 0, runsummary.Running, 1, 100)
	cases := []struct {
		name        string
		live        runsummary.Summary
		wantPartial bool
		check       func(runsummary.Summary) string
	}{
		{"seen from the start and further: the live summary", row("r", 0, runsummary.Completed, 1, 120), false, func(r runsummary.Summary) string {
			if r.Status != runsummary.Completed || r.MessageCount != 120 {
				return "not the live summary"
			}
			return ""
		}},
		{"seen from the start but behind: the catalog's", row("r", 0, runsummary.Running, 1, 40), false, func(r runsummary.Summary) string {
			if r.MessageCount != 100 {
				return "not the catalog's row"
			}
			return ""
		}},
		{"joined part-way, ended: moved on", func() runsummary.Summary {
			l := row("r", 0, runsummary.Incomplete, 90, 130)
			l.Outcome, l.EndedAt, l.LastAt = runsummary.Failed, t0+9e6, t0+9e6
			l.Error = "boom"
			return l
		}(), true, func(r runsummary.Summary) string {
			if r.Status != runsummary.Failed || r.MessageCount != 130 || r.LastSeq != 130 || r.DurationMs != 9000 || r.Error != "boom" ||
				r.LLMCalls != 3 || r.FirstSeq != 1 {
				return fmt.Sprintf("%+v", r)
			}
			return ""
		}},
		{"nothing seen: the catalog's", runsummary.Summary{ThreadID: "r"}, false, func(r runsummary.Summary) string {
			if r.MessageCount != 100 {
				return "changed"
			}
			return ""
		}},
	}
	for _, c := range cases {
		got, partial := Overlay(server, c.live)
		if msg := c.check(got); msg != "" || partial != c.wantPartial {
			t.Errorf("%s: partial %v: %s", c.name, partial, msg)
		}
	}
	// An incomplete run stays incomplete whatever the tab saw of its end.
	inc := row("r", 0, runsummary.Incomplete, 40, 100)
	inc.Outcome = runsummary.Running
	live := row("r", 0, runsummary.Incomplete, 95, 110)
	live.Outcome = runsummary.Completed
	if got, _ := Overlay(inc, live); got.Status != runsummary.Incomplete || got.Outcome != runsummary.Completed {
		t.Errorf("incomplete: %s/%s", got.Status, got.Outcome)
	}
}

// page is a server answer listing rows (next set when more follow).
func page(total int, next string, rows ...runsummary.Summary) runsummary.Page {
	return runsummary.Page{Runs: rows, Total: total, Next: next}
}

func TestList_FirstPageMergesNewLiveRunsAndLaysLiveOverRows(t *testing.T) {
	l := NewList(3)
	q, gen, due := l.Request()
	if !due || q.Path() != "/api/runs?limit=3" || !l.Pending() {
		t.Fatalf("first request %v %s, pending %v", due, q.Path(), l.Pending())
	}
	// Before the answer: the live runs alone.
	live := []runsummary.Summary{row("new", 9, runsummary.Running, 1, 4)}
	if rows, total := l.Rows(live); !slices.Equal(threadsOf(rows), []string{"new"}) || total != 1 {
		t.Errorf("before the answer: %v %d", threadsOf(rows), total)
	}
	l.Loaded(gen, page(10, "c1", row("r5", 5, runsummary.Running, 1, 50), row("r4", 4, runsummary.Completed, 1, 20), row("r3", 3, runsummary.Failed, 1, 9)), nil)
	if l.Pending() {
		t.Error("still pending after the answer")
	}
	ended := row("r5", 5, runsummary.Incomplete, 40, 60)
	ended.Outcome, ended.EndedAt = runsummary.Completed, t0+8e6
	live = append(live, ended, row("old", 1, runsummary.Running, 1, 2)) // "old" belongs to a later page
	rows, total := l.Rows(live)
	if got := threadsOf(rows); !slices.Equal(got, []string{"new", "r5", "r4", "r3"}) {
		t.Errorf("rows %v", got)
	}
	if total != 11 || rows[1].Status != runsummary.Completed || rows[1].MessageCount != 60 {
		t.Errorf("total %d, r5 %s with %d messages", total, rows[1].Status, rows[1].MessageCount)
	}
	// r5 was joined part-way and has ended: asked for again, once.
	if got := l.Refetch(live); !slices.Equal(got, []string{"r5"}) {
		t.Errorf("refetch %v", got)
	}
	if got := l.Refetch(live); len(got) != 0 {
		t.Errorf("refetch again %v", got)
	}
	exact := row("r5", 5, runsummary.Completed, 1, 60)
	exact.LLMCalls = 7
	l.Fixed(exact)
	if rows, _ := l.Rows(live); rows[1].LLMCalls != 7 {
		t.Errorf("the fetched row is not used: %+v", rows[1])
	}
}

func TestList_FilterRunsOnLiveRowsToo(t *testing.T) {
	l := NewList(10)
	l.SetFilter(Filter{Status: runsummary.Running, Text: "R"})
	_, gen, _ := l.Request()
	l.Loaded(gen, page(2, "", row("r2", 2, runsummary.Running, 1, 5), row("r1", 1, runsummary.Running, 1, 5)), nil)
	done := row("r2", 2, runsummary.Completed, 1, 9)
	other := row("x9", 9, runsummary.Running, 1, 1)
	other.GraphName = "plan"
	live := []runsummary.Summary{done, row("r9", 9, runsummary.Running, 1, 1), other, row("r8", 8, runsummary.Failed, 1, 3)}
	rows, total := l.Rows(live)
	if got := threadsOf(rows); !slices.Equal(got, []string{"r9", "r1"}) || total != 3 {
		t.Errorf("rows %v total %d: r2 ended (out), r9 new and running (in), x9 and r8 do not match", got, total)
	}
}

func TestList_PagesBackAndForthAndDropsStaleAnswers(t *testing.T) {
	l := NewList(2)
	_, g1, _ := l.Request()
	l.Loaded(g1, page(5, "c1", row("r5", 5, runsummary.Completed, 1, 3), row("r4", 4, runsummary.Completed, 1, 3)), nil)
	if !l.HasOlder() || !l.Older() {
		t.Fatal("no older page")
	}
	q, g2, due := l.Request()
	if !due || q.Next != "c1" || l.PageNumber() != 2 {
		t.Fatalf("second request %+v", q)
	}
	if l.Loaded(g1, page(0, ""), nil) {
		t.Error("a stale answer was taken")
	}
	l.Loaded(g2, page(5, "c2", row("r3", 3, runsummary.Completed, 1, 3), row("r2", 2, runsummary.Completed, 1, 3)), nil)
	// A live run newer than this page does not land on it; one between its
	// rows does.
	// A run the tab joined part-way is placed by the catalog, not by the
	// time it was first seen (which is not its start).
	joined := row("joined", 0, runsummary.Incomplete, 40, 41)
	joined.StartSeen = false
	live := []runsummary.Summary{row("new", 9, runsummary.Running, 1, 1), row("r3b", 3, runsummary.Running, 1, 1), joined}
	if rows, _ := l.Rows(live); !slices.Equal(threadsOf(rows), []string{"r3", "r3b", "r2"}) {
		t.Errorf("page 2: %v", threadsOf(rows))
	}
	if !l.Newer() || l.PageNumber() != 1 {
		t.Fatal("no newer page")
	}
	q, g3, _ := l.Request()
	if q.Next != "" {
		t.Errorf("back on the first page with cursor %q", q.Next)
	}
	l.Loaded(g3, page(0, ""), errors.New("offline"))
	if l.Err() != "offline" || !l.Loading() {
		t.Errorf("error %q loading %v", l.Err(), l.Loading())
	}
	if l.Newer() {
		t.Error("newer than the first page")
	}
}

func TestList_PagingThroughTenThousandRuns(t *testing.T) {
	// A server of 10,000 runs paged 50 at a time: every run once, in order.
	all := make([]runsummary.Summary, 10_000)
	for i := range all {
		all[i] = row(fmt.Sprintf("r%05d", i), i, runsummary.Completed, 1, 3)
	}
	slices.Reverse(all)
	serve := func(q Query) runsummary.Page {
		from := 0
		if q.Next != "" {
			fmt.Sscan(strings.TrimPrefix(q.Next, "at"), &from)
		}
		end := min(from+q.Limit, len(all))
		p := runsummary.Page{Runs: all[from:end], Total: len(all)}
		if end < len(all) {
			p.Next = fmt.Sprintf("at%d", end)
		}
		return p
	}
	l := NewList(50)
	var seen []string
	for {
		q, gen, due := l.Request()
		if !due {
			t.Fatal("nothing to ask")
		}
		l.Loaded(gen, serve(q), nil)
		rows, total := l.Rows(nil)
		if total != 10_000 {
			t.Fatalf("total %d", total)
		}
		seen = append(seen, threadsOf(rows)...)
		if !l.Older() {
			break
		}
	}
	if len(seen) != 10_000 || seen[0] != "r09999" || seen[9999] != "r00000" || l.PageNumber() != 200 {
		t.Errorf("%d runs seen over %d pages", len(seen), l.PageNumber())
	}
}

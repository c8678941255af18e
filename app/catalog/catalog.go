// Package catalog is the dashboard's side of the gateway's run catalog: the
// requests it makes (`GET /api/runs`, `/api/runs/{thread_id}`,
// `/api/graphs`), reading their answers, and merging into the catalog's rows
// what this tab sees live.
//
// History comes from the server, live changes from the stream: the runs
// list is a page of the catalog (filtered and searched on the server),
// with every run this tab holds laid over it (filtered and searched here):
// a run the tab saw from its first message replaces the catalog's row; a
// run the tab joined part-way moves the catalog's row on (status, end,
// last activity) and, once it ends, is asked for again so its totals are
// exact. Runs that started after the page was fetched join the first page;
// the page is asked for again when the stream goes live (what started
// before is the catalog's). Nothing is polled per change: the stream
// already carries every change.
package catalog

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dashstream/dashstream/protocol/runsummary"
)

// Filter selects runs; the same filter runs on the server for history and
// here for live runs.
type Filter struct {
	// Status keeps runs with this status ("" for all).
	Status runsummary.Status
	// Graph keeps runs of this graph ("" for all).
	Graph string
	// Text keeps runs whose thread id, graph name or error contains it,
	// case-insensitively.
	Text string
}

// Matches reports whether s passes the filter, as the server decides it.
func (f Filter) Matches(s *runsummary.Summary) bool {
	return (f.Status == "" || s.Status == f.Status) && (f.Graph == "" || s.GraphName == f.Graph) &&
		s.Matches(strings.ToLower(strings.TrimSpace(f.Text)))
}

// Query is one request of `GET /api/runs`.
type Query struct {
	Filter
	// Limit is the page size (the server's default when 0).
	Limit int
	// Next is the cursor of a previous answer ("" for the first page).
	Next string
	// Until keeps the runs started before it (zero: no bound).
	Until time.Time
}

// Path returns the request's path and query.
func (q Query) Path() string {
	v := url.Values{}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Next != "" {
		v.Set("next", q.Next)
	}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	if q.Graph != "" {
		v.Set("graph", q.Graph)
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		v.Set("q", t)
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if len(v) == 0 {
		return "/api/runs"
	}
	return "/api/runs?" + v.Encode()
}

// RunPath is the path of one run's summary.
func RunPath(thread string) string { return "/api/runs/" + url.PathEscape(thread) }

// GraphsPath is the path of the per-graph aggregates (the whole window).
const GraphsPath = "/api/graphs"

// MaxPage is the largest page the server serves.
const MaxPage = 500

// MaxAnswerBytes bounds an answer the dashboard reads (a page of 500 runs
// is about 400 KB).
const MaxAnswerBytes = 4 << 20

// DecodePage reads an answer of `GET /api/runs`.
func DecodePage(b []byte) (runsummary.Page, error) {
	var p runsummary.Page
	if err := json.Unmarshal(b, &p); err != nil {
		return runsummary.Page{}, fmt.Errorf("catalog: runs page: %w", err)
	}
	for _, r := range p.Runs {
		if r.ThreadID == "" {
			return runsummary.Page{}, fmt.Errorf("catalog: runs page: a run without a thread id")
		}
	}
	return p, nil
}

// DecodeSummary reads an answer of `GET /api/runs/{thread_id}`.
func DecodeSummary(b []byte) (runsummary.Summary, error) {
	var s runsummary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return runsummary.Summary{}, fmt.Errorf("catalog: run: %w", err)
	}
	if s.ThreadID == "" {
		return runsummary.Summary{}, fmt.Errorf("catalog: run: no thread id")
	}
	return s, nil
}

// DecodeGraphs reads an answer of `GET /api/graphs`.
func DecodeGraphs(b []byte) (runsummary.Graphs, error) {
	var g runsummary.Graphs
	if err := json.Unmarshal(b, &g); err != nil {
		return runsummary.Graphs{}, fmt.Errorf("catalog: graphs: %w", err)
	}
	return g, nil
}

// Key is a run's place in the newest-first order the server pages in:
// start time descending, then thread id.
type Key struct {
	Start  runsummary.Time
	Thread string
}

// KeyOf returns s's key.
func KeyOf(s *runsummary.Summary) Key { return Key{Start: s.StartedAt, Thread: s.ThreadID} }

// Compare orders keys newest first (negative: a comes before b).
func Compare(a, b Key) int {
	if c := cmp.Compare(b.Start, a.Start); c != 0 {
		return c
	}
	return cmp.Compare(a.Thread, b.Thread)
}

// Overlay lays what this tab holds of a run (live) over the catalog's row
// (server). When the tab holds the run from at least as early as the
// catalog does, and at least as far, its summary is the row. When it joined
// the run part-way, the catalog's row is kept and moved on by what the tab
// saw after it (how far the run got, when it ended, its latest activity);
// partial is then set, and the row's totals are the catalog's until it is
// fetched again.
func Overlay(server, live runsummary.Summary) (row runsummary.Summary, partial bool) {
	if live.MessageCount == 0 {
		return server, false
	}
	fromStart := live.FirstSeq != 0 && (server.FirstSeq == 0 || live.FirstSeq <= server.FirstSeq)
	if fromStart && live.LastSeq >= server.LastSeq && live.MessageCount >= server.MessageCount {
		return live, false
	}
	if live.LastSeq <= server.LastSeq && live.Outcome == server.Outcome {
		return server, false // the catalog knows at least as much
	}
	row = server
	if live.LastSeq > server.LastSeq {
		row.MessageCount += int(live.LastSeq - server.LastSeq)
		row.LastSeq = live.LastSeq
	}
	row.LastAt = max(row.LastAt, live.LastAt)
	if live.Outcome != runsummary.Running {
		row.Outcome = live.Outcome
		row.EndedAt = max(row.EndedAt, live.EndedAt)
	}
	if row.Error == "" && live.Error != "" {
		row.Error, row.ErrorNode, row.ErrorSeq = live.Error, live.ErrorNode, live.ErrorSeq
	}
	row.Derive()
	return row, true
}

// byKey sorts rows newest first.
func byKey(rows []runsummary.Summary) {
	slices.SortFunc(rows, func(a, b runsummary.Summary) int { return Compare(KeyOf(&a), KeyOf(&b)) })
}

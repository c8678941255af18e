package catalog

import (
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// List is the state of a paged, filtered runs list: which page of the
// catalog is shown, the server's answer for it, and the rows fetched again
// since. It decides what to ask the server; the caller does the asking
// (asynchronously) and hands the answers back. It is not safe for
// concurrent use (a page's UI goroutine owns it).
type List struct {
	filter Filter
	limit  int
	// Paging: the cursors of the pages before the current one (for
	// "newer"), the current page's cursor, and the key of the last row
	// before it (the page's upper bound).
	back   []string
	uppers []*Key
	cur    string
	upper  *Key

	gen     uint64
	want    bool // a request for the current state is due
	pending bool // a request is out and its answer not in
	page    runsummary.Page
	loaded  bool
	err     string
	fixed   map[string]runsummary.Summary
	refetch map[string]uint64 // thread → the live LastSeq its row was asked again for
}

// NewList returns a list of pages of limit runs.
func NewList(limit int) *List {
	return &List{limit: limit, want: true, fixed: map[string]runsummary.Summary{}, refetch: map[string]uint64{}}
}

// Filter returns the list's filter.
func (l *List) Filter() Filter { return l.filter }

// SetFilter changes the filter and goes back to the first page; it
// reports whether anything changed.
func (l *List) SetFilter(f Filter) bool {
	if f == l.filter && l.loaded {
		return false
	}
	l.filter = f
	l.back, l.uppers, l.cur, l.upper = nil, nil, "", nil
	l.reset()
	return true
}

func (l *List) reset() {
	l.gen++
	l.want, l.loaded, l.err = true, false, ""
	l.page = runsummary.Page{}
	clear(l.fixed)
	clear(l.refetch)
}

// Reload asks for the current page again (keeping what is shown until the
// answer comes).
func (l *List) Reload() {
	l.gen++
	l.want = true
}

// Request returns the request to make now, if one is due, with the
// generation its answer must carry back.
func (l *List) Request() (q Query, gen uint64, due bool) {
	if !l.want {
		return Query{}, 0, false
	}
	l.want, l.pending = false, true
	return Query{Filter: l.filter, Limit: l.limit, Next: l.cur}, l.gen, true
}

// Loaded takes the answer of the request of generation gen; an answer to
// a request since superseded is dropped (it reports false).
func (l *List) Loaded(gen uint64, p runsummary.Page, err error) bool {
	if gen != l.gen {
		return false
	}
	l.pending = false
	if err != nil {
		l.err = err.Error()
		return true
	}
	l.page, l.loaded, l.err = p, true, ""
	clear(l.fixed)
	return true
}

// Older moves to the next page of older runs; false when there is none.
func (l *List) Older() bool {
	if !l.loaded || l.page.Next == "" || len(l.page.Runs) == 0 {
		return false
	}
	last := KeyOf(&l.page.Runs[len(l.page.Runs)-1])
	l.back = append(l.back, l.cur)
	l.uppers = append(l.uppers, l.upper)
	l.cur, l.upper = l.page.Next, &last
	l.reset()
	return true
}

// Newer moves back to the previous page; false on the first page.
func (l *List) Newer() bool {
	n := len(l.back)
	if n == 0 {
		return false
	}
	l.cur, l.upper = l.back[n-1], l.uppers[n-1]
	l.back, l.uppers = l.back[:n-1], l.uppers[:n-1]
	l.reset()
	return true
}

// First reports whether the current page is the newest.
func (l *List) First() bool { return len(l.back) == 0 }

// PageNumber is the current page, from 1.
func (l *List) PageNumber() int { return len(l.back) + 1 }

// HasOlder reports whether a page of older runs follows.
func (l *List) HasOlder() bool { return l.loaded && l.page.Next != "" }

// Loading reports whether the current page's answer has not come yet.
func (l *List) Loading() bool { return !l.loaded }

// Pending reports whether a request is out whose answer will replace what
// is shown (a reload, or the fresh answer after a prerendered one).
func (l *List) Pending() bool { return l.pending }

// Err is why the last request failed ("" when it did not).
func (l *List) Err() string { return l.err }

// Building reports whether the server was still reading its history.
func (l *List) Building() bool { return l.page.Building }

// Fixed takes a row fetched again (`GET /api/runs/{thread_id}`).
func (l *List) Fixed(s runsummary.Summary) {
	if !l.loaded {
		return
	}
	for _, r := range l.page.Runs {
		if r.ThreadID == s.ThreadID {
			l.fixed[s.ThreadID] = s
			return
		}
	}
}

// Rows returns the rows of the current page: the catalog's, with live
// laid over them, plus the live runs matching the filter that belong on
// this page (on the first page, those that started after it was fetched),
// newest first. total is the number of runs matching the filter on all
// pages, counting the live ones the catalog did not list yet.
func (l *List) Rows(live []runsummary.Summary) (rows []runsummary.Summary, total int) {
	byThread := make(map[string]int, len(live))
	for i := range live {
		byThread[live[i].ThreadID] = i
	}
	listed := make(map[string]bool, len(l.page.Runs))
	for _, r := range l.page.Runs {
		listed[r.ThreadID] = true
		if f, ok := l.fixed[r.ThreadID]; ok && f.MessageCount >= r.MessageCount {
			r = f
		}
		if i, ok := byThread[r.ThreadID]; ok {
			r, _ = Overlay(r, live[i])
		}
		if l.filter.Matches(&r) {
			rows = append(rows, r)
		}
	}
	total = l.page.Total
	var lower *Key
	if l.page.Next != "" && len(l.page.Runs) > 0 {
		k := KeyOf(&l.page.Runs[len(l.page.Runs)-1])
		lower = &k
	}
	for i := range live {
		s := &live[i]
		// Only runs this tab saw from their start are placed by it: the
		// start time of a run joined part-way is not its own, and the
		// catalog lists such a run where it belongs.
		if listed[s.ThreadID] || !l.filter.Matches(s) || !s.StartSeen || s.StartedAt == 0 {
			continue
		}
		k := KeyOf(s)
		if l.upper != nil && Compare(k, *l.upper) <= 0 {
			continue // belongs to a newer page
		}
		if lower != nil && Compare(k, *lower) > 0 {
			continue // belongs to an older page
		}
		if !l.loaded && !l.First() {
			continue
		}
		rows = append(rows, *s)
		if l.First() && (len(l.page.Runs) == 0 || Compare(k, KeyOf(&l.page.Runs[0])) < 0) {
			total++ // newer than anything the catalog listed
		}
	}
	byKey(rows)
	return rows, total
}

// Refetch returns the threads whose rows should be asked for again: runs
// this tab joined part-way that have ended since the page was fetched (so
// their totals become exact). Each is returned once per end seen.
func (l *List) Refetch(live []runsummary.Summary) []string {
	if !l.loaded {
		return nil
	}
	byThread := make(map[string]*runsummary.Summary, len(live))
	for i := range live {
		byThread[live[i].ThreadID] = &live[i]
	}
	var out []string
	for _, r := range l.page.Runs {
		s := byThread[r.ThreadID]
		if s == nil || s.Outcome == runsummary.Running {
			continue
		}
		if f, ok := l.fixed[r.ThreadID]; ok && f.LastSeq >= s.LastSeq {
			continue
		}
		if _, partial := Overlay(r, *s); !partial || l.refetch[r.ThreadID] >= s.LastSeq {
			continue
		}
		l.refetch[r.ThreadID] = s.LastSeq
		out = append(out, r.ThreadID)
	}
	return out
}

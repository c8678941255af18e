package catalog

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dashstream/dashstream/protocol/runsummary"
)

// Bounds of the runs API.
const (
	DefaultLimit = 50
	MaxLimit     = 500
	// maxText bounds the graph and q parameters.
	maxText = 200
	// maxCursor bounds an encoded cursor.
	maxCursor = 512
)

// Query selects a page of runs, newest first.
type Query struct {
	Limit int
	// After is the cursor: the page starts after this run (zero: at the
	// newest).
	After Cursor
	// Status keeps runs with this status ("" for all).
	Status runsummary.Status
	// Graph keeps runs of this graph (exact name; "" for all).
	Graph string
	// Text keeps runs whose thread id, graph name or error contains it,
	// case-insensitively (already lower-cased).
	Text string
	// Since and Until keep runs started in [Since, Until) (zero: unbounded).
	Since, Until runsummary.Time
}

// Cursor is a position in the newest-first order: the run with this start
// time and thread id (which need not exist any more). Keyed on the start
// time, a cursor stays put while newer runs are added.
type Cursor struct {
	Start  runsummary.Time
	Thread string
	Set    bool
}

// ParamError is a bad query parameter; the API answers it with 400.
type ParamError struct {
	Param, Problem string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Problem }

func paramErr(param, format string, args ...any) error {
	return &ParamError{Param: param, Problem: fmt.Sprintf(format, args...)}
}

// Parameters every endpoint accepts besides its own: token carries the
// bearer token of a browser that cannot set headers; _ is a cache buster.
var ignoredParams = map[string]bool{"token": true, "_": true}

// single returns the one value of param, and an error when it is given
// more than once.
func single(v url.Values, param string) (string, error) {
	vals := v[param]
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		return vals[0], nil
	}
	return "", paramErr(param, "given %d times; give it once", len(vals))
}

// checkKnown rejects parameters an endpoint does not know (a typo would
// otherwise silently return everything).
func checkKnown(v url.Values, known ...string) error {
	for k := range v {
		if ignoredParams[k] {
			continue
		}
		ok := false
		for _, n := range known {
			ok = ok || k == n
		}
		if !ok {
			return paramErr(boundParam(k), "unknown parameter (known: %s)", strings.Join(known, ", "))
		}
	}
	return nil
}

func boundParam(k string) string {
	k = strings.ToValidUTF8(k, "\uFFFD")
	if utf8.RuneCountInString(k) > 40 {
		r := []rune(k)
		k = string(r[:40]) + "…"
	}
	return k
}

// ParseQuery reads the parameters of `GET /api/runs`.
func ParseQuery(v url.Values) (Query, error) {
	q := Query{Limit: DefaultLimit}
	if err := checkKnown(v, "limit", "next", "status", "graph", "q", "since", "until"); err != nil {
		return q, err
	}
	s, err := single(v, "limit")
	if err != nil {
		return q, err
	}
	if s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, paramErr("limit", "%s is not an integer in [1, %d]", quote(s), MaxLimit)
		}
		q.Limit = n
	}
	if s, err = single(v, "next"); err != nil {
		return q, err
	}
	if s != "" {
		if q.After, err = DecodeCursor(s); err != nil {
			return q, paramErr("next", "%v (use the next value of a previous answer)", err)
		}
	}
	if s, err = single(v, "status"); err != nil {
		return q, err
	}
	if s != "" {
		st, ok := runsummary.ParseStatus(s)
		if !ok {
			return q, paramErr("status", "%s is not one of running, completed, failed, incomplete", quote(s))
		}
		q.Status = st
	}
	if q.Graph, err = text(v, "graph"); err != nil {
		return q, err
	}
	if s, err = text(v, "q"); err != nil {
		return q, err
	}
	q.Text = strings.ToLower(strings.TrimSpace(s))
	if q.Since, q.Until, err = window(v); err != nil {
		return q, err
	}
	return q, nil
}

// text reads a bounded text parameter.
func text(v url.Values, param string) (string, error) {
	s, err := single(v, param)
	if err != nil {
		return "", err
	}
	if !utf8.ValidString(s) {
		return "", paramErr(param, "is not valid UTF-8")
	}
	if utf8.RuneCountInString(s) > maxText {
		return "", paramErr(param, "is longer than %d characters", maxText)
	}
	return s, nil
}

// window reads since and until (RFC 3339).
func window(v url.Values) (since, until runsummary.Time, err error) {
	read := func(param string) (runsummary.Time, error) {
		s, err := single(v, param)
		if err != nil || s == "" {
			return 0, err
		}
		t, perr := time.Parse(time.RFC3339Nano, s)
		if perr != nil || t.Year() < 1971 || t.Year() > 9999 {
			return 0, paramErr(param, "%s is not an RFC 3339 time such as 2025-01-02T15:04:05Z", quote(s))
		}
		return runsummary.FromTime(t), nil
	}
	if since, err = read("since"); err != nil {
		return 0, 0, err
	}
	if until, err = read("until"); err != nil {
		return 0, 0, err
	}
	if since != 0 && until != 0 && until <= since {
		return 0, 0, paramErr("until", "must be after since")
	}
	return since, until, nil
}

func quote(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return strconv.Quote(s)
}

const cursorPrefix = "r1."

// Encode returns the opaque form of c.
func (c Cursor) Encode() string {
	raw := cursorPrefix + strconv.FormatInt(int64(c.Start), 10) + "." + c.Thread
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor reads what Cursor.Encode wrote.
func DecodeCursor(s string) (Cursor, error) {
	if len(s) > maxCursor {
		return Cursor{}, fmt.Errorf("cursor longer than %d bytes", maxCursor)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("not a cursor")
	}
	raw := string(b)
	if !strings.HasPrefix(raw, cursorPrefix) {
		return Cursor{}, fmt.Errorf("not a cursor")
	}
	num, thread, ok := strings.Cut(raw[len(cursorPrefix):], ".")
	start, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || start < 0 || !utf8.ValidString(thread) || len(thread) > runsummary.MaxThreadID*4 {
		return Cursor{}, fmt.Errorf("not a cursor")
	}
	return Cursor{Start: runsummary.Time(start), Thread: thread, Set: true}, nil
}

// Query returns a page of runs, newest first.
func (c *Catalog) Query(q Query) runsummary.Page {
	if q.Limit <= 0 || q.Limit > MaxLimit {
		q.Limit = DefaultLimit
	}
	m := q.matcher()
	c.mu.RLock()
	defer c.mu.RUnlock()
	var page runsummary.Page
	// Totals come from the tallies unless the filter needs a scan: a text
	// or a time window, whose total needs every matching run.
	if q.Text == "" && q.Since == 0 && q.Until == 0 {
		page = c.walk(q, &m)
	} else {
		page = c.scan(q, &m)
	}
	page.Building = c.building
	return page
}

// walk reads a page off the ordered index from the cursor on, and takes
// the total from the tallies. c.mu held.
func (c *Catalog) walk(q Query, m *matcher) runsummary.Page {
	page := runsummary.Page{Runs: make([]runsummary.Summary, 0, min(q.Limit, c.order.Len()))}
	if q.Graph != "" {
		page.Total = c.byGraph[q.Graph].count(q.Status)
	} else {
		page.Total = c.all.count(q.Status)
	}
	pivot := item{start: 1<<63 - 1}
	if q.After.Set {
		pivot = item{start: q.After.Start, key: q.After.Thread}
	}
	var last *entry
	more := false
	c.order.Ascend(pivot, func(it item) bool {
		if !m.facets(&it) || (q.After.Set && !newerFirst(pivot, it)) {
			return true // filtered out, or the cursor's own run
		}
		if len(page.Runs) < q.Limit {
			page.Runs = append(page.Runs, it.e.sum.Priced(c.cfg.Prices))
			last = it.e
			return true
		}
		more = true
		return false
	})
	if more && last != nil {
		page.Next = Cursor{Start: last.start, Thread: last.key}.Encode()
	}
	return page
}

// scan reads every row once: it counts the matches and keeps the newest
// Limit+1 of those past the cursor in a heap. c.mu held.
func (c *Catalog) scan(q Query, m *matcher) runsummary.Page {
	var page runsummary.Page
	cursor := item{start: q.After.Start, key: q.After.Thread}
	keep := q.Limit + 1
	h := make(oldestFirst, 0, keep)
	for i := range c.rows {
		r := &c.rows[i]
		if (q.Since != 0 && r.start < q.Since) || (q.Until != 0 && r.start >= q.Until) || !m.matches(r) {
			continue
		}
		page.Total++
		if q.After.Set && !newerFirst(cursor, r.item) {
			continue // on or before the cursor: an earlier page's
		}
		switch {
		case len(h) < keep:
			h.push(r.item)
		case newerFirst(r.item, h[0]):
			h[0] = r.item
			h.down(0)
		}
	}
	slices.SortFunc(h, func(a, b item) int {
		if newerFirst(a, b) {
			return -1
		}
		return 1
	})
	more := len(h) > q.Limit
	if more {
		h = h[:q.Limit]
	}
	page.Runs = make([]runsummary.Summary, len(h))
	for i, it := range h {
		page.Runs[i] = it.e.sum.Priced(c.cfg.Prices)
	}
	if more {
		last := h[len(h)-1]
		page.Next = Cursor{Start: last.start, Thread: last.key}.Encode()
	}
	return page
}

// oldestFirst is a binary heap whose root is the oldest item: the one a
// newer match replaces.
type oldestFirst []item

func (h *oldestFirst) push(it item) {
	*h = append(*h, it)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !newerFirst(s[p], s[i]) {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h oldestFirst) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		o := l // the older child
		if r := l + 1; r < len(h) && newerFirst(h[l], h[r]) {
			o = r
		}
		if !newerFirst(h[i], h[o]) {
			return
		}
		h[i], h[o] = h[o], h[i]
		i = o
	}
}

// matcher is a query's filters, ready to test index items.
type matcher struct {
	status runsummary.Status
	graph  string
	text   string
	grams  grams
	// nul: the text holds a NUL, which the folded text uses to separate
	// fields; such a text is matched field by field.
	nul bool
}

func (q *Query) matcher() matcher {
	return matcher{status: q.Status, graph: q.Graph, text: q.Text, grams: gramsOf(q.Text), nul: strings.IndexByte(q.Text, 0) >= 0}
}

// facets tests the status and the graph.
func (m *matcher) facets(it *item) bool {
	return (m.status == "" || it.status == m.status) && (m.graph == "" || it.graph == m.graph)
}

// matches tests every filter but the time window.
func (m *matcher) matches(r *row) bool {
	if !m.facets(&r.item) {
		return false
	}
	switch {
	case m.text == "":
		return true
	case m.nul:
		return r.e.sum.Matches(m.text)
	case !r.grams.covers(&m.grams):
		return false
	}
	return strings.Contains(r.e.fold, m.text)
}

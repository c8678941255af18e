package catalog

import (
	"strings"
	"unsafe"

	"github.com/dashstream/dashstream/protocol/runsummary"
)

// entry is one run: its summary and the key it is indexed under (a copy,
// because the summary's start time may move while the entry is indexed).
type entry struct {
	key   string // the thread id as the records carry it
	start runsummary.Time
	// fold is the thread id, graph name and error, lower-cased and
	// NUL-separated: what a text search looks in (Summary.Matches, done
	// once per change instead of once per run and query).
	fold string
	sum  runsummary.Summary
}

// newerFirst orders the index: most recently started first, then by thread
// id; runs without a start time come last.
func newerFirst(a, b *entry) bool {
	if a.start != b.start {
		return a.start > b.start
	}
	return a.key < b.key
}

// facets are the parts of a summary the index and the tallies depend on.
type facets struct {
	start  runsummary.Time
	graph  string
	status runsummary.Status
	err    string
}

func (e *entry) facets() facets {
	return facets{start: e.sum.StartedAt, graph: e.sum.GraphName, status: e.sum.Status, err: e.sum.Error}
}

// refold recomputes the folded search text.
func (e *entry) refold() {
	s := &e.sum
	e.fold = strings.ToLower(s.ThreadID + "\x00" + s.GraphName + "\x00" + s.Error)
}

// size estimates the bytes an entry holds: the summary, the key, and the
// map and index slots that point to it.
func (e *entry) size() int {
	return int(unsafe.Sizeof(*e)) - int(unsafe.Sizeof(e.sum)) + e.sum.Size() + len(e.key) + len(e.fold) + 48
}

// tally counts runs by status.
type tally struct {
	runs     int
	byStatus [4]int
}

func statusIndex(s runsummary.Status) int {
	switch s {
	case runsummary.Running:
		return 0
	case runsummary.Completed:
		return 1
	case runsummary.Failed:
		return 2
	}
	return 3
}

func (t *tally) add(s runsummary.Status, n int) {
	t.runs += n
	t.byStatus[statusIndex(s)] += n
}

// count returns the runs with status st ("" for all).
func (t *tally) count(st runsummary.Status) int {
	if t == nil {
		return 0
	}
	if st == "" {
		return t.runs
	}
	return t.byStatus[statusIndex(st)]
}

// count adds n runs of facets f to the tallies. c.mu held.
func (c *Catalog) count(f facets, n int) {
	c.all.add(f.status, n)
	g := c.byGraph[f.graph]
	if g == nil {
		g = &tally{}
		c.byGraph[f.graph] = g
	}
	g.add(f.status, n)
	if g.runs == 0 {
		delete(c.byGraph, f.graph)
	}
}

// insert indexes a new entry. c.mu held.
func (c *Catalog) insert(e *entry) {
	e.start = e.sum.StartedAt
	e.refold()
	c.runs[e.key] = e
	c.order.Set(e)
	c.count(e.facets(), 1)
}

// remove forgets an entry. c.mu held.
func (c *Catalog) remove(e *entry) {
	delete(c.runs, e.key)
	c.order.Delete(e)
	c.count(e.facets(), -1)
}

// reindex moves an entry whose summary changed from before. c.mu held.
func (c *Catalog) reindex(e *entry, before facets) {
	after := e.facets()
	if after.start != e.start {
		c.order.Delete(e)
		e.start = after.start
		c.order.Set(e)
	}
	if after.graph != before.graph || after.status != before.status {
		c.count(before, -1)
		c.count(after, 1)
	}
	if after.graph != before.graph || after.err != before.err {
		e.refold()
	}
}

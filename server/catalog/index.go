package catalog

import (
	"strings"
	"unsafe"

	"github.com/dashstream/dashstream/protocol/runsummary"
)

// entry is one run: its summary and the folded text a search looks in.
type entry struct {
	key string // the thread id as the records carry it
	// fold is the thread id, graph name and error, lower-cased and
	// NUL-separated: what a text search looks in (Summary.Matches, done
	// once per change instead of once per run and query).
	fold string
	// start is the start time the entry is indexed under (a copy: the
	// summary's may move while the entry is indexed).
	start runsummary.Time
	sum   runsummary.Summary
	// slot is the entry's row in Catalog.rows.
	slot int
}

// item is an entry's place in the index, with what the filters read, so a
// walk of the index reads its nodes in order and touches an entry only
// for a run that passes them: the key, the status, the graph (interned).
type item struct {
	start  runsummary.Time
	key    string
	graph  string
	status runsummary.Status
	e      *entry
}

// row is an entry's place in the flat table that text and time-window
// queries scan: the item and a bloom filter of the folded text's
// trigrams. Their totals need every run that matches, and a scan of an
// array finds them about twenty times faster than a walk of the ordered
// index; the page is then the newest matches, kept in a bounded heap.
type row struct {
	item
	grams grams
}

// newerFirst orders the index: most recently started first, then by thread
// id; runs without a start time come last.
func newerFirst(a, b item) bool {
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

// refresh recomputes the folded text and the indexed start from the
// summary, and returns the entry's row (and in it, its index item).
func (e *entry) refresh() row {
	s := &e.sum
	e.fold = strings.ToLower(s.ThreadID + "\x00" + s.GraphName + "\x00" + s.Error)
	e.start = s.StartedAt
	return row{item: item{start: e.start, key: e.key, graph: s.GraphName, status: s.Status, e: e}, grams: gramsOf(e.fold)}
}

// indexed is the key the entry is indexed under (enough to find its item).
func (e *entry) indexed() item { return item{start: e.start, key: e.key} }

// size estimates the bytes an entry holds: the summary, the key, the
// folded text, and the map and index slots that point to it.
func (e *entry) size() int {
	return int(unsafe.Sizeof(*e)) - int(unsafe.Sizeof(e.sum)) + e.sum.Size() + len(e.key) + len(e.fold) +
		int(unsafe.Sizeof(item{})) + int(unsafe.Sizeof(row{})) + 48
}

// grams is a 256-bit bloom filter of a text's byte trigrams: a text lacking
// one of a query's trigrams cannot contain the query.
type grams [4]uint64

func gramHash(a, b, c byte) uint {
	return uint((uint32(a)<<16|uint32(b)<<8|uint32(c))*0x9E3779B1) >> 24
}

func gramsOf(s string) grams {
	var g grams
	for i := 0; i+3 <= len(s); i++ {
		h := gramHash(s[i], s[i+1], s[i+2])
		g[h>>6] |= 1 << (h & 63)
	}
	return g
}

// covers reports whether every trigram of q may be in g.
func (g *grams) covers(q *grams) bool {
	return g[0]&q[0] == q[0] && g[1]&q[1] == q[1] && g[2]&q[2] == q[2] && g[3]&q[3] == q[3]
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

// intern shares one copy of each graph name among the runs. c.mu held.
func (c *Catalog) intern(e *entry) {
	name := e.sum.GraphName
	if name == "" {
		return
	}
	if g, ok := c.names[name]; ok {
		e.sum.GraphName = g
		return
	}
	if len(c.names) < maxNames {
		c.names[name] = name
	}
}

// maxNames bounds the interned graph names (a producer inventing names
// costs memory, not correctness).
const maxNames = 10_000

// insert indexes a new entry. c.mu held.
func (c *Catalog) insert(e *entry) {
	c.intern(e)
	c.runs[e.key] = e
	r := e.refresh()
	e.slot = len(c.rows)
	c.rows = append(c.rows, r)
	c.order.Set(r.item)
	c.count(e.facets(), 1)
}

// remove forgets an entry. c.mu held.
func (c *Catalog) remove(e *entry) {
	delete(c.runs, e.key)
	c.order.Delete(e.indexed())
	last := len(c.rows) - 1
	c.rows[e.slot] = c.rows[last]
	c.rows[e.slot].e.slot = e.slot
	c.rows[last] = row{}
	c.rows = c.rows[:last]
	c.count(e.facets(), -1)
}

// reindex moves an entry whose summary changed from before. c.mu held.
func (c *Catalog) reindex(e *entry, before facets) {
	after := e.facets()
	if after == before {
		return
	}
	if after.graph != before.graph {
		c.intern(e)
	}
	if after.graph != before.graph || after.status != before.status {
		c.count(before, -1)
		c.count(e.facets(), 1)
	}
	old := e.indexed()
	r := e.refresh()
	c.rows[e.slot] = r
	if old.start != r.start {
		c.order.Delete(old)
	}
	c.order.Set(r.item) // replaces the item under the same key
}

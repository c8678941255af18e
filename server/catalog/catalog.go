// Package catalog keeps one summary per run the gateway still retains, and
// serves them as JSON (`GET /api/runs`, `/api/runs/{thread_id}`,
// `/api/graphs`), so that a first visit and every reload of the dashboard
// list the whole retention window, not just what one tab happened to see.
//
// # Where the summaries come from
//
// Two feeds write into one Catalog, and a per-partition high-water mark makes
// sure that every Kafka record is folded in exactly once, whichever feed
// brings it:
//
//   - the live feed: the gateway's source calls Observe with every record it
//     forwards, already decoded (nothing is decoded twice on the live path);
//   - the rebuild: Run opens its own franz-go consumer (direct assignment,
//     no group) that reads every partition from its log start, so the
//     catalog is complete after a restart whatever the live stream resumes
//     from (the replay store's newest offset, or the end).
//
// A partition belongs to the rebuild until the live feed delivers a record
// right after what the rebuild has covered (offset ≤ covered+1); from then on
// the live feed owns it and the rebuild stops reading it. Live records that
// arrive ahead of the rebuild are dropped: the rebuild reads them itself, in
// order, so nothing is skipped or counted twice. Records are applied in offset
// order per partition, so two instances reading the same topic build the same
// summaries.
//
// # Bounds
//
// Runs whose records all left Kafka retention are dropped (log start offsets
// are polled); a run whose first records left it is marked trimmed, status
// "incomplete". The number of runs is bounded (Config.MaxRuns): past it the
// run that started first is evicted, and its later records are ignored so it
// does not come back as a fragment. A summary is about half a kilobyte.
//
// # Live updates in the browser
//
// The catalog pushes nothing. A dashboard tab already receives every record
// of every partition over /ws and folds them into the same
// runsummary.Summary (runstate.Run.Summary), so runs that start while the
// tab is open are complete in the tab. The only runs a tab sees partially
// are those already running when it opened; it shows the catalog's row for
// them, moved on by what it sees live, and asks for that one row again
// (`GET /api/runs/{thread_id}`) when the run ends. A control message that
// announced new and finished runs would repeat what the records already say.
package catalog

import (
	"hash/maphash"
	"log/slog"
	"sync"

	"github.com/tidwall/btree"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/pricing"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// DefaultMaxRuns is the default bound on the number of runs kept.
const DefaultMaxRuns = 100_000

// Config configures a Catalog. Kafka settings are needed only by Run.
type Config struct {
	// MaxRuns bounds the runs kept (DefaultMaxRuns).
	MaxRuns int
	// Prices prices the rows served (pricing.Builtin() when nil).
	Prices *pricing.Table
	// Kafka the rebuild reads (see Run).
	Kafka  KafkaConfig
	Logger *slog.Logger
}

// Catalog is the run catalog. It is safe for concurrent use.
type Catalog struct {
	cfg Config

	mu      sync.RWMutex
	runs    map[string]*entry
	order   *btree.BTreeG[item] // newest first
	rows    []row               // every entry's row, in no order (entry.slot)
	names   map[string]string   // interned graph names
	all     tally
	byGraph map[string]*tally
	parts   map[int32]*partition
	evicted evictedSet
	stats   Stats
	// building is set while the rebuild has not yet covered every
	// partition up to the end offset it found at start.
	building bool
}

// partition is what the catalog knows of one Kafka partition.
type partition struct {
	// covered: every offset ≤ covered was folded in or holds nothing to
	// fold (a tombstone, an undecodable value, or below the log start).
	covered int64
	// live: the live feed owns the partition (see the package comment).
	live bool
	// logStart is the last log start offset polled.
	logStart int64
	// target is the end offset the rebuild found at its start (-1: none).
	target int64
	// lastLook is covered at the previous refresh.
	lastLook int64
	// drained: the rebuild's last polls found nothing more to read (see
	// idlePoll).
	drained bool
}

// Stats are the catalog's counters.
type Stats struct {
	Runs int
	// Records counts Kafka records folded in; Live of them came from the
	// live feed, the rest from the rebuild.
	Records, Live uint64
	// EvictedByCount and DroppedByRetention count runs removed.
	EvictedByCount, DroppedByRetention uint64
	// Undecodable counts records the rebuild could not decode; Unreadable,
	// offsets it skipped because Kafka could not read them.
	Undecodable, Unreadable uint64
	// Building is set until the rebuild reached the end of every
	// partition as it was when the rebuild started.
	Building bool
	// Bytes estimates the memory the summaries hold.
	Bytes int64
}

// New returns an empty catalog. Start Run to build it from Kafka, and feed
// it the live records with Observe.
func New(cfg Config) *Catalog {
	if cfg.MaxRuns <= 0 {
		cfg.MaxRuns = DefaultMaxRuns
	}
	if cfg.Prices == nil {
		cfg.Prices = pricing.Builtin()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Catalog{
		cfg:     cfg,
		runs:    map[string]*entry{},
		order:   btree.NewBTreeGOptions(newerFirst, btree.Options{NoLocks: true}),
		names:   map[string]string{},
		byGraph: map[string]*tally{},
		parts:   map[int32]*partition{},
		evicted: newEvictedSet(cfg.MaxRuns),
	}
}

func (c *Catalog) part(p int32) *partition {
	ps := c.parts[p]
	if ps == nil {
		ps = &partition{covered: -1, target: -1}
		c.parts[p] = ps
	}
	return ps
}

// Observe folds in a record the live feed forwards, decoded. Records the
// catalog already holds, or that the rebuild has yet to reach, are ignored.
func (c *Catalog) Observe(p int32, offset int64, msg *pb.DashStreamMessage) {
	if offset < 0 || msg == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.part(p)
	if !ps.live {
		if offset > ps.covered+1 {
			return // ahead of the rebuild, which will read it in turn
		}
		ps.live = true
	}
	if offset <= ps.covered {
		return
	}
	c.stats.Live++
	c.fold(ps, p, offset, msg)
	if c.building && offset == ps.target-1 {
		c.updateBuilding() // the live feed finished this partition's history
	}
}

// fromRebuild folds in a record the rebuild read (msg nil: it could not be
// decoded, and only moves the high-water mark). c.mu held.
func (c *Catalog) fromRebuild(p int32, offset int64, msg *pb.DashStreamMessage) {
	ps := c.part(p)
	if ps.live || offset <= ps.covered {
		return
	}
	if msg == nil {
		c.stats.Undecodable++
		ps.covered = offset
		return
	}
	c.fold(ps, p, offset, msg)
}

// fold applies one record and moves the partition's high-water mark.
func (c *Catalog) fold(ps *partition, p int32, offset int64, msg *pb.DashStreamMessage) {
	ps.covered = offset
	c.stats.Records++
	at := runsummary.Position{Partition: p, Offset: offset}
	if batch := msg.GetEventBatch(); batch != nil {
		bh := batch.GetHeader()
		for _, ev := range batch.GetEvents() {
			if ev == nil {
				continue
			}
			h := ev.GetHeader()
			thread := h.GetThreadId()
			if thread == "" {
				thread = bh.GetThreadId() // the inner header decides; the batch's fills in
			}
			ts := h.GetTimestampUs()
			if ts == 0 {
				ts = bh.GetTimestampUs()
			}
			c.update(thread, func(s *runsummary.Summary) { s.ObserveEvent(ev, ts, h.GetSequence(), at) })
		}
		return
	}
	thread := protocol.Header(msg).GetThreadId()
	if thread == "" {
		thread = msg.GetExecutionTrace().GetThreadId() // upstream's fallback, as the run store does
	}
	c.update(thread, func(s *runsummary.Summary) { s.Observe(msg, at) })
}

// update applies fn to thread's summary, creating it, and keeps the index,
// the tallies and the bounds in step. c.mu held.
func (c *Catalog) update(thread string, fn func(*runsummary.Summary)) {
	if thread == "" {
		return // no run to count it in (the run store keeps such messages aside)
	}
	e := c.runs[thread]
	if e == nil {
		if c.evicted.has(thread) {
			return
		}
		e = &entry{key: thread, sum: *runsummary.New(thread)}
		fn(&e.sum)
		c.insert(e)
		for c.order.Len() > c.cfg.MaxRuns {
			oldest, _ := c.order.Max()
			c.remove(oldest.e)
			c.evicted.add(oldest.key)
			c.stats.EvictedByCount++
		}
		return
	}
	before := e.facets()
	fn(&e.sum)
	c.reindex(e, before)
}

// trim applies new log start offsets: runs whose records all left
// retention are dropped, runs whose first records left it are marked
// trimmed (incomplete). c.mu held.
func (c *Catalog) trim(starts map[int32]int64) {
	moved := map[int32]int64{}
	for p, s := range starts {
		ps := c.part(p)
		if s <= ps.logStart {
			continue
		}
		ps.logStart = s
		if !ps.live && s-1 > ps.covered {
			ps.covered = s - 1 // nothing below the log start can be read
		}
		moved[p] = s
	}
	if len(moved) == 0 {
		return
	}
	var gone []*entry
	for _, e := range c.runs {
		s, ok := moved[e.sum.Partition]
		if !ok || e.sum.FirstOffset < 0 || e.sum.FirstOffset >= s {
			continue
		}
		if e.sum.LastOffset < s {
			gone = append(gone, e)
			continue
		}
		if !e.sum.Trimmed {
			before := e.facets()
			e.sum.SetTrimmed()
			c.reindex(e, before)
		}
	}
	for _, e := range gone {
		c.remove(e)
		c.stats.DroppedByRetention++
	}
}

// Get returns the priced summary of thread.
func (c *Catalog) Get(thread string) (runsummary.Summary, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.runs[thread]
	if e == nil {
		return runsummary.Summary{}, false
	}
	return e.sum.Priced(c.cfg.Prices), true
}

// Location is where a run's records sit in Kafka.
type Location struct {
	Partition             int32
	FirstOffset           int64
	LastOffset            int64
	FirstSeq, LastSeq     uint64
	MessageCount          int
	FirstTrimmed, Present bool
}

// Locate returns where thread's retained records are.
func (c *Catalog) Locate(thread string) Location {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.runs[thread]
	if e == nil || e.sum.FirstOffset < 0 {
		return Location{}
	}
	s := &e.sum
	return Location{Partition: s.Partition, FirstOffset: s.FirstOffset, LastOffset: s.LastOffset,
		FirstSeq: s.FirstSeq, LastSeq: s.LastSeq, MessageCount: s.MessageCount, FirstTrimmed: s.Trimmed, Present: true}
}

// Stats returns the catalog's counters.
func (c *Catalog) Stats() Stats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := c.stats
	st.Runs = len(c.runs)
	st.Building = c.building
	for _, e := range c.runs {
		st.Bytes += int64(e.size())
	}
	return st
}

// Building reports whether the rebuild is still reading the history that
// was retained when it started.
func (c *Catalog) Building() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.building
}

// evictedSet remembers the runs evicted by count (hashes of their thread
// ids, the most recent n), so their later records do not bring back a
// fragment of them. It is bounded like the catalog itself.
type evictedSet struct {
	seed  maphash.Seed
	set   map[uint64]struct{}
	ring  []uint64
	next  int
	limit int
}

func newEvictedSet(n int) evictedSet {
	return evictedSet{seed: maphash.MakeSeed(), set: map[uint64]struct{}{}, limit: max(1, min(n, maxEvicted))}
}

// maxEvicted bounds the evicted runs remembered.
const maxEvicted = 100_000

func (s *evictedSet) add(thread string) {
	h := maphash.String(s.seed, thread)
	if _, ok := s.set[h]; ok {
		return
	}
	if len(s.ring) < s.limit {
		s.ring = append(s.ring, h)
	} else {
		delete(s.set, s.ring[s.next])
		s.ring[s.next] = h
		s.next = (s.next + 1) % len(s.ring)
	}
	s.set[h] = struct{}{}
}

func (s *evictedSet) has(thread string) bool {
	if len(s.set) == 0 {
		return false
	}
	_, ok := s.set[maphash.String(s.seed, thread)]
	return ok
}

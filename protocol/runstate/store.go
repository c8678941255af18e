package runstate

import (
	"cmp"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// Store holds the runs rebuilt from a stream of messages. It is not safe for
// concurrent use; see the package documentation.
type Store struct {
	cfg     Config
	runs    map[string]*Run
	pins    map[string]bool
	waiting map[*Run]struct{} // runs with messages in their reorder window
	unbound []UnboundMessage
	schemas schemaObservations
	stats   Stats
	zstd    *zstd.Decoder
	// hasher hashes states along each run's statehash.Chain, within
	// MaxHashCacheBytes over all runs.
	hasher statehash.Hasher

	// Per-call scratch: the expanded items, the dispositions counted, the
	// runs changed and evicted.
	items   []item
	counts  [Invalid + 1]int
	changed []string
	evicted []string
	call    uint64
	active  uint64

	// afterProcess, when set (by tests), is called after each message is
	// processed into a run.
	afterProcess func(r *Run, seq uint64)
}

// NewStore returns an empty store bounded by cfg (zero fields take their
// defaults).
func NewStore(cfg Config) *Store {
	s := &Store{
		cfg:     cfg.withDefaults(),
		runs:    make(map[string]*Run),
		pins:    make(map[string]bool),
		waiting: make(map[*Run]struct{}),
	}
	s.hasher.MaxBytes = s.cfg.MaxHashCacheBytes
	return s
}

// Config returns the store's effective configuration.
func (s *Store) Config() Config { return s.cfg }

// Apply processes one decoded message. Dedupe happens before anything is
// mutated; messages ahead of their turn wait; an EventBatch's inner events
// are processed one by one, each under its own header.
func (s *Store) Apply(msg *pb.DashStreamMessage, meta Meta) Outcome {
	s.begin()
	s.items = expand(s.items[:0], msg, meta)
	if len(s.items) == 0 {
		s.stats.Invalid++
		s.counts[Invalid]++
		return s.end(Invalid)
	}
	s.stats.Messages++
	var own Disposition
	anyApplied, anyBuffered := false, false
	for i := range s.items {
		d := s.route(&s.items[i])
		if i == 0 {
			own = d
		}
		anyApplied = anyApplied || d == Applied
		anyBuffered = anyBuffered || d == Buffered
	}
	clear(s.items) // do not pin messages through the scratch slice
	switch {
	case anyBuffered:
		own = Buffered
	case anyApplied:
		own = Applied
	}
	return s.end(own)
}

// route sends one item to its run (or to the quarantine) and returns its
// disposition; Applied items were counted by process.
func (s *Store) route(it *item) Disposition {
	var d Disposition
	switch {
	case it.kind == KindUnknown:
		d = Invalid
		s.stats.Invalid++
	case it.thread == "":
		s.quarantine(it)
		d = Unbound
	default:
		r := s.runFor(it.thread, it.meta.Received)
		r.lastArrival = nanos(it.meta.Received)
		s.active++
		r.active = s.active
		if it.seq != 0 {
			d = s.sequenced(r, it)
			break
		}
		if r.seq.seenID(it.id, s.cfg.MaxMessageIDs) {
			d = Duplicate
		} else {
			s.process(r, it)
			d = Applied
		}
		if len(r.seq.pending) > 0 {
			s.enforceWindow(r, it.meta.Received) // time passes for the window too
		}
	}
	switch d {
	case Applied:
	case Duplicate:
		s.stats.Duplicates++
		s.counts[d]++
	case Stale:
		s.stats.Stale++
		s.counts[d]++
	case Buffered:
		s.stats.Buffered++
		s.counts[d]++
	default:
		s.counts[d]++
	}
	return d
}

func (s *Store) begin() {
	s.call++
	s.counts = [Invalid + 1]int{}
	s.changed, s.evicted = nil, nil
}

func (s *Store) end(own Disposition) Outcome {
	return Outcome{Disposition: own, Counts: s.counts, Changed: s.changed, Evicted: s.evicted}
}

func (s *Store) markChanged(r *Run) {
	if r.changedIn != s.call {
		r.changedIn = s.call
		s.changed = append(s.changed, r.thread)
	}
}

// runFor returns the thread's run, creating it (and evicting the least
// recently active unpinned run if the store is full).
func (s *Store) runFor(thread string, now time.Time) *Run {
	if r, ok := s.runs[thread]; ok {
		return r
	}
	for len(s.runs) >= s.cfg.MaxRuns {
		if !s.evictOne() {
			break // every run is pinned: keep them all
		}
	}
	r := newRun(thread, &s.cfg)
	r.firstArrival = nanos(now)
	s.runs[thread] = r
	return r
}

func (s *Store) evictOne() bool {
	var victim *Run
	for _, r := range s.runs {
		if s.pins[r.thread] {
			continue
		}
		if victim == nil || r.active < victim.active {
			victim = r
		}
	}
	if victim == nil {
		return false
	}
	s.remove(victim)
	s.evicted = append(s.evicted, victim.thread)
	s.changed = slices.DeleteFunc(s.changed, func(t string) bool { return t == victim.thread })
	s.stats.EvictedRuns++
	return true
}

func (s *Store) remove(r *Run) {
	delete(s.runs, r.thread)
	delete(s.waiting, r)
	s.hasher.Release(&r.chain)
}

// Tick declares the holes whose reorder window has waited ReorderMaxAge by
// now, so an age bound fires even when no further message arrives.
func (s *Store) Tick(now time.Time) Outcome {
	s.begin()
	for _, r := range s.waitingRuns() {
		s.enforceWindow(r, now)
	}
	return s.end(Applied)
}

// waitingRuns returns the runs with waiting messages in a stable order.
func (s *Store) waitingRuns() []*Run {
	runs := make([]*Run, 0, len(s.waiting))
	for r := range s.waiting {
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b *Run) int { return cmp.Compare(a.thread, b.thread) })
	return runs
}

// PendingFloor returns the lowest Kafka offset of the given partition still
// waiting in a reorder window. A caller must not commit an offset at or
// above it: the message there is not applied yet. ok is false when nothing
// of that partition waits.
func (s *Store) PendingFloor(partition int32) (offset int64, ok bool) {
	for r := range s.waiting {
		for _, w := range r.seq.pending {
			if w.it.meta.Partition == partition && w.it.meta.Offset >= 0 && (!ok || w.it.meta.Offset < offset) {
				offset, ok = w.it.meta.Offset, true
			}
		}
	}
	return offset, ok
}

// Run returns the run of a thread, or nil.
func (s *Store) Run(thread string) *Run { return s.runs[thread] }

// Runs returns the runs, most recently started first (producer start time,
// then first arrival, then thread id).
func (s *Store) Runs() []*Run {
	out := make([]*Run, 0, len(s.runs))
	for _, r := range s.runs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Run) int {
		if c := cmp.Compare(b.startTime, a.startTime); c != 0 {
			return c
		}
		if c := cmp.Compare(b.firstArrival, a.firstArrival); c != 0 {
			return c
		}
		return cmp.Compare(a.thread, b.thread)
	})
	return out
}

// StateAt rebuilds a thread's state right after sequence seq (see
// Run.StateAt).
func (s *Store) StateAt(thread string, seq uint64) (*jsontree.Node, error) {
	r := s.runs[thread]
	if r == nil {
		return nil, ErrNoRun
	}
	return r.StateAt(seq)
}

// Pin protects a thread's run (the one on screen) from eviction, now or
// when it is created later.
func (s *Store) Pin(thread string) { s.pins[thread] = true }

// Unpin lets a thread's run be evicted again.
func (s *Store) Unpin(thread string) { delete(s.pins, thread) }

// Pinned reports whether a thread is pinned.
func (s *Store) Pinned(thread string) bool { return s.pins[thread] }

// Unbound returns the messages that had no thread_id, oldest first.
func (s *Store) Unbound() []UnboundMessage { return slices.Clone(s.unbound) }

// SchemaObservations returns the schema ids seen, most recently seen first.
func (s *Store) SchemaObservations() []SchemaObservation { return s.schemas.list() }

// MarkQuarantined marks the runs of the given threads as having lost
// messages (a server gap or cursor_stale that can touch them): their state
// is untrusted until a full state, a checkpoint or a hash-verified change.
// Threads without a run are ignored.
func (s *Store) MarkQuarantined(threads []string, reason string, now time.Time) Outcome {
	s.begin()
	for _, t := range threads {
		if r := s.runs[t]; r != nil {
			s.serverGap(r, reason, now)
		}
	}
	return s.end(Applied)
}

// QuarantineAll marks every run, running or not, as MarkQuarantined does:
// for a loss whose scope is unknown.
func (s *Store) QuarantineAll(reason string, now time.Time) Outcome {
	s.begin()
	for _, r := range s.sortedRuns() {
		s.serverGap(r, reason, now)
	}
	return s.end(Applied)
}

func (s *Store) serverGap(r *Run, reason string, now time.Time) {
	if reason == "" {
		reason = "the server reported lost messages"
	}
	r.problem(&s.cfg, Problem{Kind: ProblemServerGap, Reason: boundString(reason, s.cfg.MaxAttrChars), At: now})
	s.markChanged(r)
}

func (s *Store) sortedRuns() []*Run {
	out := make([]*Run, 0, len(s.runs))
	for _, r := range s.runs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Run) int { return cmp.Compare(a.thread, b.thread) })
	return out
}

// ReplayRequest names a run whose state needs the server to replay it.
type ReplayRequest struct {
	Thread string
	// LastSeq is the last sequence the run processed.
	LastSeq uint64
	// FromStart: the run never had a base state (it was joined
	// mid-stream), so only a replay from its first message (after
	// ResetRun) rebuilds it.
	FromStart bool
	Pinned    bool
	Reason    string
}

// RunsNeedingReplay lists the runs whose state is untrusted, and those
// joined mid-stream without a base state: pinned runs first, then the most
// recently active.
func (s *Store) RunsNeedingReplay() []ReplayRequest {
	type candidate struct {
		req    ReplayRequest
		active uint64
	}
	var cands []candidate
	for _, r := range s.runs {
		var req ReplayRequest
		switch {
		case r.integ.untrusted():
			req = ReplayRequest{Reason: r.integ.snapshot().Reason}
		case !r.integ.hasBase && r.seq.started && r.seq.first > 1:
			req = ReplayRequest{FromStart: true, Reason: "joined mid-stream: no base state yet"}
		default:
			continue
		}
		req.Thread, req.LastSeq, req.Pinned = r.thread, r.seq.last, s.pins[r.thread]
		cands = append(cands, candidate{req, r.active})
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		if a.req.Pinned != b.req.Pinned {
			if a.req.Pinned {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.active, a.active)
	})
	out := make([]ReplayRequest, len(cands))
	for i, c := range cands {
		out[i] = c.req
	}
	return out
}

// ResetRun forgets everything about a thread's run except that it exists
// (and its pin), so that a replay rebuilds it: the next sequence expected is
// fromSeq (0 and 1 both mean the start); earlier ones are stale and later
// ones wait in the window. It reports whether the run existed.
func (s *Store) ResetRun(thread string, fromSeq uint64) bool {
	old := s.runs[thread]
	if old == nil {
		return false
	}
	delete(s.waiting, old)
	s.hasher.Release(&old.chain)
	r := newRun(thread, &s.cfg)
	r.firstArrival, r.lastArrival, r.active = old.firstArrival, old.lastArrival, old.active
	fromSeq = max(fromSeq, 1)
	r.seq = sequencer{started: true, first: fromSeq, last: fromSeq - 1}
	s.runs[thread] = r
	return true
}

// Clear drops every run and the unbound list (a cursor reset). Pins,
// schema observations and counters stay.
func (s *Store) Clear() {
	s.runs = make(map[string]*Run)
	s.hasher.Forget()
	s.waiting = make(map[*Run]struct{})
	s.unbound = nil
}

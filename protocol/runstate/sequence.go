package runstate

import (
	"fmt"
	"slices"
	"time"
)

// sequencer orders one thread's messages: dedupe, the reorder window and
// hole detection. It decides; Store.process applies.
type sequencer struct {
	started bool   // the baseline is known
	first   uint64 // the baseline: the first sequence processed
	last    uint64 // highest sequence processed or skipped by a declared hole
	// pending holds messages ahead of their turn, ascending by sequence.
	pending []waiting
	// ids remembers message_ids of unsequenced messages (bounded, oldest
	// forgotten first).
	ids     map[string]struct{}
	idOrder []string
}

type waiting struct {
	it      item
	arrived int64 // local nanoseconds
}

// seenID records an unsequenced message's id and reports whether it was
// already known. Messages without an id cannot be deduplicated.
func (q *sequencer) seenID(id string, limit int) bool {
	if id == "" {
		return false
	}
	if _, ok := q.ids[id]; ok {
		return true
	}
	if q.ids == nil {
		q.ids = make(map[string]struct{})
	}
	if len(q.idOrder) >= limit {
		delete(q.ids, q.idOrder[0])
		q.idOrder = append(q.idOrder[:0], q.idOrder[1:]...)
	}
	q.ids[id] = struct{}{}
	q.idOrder = append(q.idOrder, id)
	return false
}

// pendingIndex returns where seq is or would be in the window.
func (q *sequencer) pendingIndex(seq uint64) (int, bool) {
	return slices.BinarySearchFunc(q.pending, seq, func(w waiting, s uint64) int {
		switch {
		case w.it.seq < s:
			return -1
		case w.it.seq > s:
			return 1
		}
		return 0
	})
}

// oldestArrival returns the earliest arrival time in the window.
func (q *sequencer) oldestArrival() int64 {
	oldest := q.pending[0].arrived
	for _, w := range q.pending[1:] {
		oldest = min(oldest, w.arrived)
	}
	return oldest
}

// sequenced routes a message with a real sequence through dedupe and the
// reorder window of its run.
func (s *Store) sequenced(r *Run, it *item) Disposition {
	q := &r.seq
	if !q.started && it.seq == 1 {
		// Nothing precedes a run's first message.
		q.started, q.first, q.last = true, 1, 0
	}
	if q.started && it.seq <= q.last {
		return s.behind(r, it)
	}
	if i, found := q.pendingIndex(it.seq); found {
		if collides(q.pending[i].it.id, it.id) {
			s.collision(r, it)
			return Collision
		}
		return Duplicate
	} else if !q.started || it.seq != q.last+1 {
		q.pending = slices.Insert(q.pending, i, waiting{it: *it, arrived: nanos(it.meta.Received)})
		s.waiting[r] = struct{}{}
		s.enforceWindow(r, it.meta.Received)
		if _, still := q.pendingIndex(it.seq); still {
			return Buffered
		}
		return Applied // released (and counted) by a hole declared just now
	}
	s.process(r, it)
	q.last = it.seq
	s.drain(r)
	s.enforceWindow(r, it.meta.Received)
	return Applied
}

// behind classifies a message at or below its thread's last sequence. It
// mutates nothing, except that a collision is recorded as an event.
func (s *Store) behind(r *Run, it *item) Disposition {
	q := &r.seq
	if it.seq < q.first || r.inGap(it.seq) {
		return Stale
	}
	if ev := r.findEvent(it.seq); ev != nil && collides(ev.MessageID, it.id) {
		s.collision(r, it)
		return Collision
	}
	return Duplicate
}

// collides reports whether two messages with the same sequence are
// different messages: both carry a message_id and the ids differ.
func collides(a, b string) bool { return a != "" && b != "" && a != b }

// drain applies the waiting messages that are now in turn.
func (s *Store) drain(r *Run) {
	q := &r.seq
	n := 0
	for n < len(q.pending) && q.pending[n].it.seq == q.last+1 {
		w := &q.pending[n]
		s.process(r, &w.it)
		q.last = w.it.seq
		n++
	}
	q.pending = shiftOut(q.pending, n)
	if len(q.pending) == 0 {
		delete(s.waiting, r)
	}
}

// enforceWindow declares holes while the window holds too many messages or
// its oldest has waited too long.
func (s *Store) enforceWindow(r *Run, now time.Time) {
	q := &r.seq
	if !q.started {
		// A new thread's first messages wait BaselineWait for earlier ones
		// (a GraphStart overtaken by its run's next messages); then the
		// lowest one is the baseline. Joining mid-stream is not a gap.
		if len(q.pending) == 0 || (len(q.pending) <= s.cfg.ReorderWindow &&
			nanos(now)-q.oldestArrival() < int64(s.cfg.BaselineWait)) {
			return
		}
		q.started, q.first, q.last = true, q.pending[0].it.seq, q.pending[0].it.seq-1
		s.drain(r)
	}
	for len(q.pending) > 0 && (len(q.pending) > s.cfg.ReorderWindow ||
		nanos(now)-q.oldestArrival() >= int64(s.cfg.ReorderMaxAge)) {
		why := fmt.Sprintf("the reorder window (%d messages)", s.cfg.ReorderWindow)
		if len(q.pending) <= s.cfg.ReorderWindow {
			why = s.cfg.ReorderMaxAge.String()
		}
		s.declareHole(r, q.pending[0].it.seq-1, why, now)
		s.drain(r)
	}
}

// declareHole gives up on the sequences after last up to upTo: the run gets a
// gap mark (its state is untrusted from now on), and those sequences are
// stale if they ever arrive.
func (s *Store) declareHole(r *Run, upTo uint64, why string, now time.Time) {
	q := &r.seq
	from := q.last + 1
	r.integ.addGap(s.cfg.MaxProblemsPerRun, Gap{From: from, To: upTo})
	missing := fmt.Sprintf("sequence %d", from)
	if upTo > from {
		missing = fmt.Sprintf("sequences %d–%d (%d messages)", from, upTo, upTo-from+1)
	}
	r.problem(&s.cfg, Problem{
		Kind:   ProblemLocalGap,
		Seq:    from,
		Reason: fmt.Sprintf("missing %s: not received within %s", missing, why),
		At:     now,
	})
	q.last = upTo
	s.stats.Holes++
	s.markChanged(r)
}

// inGap reports whether seq lies in a declared hole.
func (r *Run) inGap(seq uint64) bool {
	for _, g := range r.integ.gaps {
		if seq >= g.From && seq <= g.To {
			return true
		}
	}
	return false
}

// findEvent returns the logged event with sequence seq, if still kept.
func (r *Run) findEvent(seq uint64) *Event {
	i := r.events.search(func(e *Event) bool { return e.Order >= seq })
	for ; i < r.events.len(); i++ {
		e := r.events.at(i)
		if e.Order != seq {
			break
		}
		if e.Seq == seq {
			return e
		}
	}
	return nil
}

// nanos returns t in nanoseconds since the epoch, 0 for the zero time (whose
// UnixNano is undefined).
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

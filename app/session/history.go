package session

import (
	"fmt"
	"slices"
	"time"
)

// history is what the session knows of a followed run's history; s.mu
// guards it. A run is complete once a thread replay has brought it from
// its first retained message; any later replay of it (a heal after a gap)
// makes it incomplete again until that one is done too.
type history struct {
	complete      bool
	missingBefore uint64
	attempts      int
	err           string
	// retryAt is when a replay that left the run incomplete is asked
	// again (zero: none due).
	retryAt time.Time
	// lastFirst is the first sequence the last replay brought; same counts
	// the replays in a row that started there.
	lastFirst uint64
	same      int
}

// maxSameStart is how many replays in a row may start at the same
// sequence, with no gap reported before it, before the session takes the
// server at its word: the earlier sequences are not retained (an upstream
// server behind the proxy reports no thread gaps).
const maxSameStart = 3

// replaying notes that the thread replays of batch are about to start: the
// followed ones are not complete until they end. s.mu held.
func (s *Session) replaying(batch []string) {
	for _, t := range batch {
		if h := s.hist[t]; h != nil {
			h.complete = false
			h.attempts++
			h.retryAt = time.Time{}
		}
	}
}

// replayed judges the followed runs of a finished (uncapped) thread replay:
// complete when the run now starts at its first retained sequence, asked
// again after a back-off otherwise. s.mu held.
func (s *Session) replayed(done []string, now time.Time) {
	for _, t := range done {
		h := s.hist[t]
		if h == nil {
			continue
		}
		// first is 0 when the replay brought nothing of the thread.
		var first uint64
		if r := s.store.Run(t); r != nil && r.Processed() > 0 {
			first = max(r.Summary().FirstSeq, 1)
		}
		if first == h.lastFirst {
			h.same++
		} else {
			h.lastFirst, h.same = first, 1
		}
		switch {
		case first != 0 && first <= h.missingBefore+1:
			h.complete, h.err = true, ""
		case first == 0 && h.same >= maxSameStart:
			// Asked enough: the server retains nothing of this thread.
			h.complete, h.err = true, ""
		case h.same >= maxSameStart:
			h.missingBefore = first - 1
			h.complete, h.err = true, ""
		case first == 0:
			h.err = "the server sent nothing of this run; asking again"
			h.retryAt = now.Add(s.retryDelay(h.attempts))
		default:
			h.err = fmt.Sprintf("the replay brought the run from sequence %d, not from its start; asking again", first)
			h.retryAt = now.Add(s.retryDelay(h.attempts))
		}
	}
}

// leadingGap handles a thread gap the server reports before anything else
// of an in-flight thread replay from the start: the run's first sequences
// left retention. The run then starts right after them (rather than
// waiting for them in its reorder window), and a followed run records
// what is gone. The run is still marked as having lost messages.
func (s *Session) leadingGap(thread string, from, to uint64) {
	if !slices.Contains(s.heal.inflight, thread) || s.heal.fromSeq[thread] != 0 || from > 1 || to < from {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store.ResetRun(thread, to+1)
	if h := s.hist[thread]; h != nil {
		h.missingBefore = max(h.missingBefore, to)
	}
}

// dueRetries returns the followed threads whose replay is due again.
func (s *Session) dueRetries(now time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t, h := range s.hist {
		if !h.complete && !h.retryAt.IsZero() && !now.Before(h.retryAt) && !s.heal.busy(t) {
			h.retryAt = time.Time{}
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// retryDelay is the wait before the next replay of a followed run.
func (s *Session) retryDelay(attempts int) time.Duration {
	return min(30*time.Second, s.cfg.HistoryRetry<<min(max(attempts-1, 0), 5))
}

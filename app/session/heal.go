package session

import (
	"slices"

	"github.com/dashstream/dashstream/protocol/control"
)

// healer schedules thread replays: the runs a gap may have touched
// (M-711), and the run Follow wants complete. One thread-mode resume is in
// flight at a time, because the server's replay_complete for thread mode
// does not say which threads it answers; the rest wait in order.
type healer struct {
	queued   []string
	inflight []string
	// fromSeq holds, for a capped replay, where each thread resumes;
	// absent means from the start (after ResetRun).
	fromSeq map[string]uint64
}

// add queues threads (front: ahead of the others, for the run on screen),
// skipping those already queued or in flight.
func (h *healer) add(threads []string, front bool) {
	var fresh []string
	for _, t := range threads {
		if t == "" || slices.Contains(h.inflight, t) || slices.Contains(h.queued, t) || slices.Contains(fresh, t) {
			continue
		}
		fresh = append(fresh, t)
	}
	if front {
		h.queued = append(fresh, h.queued...)
	} else {
		h.queued = append(h.queued, fresh...)
	}
}

// busy reports whether a thread is being replayed or waits to be.
func (h *healer) busy(t string) bool {
	return slices.Contains(h.inflight, t) || slices.Contains(h.queued, t)
}

// next takes the next batch when nothing is in flight; the caller resets
// the runs and sends the request.
func (h *healer) next(batch int) []string {
	if len(h.inflight) > 0 || len(h.queued) == 0 {
		return nil
	}
	n := min(batch, len(h.queued))
	h.inflight = append([]string(nil), h.queued[:n]...)
	h.queued = h.queued[n:]
	return h.inflight
}

// request builds the thread-mode resume for the in-flight batch.
func (h *healer) request() *control.Resume {
	seqs := make(map[string]uint64, len(h.inflight))
	for _, t := range h.inflight {
		seqs[t] = h.fromSeq[t] // 0: from the first sequence
	}
	return control.NewThreadResume(seqs)
}

// done ends the in-flight replay.
func (h *healer) done() []string {
	d := h.inflight
	h.inflight = nil
	for _, t := range d {
		delete(h.fromSeq, t)
	}
	return d
}

// requeue puts the in-flight batch back in front (its connection ended
// before the replay finished).
func (h *healer) requeue() {
	for _, t := range h.inflight {
		delete(h.fromSeq, t) // a new connection rebuilds the run from its start
	}
	h.queued = append(h.inflight, h.queued...)
	h.inflight = nil
}

// all lists the threads being replayed or waiting, for Health.
func (h *healer) all() []string {
	return append(append([]string(nil), h.inflight...), h.queued...)
}

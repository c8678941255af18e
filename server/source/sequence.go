package source

import (
	"slices"
	"sync"

	"github.com/dashstream/dashstream/server/metrics"
)

// sequenceValidator counts per-thread gaps, duplicates and reorders at ingest
// (metrics only; clients learn about holes from their own run stores). The
// first sequence seen of a thread is its baseline, so a restart mid-stream
// reports no false gap (M-1114). It tracks at most max threads, forgetting
// the least recently seen in batches.
type sequenceValidator struct {
	max  int
	m    *metrics.Gateway
	mu   sync.Mutex
	next map[string]uint64 // expected next sequence
	seen map[string]uint64 // tick of last use, for pruning
	tick uint64
}

func newSequenceValidator(max int, m *metrics.Gateway) *sequenceValidator {
	return &sequenceValidator{max: max, m: m, next: map[string]uint64{}, seen: map[string]uint64{}}
}

func (v *sequenceValidator) observe(thread string, seq uint64) {
	if thread == "" || seq == 0 {
		return // sequence 0 means "not sequenced"
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.tick++
	v.seen[thread] = v.tick
	want, known := v.next[thread]
	switch {
	case !known || seq == want:
		v.next[thread] = seq + 1
	case seq > want:
		v.m.SequenceGaps.Inc()
		v.m.SequenceGapSize.Observe(float64(seq - want))
		v.next[thread] = seq + 1
	case seq == want-1:
		v.m.SequenceDuplicates.Inc()
	default:
		v.m.SequenceReorders.Inc()
	}
	if len(v.next) > v.max {
		v.prune()
	}
}

// prune forgets the least recently seen tenth of the threads.
func (v *sequenceValidator) prune() {
	ticks := make([]uint64, 0, len(v.seen))
	for _, t := range v.seen {
		ticks = append(ticks, t)
	}
	slices.Sort(ticks)
	cut := ticks[len(ticks)/10]
	for th, t := range v.seen {
		if t <= cut {
			delete(v.seen, th)
			delete(v.next, th)
		}
	}
}

// skipLog remembers recently skipped offsets (tombstones, undecodable
// records) per partition, so a replay that finds a hole in the store can tell
// "nothing forwardable was there" from "data was lost" without asking Kafka.
type skipLog struct {
	max int
	mu  sync.Mutex
	per map[int32][]int64 // ascending
	n   int
}

func newSkipLog(max int) *skipLog { return &skipLog{max: max, per: map[int32][]int64{}} }

func (l *skipLog) add(p int32, offset int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.per[p] = append(l.per[p], offset)
	l.n++
	if l.n > l.max { // forget the oldest half of the largest partition
		var big int32
		for q, offs := range l.per {
			if len(offs) > len(l.per[big]) {
				big = q
			}
		}
		drop := len(l.per[big]) / 2
		l.per[big] = slices.Delete(l.per[big], 0, drop)
		l.n -= drop
	}
}

// covers reports whether every offset in [from, to] is a known skip.
func (l *skipLog) covers(p int32, from, to int64) bool {
	if to < from {
		return true
	}
	if to-from > int64(l.max) {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	offs := l.per[p]
	i, found := slices.BinarySearch(offs, from)
	if !found {
		return false
	}
	for o := from; o <= to; o, i = o+1, i+1 {
		if i >= len(offs) || offs[i] != o {
			return false
		}
	}
	return true
}

package memory

import "sync/atomic"

// counters are updated without the ring's lock held exclusively (reads hold
// only the read lock), hence atomics.
type counters struct {
	appended, duplicates, evicted atomic.Uint64
	stale, belowHeld, tooLarge    atomic.Uint64
	hits, misses                  atomic.Uint64
}

// Stats is a snapshot of the ring's size and counters.
type Stats struct {
	// Records and Bytes are what the ring holds now (Bytes counts values).
	Records int
	Bytes   int64
	// Partitions and Threads count the partitions and threads indexed.
	Partitions, Threads int

	// Appended counts records stored; Duplicates, appends of an offset
	// already held.
	Appended, Duplicates uint64
	// Evicted counts records removed to stay within the bounds.
	Evicted uint64
	// Stale counts appends at or below an offset already evicted from that
	// partition; BelowHeld, AppendFront calls below the held range;
	// TooLarge, values larger than MaxBytes. None of them is stored.
	Stale, BelowHeld, TooLarge uint64
	// Hits counts reads that returned records, Misses reads that returned
	// none.
	Hits, Misses uint64
}

// Stats returns a snapshot. Counters are read one by one, so a snapshot
// taken during appends may be off by the appends in flight.
func (r *Ring) Stats() Stats {
	r.mu.RLock()
	s := Stats{Records: r.count, Bytes: r.bytes, Partitions: len(r.parts), Threads: len(r.threads)}
	r.mu.RUnlock()
	s.Appended = r.c.appended.Load()
	s.Duplicates = r.c.duplicates.Load()
	s.Evicted = r.c.evicted.Load()
	s.Stale = r.c.stale.Load()
	s.BelowHeld = r.c.belowHeld.Load()
	s.TooLarge = r.c.tooLarge.Load()
	s.Hits = r.c.hits.Load()
	s.Misses = r.c.misses.Load()
	return s
}

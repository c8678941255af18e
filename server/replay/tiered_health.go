package replay

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Health is the state of a Tiered store's durable tier, for /health.
type Health struct {
	// DurableOK is false while the durable store is unreachable: the last
	// write, read or probe failed to reach it. Ingest and memory reads go
	// on regardless; /health should report "degraded".
	DurableOK bool
	// Since is when DurableOK last changed (or the store started).
	Since time.Time
	// LastError and LastErrorAt describe the latest durable failure; empty
	// if there was none.
	LastError   string
	LastErrorAt time.Time
}

// TieredStats is a snapshot of a Tiered store's counters.
type TieredStats struct {
	Health Health

	// Queued is the number of records waiting for the durable store, out
	// of QueueCapacity; QueuedBytes, the value bytes not yet written
	// (queued or in the batch being written).
	Queued, QueueCapacity int
	QueuedBytes           int64
	// Written counts records written to the durable store, in Batches
	// round trips.
	Written, Batches uint64
	// WriteDropped counts records never written to the durable store: the
	// queue was full, the write failed for good, or Close gave up.
	WriteDropped uint64
	// WriteFailures counts failed batch attempts (a batch retried three
	// times while Redis is down counts three).
	WriteFailures uint64
	// WriteCleared counts queued records discarded by Clear.
	WriteCleared uint64
	// FrontSkipped counts appends the front did not store because they
	// were below its range (they went to the durable store only).
	FrontSkipped uint64

	// MemoryHits counts reads answered, wholly or partly, from memory.
	MemoryHits uint64
	// DurableHits and DurableMisses count durable reads that returned
	// records and that returned none; DurableErrors, durable operations
	// that failed or were skipped because the store was unreachable.
	DurableHits, DurableMisses, DurableErrors uint64
}

type tieredCounters struct {
	written, batches, dropped, failures, cleared, frontSkipped atomic.Uint64
	memoryHits, durableHits, durableMisses, durableErrors      atomic.Uint64
	// dropWarned limits the queue-full warning to once per episode.
	dropWarned atomic.Bool
}

// Health reports the durable tier's state.
func (t *Tiered) Health() Health { return t.health.snapshot() }

// Stats returns a snapshot of the counters.
func (t *Tiered) Stats() TieredStats {
	return TieredStats{
		Health:        t.health.snapshot(),
		Queued:        len(t.queue),
		QueueCapacity: cap(t.queue),
		QueuedBytes:   t.queuedBytes.Load(),
		Written:       t.c.written.Load(),
		Batches:       t.c.batches.Load(),
		WriteDropped:  t.c.dropped.Load(),
		WriteFailures: t.c.failures.Load(),
		WriteCleared:  t.c.cleared.Load(),
		FrontSkipped:  t.c.frontSkipped.Load(),
		MemoryHits:    t.c.memoryHits.Load(),
		DurableHits:   t.c.durableHits.Load(),
		DurableMisses: t.c.durableMisses.Load(),
		DurableErrors: t.c.durableErrors.Load(),
	}
}

// healthState tracks reachability and logs each transition once.
type healthState struct {
	log *slog.Logger
	// ok mirrors h.DurableOK for the lock-free fast path of succeeded.
	ok atomic.Bool
	mu sync.Mutex
	h  Health
}

func (s *healthState) init(log *slog.Logger) {
	s.log = log
	s.h = Health{DurableOK: true, Since: time.Now()}
	s.ok.Store(true)
}

func (s *healthState) snapshot() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.h
}

func (s *healthState) succeeded() {
	if s.ok.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h.DurableOK {
		return
	}
	now := time.Now()
	s.log.Info("replay: durable store reachable again", "down_for", now.Sub(s.h.Since).Round(time.Millisecond))
	s.h.DurableOK, s.h.Since = true, now
	s.ok.Store(true)
}

func (s *healthState) failed(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.h.LastError, s.h.LastErrorAt = err.Error(), now
	if !s.h.DurableOK {
		return
	}
	s.log.Warn("replay: durable store unreachable; serving replay from memory", "err", err)
	s.h.DurableOK, s.h.Since = false, now
	s.ok.Store(false)
}

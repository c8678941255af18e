package replay

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// writeItem is a queued record, or a flush marker (flushed != nil) that the
// writer closes once everything queued before it was written or dropped.
type writeItem struct {
	rec     Record
	gen     uint64
	flushed chan struct{}
}

// ErrClosed is returned by Flush after Close.
var ErrClosed = errors.New("replay tiered: closed")

// enqueue hands rec to the writer without ever blocking.
func (t *Tiered) enqueue(rec Record) {
	if t.closed.Load() {
		t.c.dropped.Add(1)
		return
	}
	size := int64(len(rec.Value))
	if t.queuedBytes.Add(size) <= t.cfg.QueueBytes {
		select {
		case t.queue <- writeItem{rec: rec, gen: t.gen.Load()}:
			return
		default:
		}
	}
	t.queuedBytes.Add(-size)
	t.c.dropped.Add(1)
	if t.c.dropWarned.CompareAndSwap(false, true) {
		t.log.Warn("replay: durable write queue full; records stay in memory only until it drains",
			"queue_size", t.cfg.QueueSize, "queue_bytes", t.cfg.QueueBytes)
	}
}

// valueBytes is items' share of the queue's byte bound. The share is
// returned once the items are written, dropped or cleared, not when they
// leave the queue, so that the bound also covers the batch the writer holds
// while the durable store hangs.
func valueBytes(items []writeItem) int64 {
	var n int64
	for _, it := range items {
		n += int64(len(it.rec.Value))
	}
	return n
}

// Flush waits until every record appended before the call was written to
// the durable store or dropped. Tests and shutdown use it; ingest never
// needs to.
func (t *Tiered) Flush(ctx context.Context) error {
	marker := writeItem{flushed: make(chan struct{})}
	select {
	case t.queue <- marker:
	case <-t.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("replay tiered: flush: queue full: %w", ctx.Err())
	}
	select {
	case <-marker.flushed:
		return nil
	case <-t.done:
		// The writer closes every marker it dequeues; one left in the
		// queue after it exited is never closed.
		select {
		case <-marker.flushed:
			return nil
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return fmt.Errorf("replay tiered: flush: %w", ctx.Err())
	}
}

// Close stops the writer after it has written what is queued, or, when ctx
// ends first, abandons the rest (counted as dropped). Reads keep working
// after Close; appends reach the front only. Close does not close the
// stores, which the caller owns.
func (t *Tiered) Close(ctx context.Context) error {
	t.closing.Do(func() {
		t.closed.Store(true)
		close(t.stopping)
	})
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		t.cancel()
		// Every write and wait of the writer watches t.abort, so it exits
		// promptly now.
		<-t.done
		return fmt.Errorf("replay tiered: close: stopped before the queue drained: %w", ctx.Err())
	}
}

// run is the writer goroutine, owned by the Tiered store and stopped by
// Close.
func (t *Tiered) run() {
	defer close(t.done)
	defer t.cancel()
	probe := time.NewTicker(t.cfg.MaxBackoff)
	defer probe.Stop()
	batch := make([]writeItem, 0, t.cfg.BatchSize)
	t.probe() // so Health is accurate from the start
	for {
		select {
		case <-t.stopping:
			t.drain(batch)
			return
		case it := <-t.queue:
			t.handle(it, batch)
		case <-probe.C:
			if !t.health.snapshot().DurableOK {
				t.probe()
			}
		}
	}
}

// handle writes it and whatever else is queued, up to a batch, stopping at
// a flush marker so that the marker is released right after the records
// queued before it.
func (t *Tiered) handle(first writeItem, batch []writeItem) {
	batch = batch[:0]
	var marker chan struct{}
	add := func(it writeItem) bool {
		if it.flushed != nil {
			marker = it.flushed
			return false
		}
		batch = append(batch, it)
		return len(batch) < t.cfg.BatchSize
	}
	if add(first) {
	collect:
		for {
			select {
			case it := <-t.queue:
				if !add(it) {
					break collect
				}
			default:
				break collect
			}
		}
	}
	// write may compact batch in place, so the bytes are summed first.
	n := valueBytes(batch)
	t.write(batch)
	t.queuedBytes.Add(-n)
	if marker != nil {
		close(marker)
	}
	clear(batch) // drop the values' references until the next batch
}

// write writes one batch, retrying with backoff while the durable store is
// unreachable, until it succeeds, fails for another reason, a Clear makes
// it obsolete, or Close gives up.
func (t *Tiered) write(batch []writeItem) {
	backoff := t.cfg.RetryBackoff
	recs := make([]Record, 0, len(batch))
	for len(batch) > 0 {
		var err error
		batch, recs, err = t.attempt(batch, recs)
		switch {
		case len(batch) == 0: // all cleared meanwhile
			return
		case err == nil:
			t.c.written.Add(uint64(len(batch)))
			t.c.batches.Add(1)
			t.c.dropWarned.Store(false)
			t.health.succeeded()
			return
		}
		t.c.failures.Add(1)
		if !errors.Is(err, ErrUnavailable) {
			t.c.dropped.Add(uint64(len(batch)))
			t.errLog.Log("replay: durable write failed; batch dropped", "write", "records", len(batch), "err", err)
			return
		}
		if t.abort.Err() == nil {
			t.health.failed(err)
		}
		timer := time.NewTimer(backoff)
		select {
		case <-timer.C:
		case <-t.abort.Done():
			timer.Stop()
			t.c.dropped.Add(uint64(len(batch)))
			return
		}
		backoff = min(2*backoff, t.cfg.MaxBackoff)
	}
}

// attempt makes one write under the writing lock. Records queued before a
// Clear that has happened since are discarded first (counted as cleared);
// it returns the batch that remains.
func (t *Tiered) attempt(batch []writeItem, recs []Record) ([]writeItem, []Record, error) {
	select {
	case t.writing <- struct{}{}:
	case <-t.abort.Done():
		return batch, recs, fmt.Errorf("%w: closing", ErrUnavailable)
	}
	defer func() { <-t.writing }()
	// Clear bumps gen while holding the lock, so gen is stable here.
	gen := t.gen.Load()
	kept := batch[:0]
	recs = recs[:0]
	for _, it := range batch {
		if it.gen != gen {
			t.c.cleared.Add(1)
			continue
		}
		kept = append(kept, it)
		recs = append(recs, it.rec)
	}
	if len(kept) == 0 {
		return kept, recs, nil
	}
	ctx, cancel := context.WithTimeout(t.abort, t.cfg.WriteTimeout)
	defer cancel()
	start := time.Now()
	err := t.durable.AppendBatch(ctx, recs)
	t.observe("write", start)
	return kept, recs, err
}

// drain writes what is queued at Close, until the queue is empty or Close
// gives up; what is left is counted as dropped.
func (t *Tiered) drain(batch []writeItem) {
	for {
		select {
		case it := <-t.queue:
			if t.abort.Err() != nil {
				t.queuedBytes.Add(-int64(len(it.rec.Value)))
				if it.flushed != nil {
					close(it.flushed)
				} else {
					t.c.dropped.Add(1)
				}
				continue
			}
			t.handle(it, batch)
		default:
			return
		}
	}
}

// probe pings the durable store and records the outcome.
func (t *Tiered) probe() {
	ctx, cancel := context.WithTimeout(t.abort, t.cfg.WriteTimeout)
	defer cancel()
	if err := t.durable.Ping(ctx); err != nil {
		if t.abort.Err() == nil {
			t.health.failed(err)
		}
		return
	}
	t.health.succeeded()
}

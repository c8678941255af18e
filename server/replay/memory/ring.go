// Package memory is the in-memory replay store: a ring bounded by record
// count and by total value bytes, indexed by partition and by thread so
// that every read costs O(log n + k).
//
// The ring shares record Values with its callers (no copy on Append or on
// read): Values are immutable by the replay contract, and the gateway hands
// the same bytes to the broadcast and to every connection.
package memory

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/dashstream/dashstream/server/replay"
)

// Defaults. Upstream kept 1,000 records, which a busy topic replaces in well
// under a second; 10,000 records cover a few seconds of a busy topic or
// minutes of a quiet one, and 64 MiB caps the memory when values are large
// (the decode limit allows 10 MiB values).
const (
	DefaultMaxRecords = 10_000
	DefaultMaxBytes   = 64 << 20
)

// Config bounds a Ring. Zero fields take the defaults.
type Config struct {
	// MaxRecords is the most records the ring holds.
	MaxRecords int
	// MaxBytes is the most value bytes the ring holds. Only len(Value)
	// counts; the per-record bookkeeping (about 150 bytes with its indexes)
	// does not.
	MaxBytes int64
}

func (c Config) withDefaults() (Config, error) {
	if c.MaxRecords < 0 {
		return c, fmt.Errorf("memory ring: MaxRecords %d is negative", c.MaxRecords)
	}
	if c.MaxBytes < 0 {
		return c, fmt.Errorf("memory ring: MaxBytes %d is negative", c.MaxBytes)
	}
	if c.MaxRecords == 0 {
		c.MaxRecords = DefaultMaxRecords
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	return c, nil
}

// entry is one stored record with its arrival stamp.
type entry struct {
	rec   replay.Record
	stamp uint64
}

// threadEntry indexes entry e under one of its threads; idx is the position
// of that thread in e.rec.Threads. Later records held with the same
// (thread, seq), e.g. a producer's retry, wait in shadows, in arrival
// order: ReadThread returns the first, and the next takes its place when it
// is evicted.
type threadEntry struct {
	seq     uint64
	e       *entry
	idx     int
	shadows []threadRef
}

type threadRef struct {
	e   *entry
	idx int
}

// Ring is a bounded in-memory replay.Store and the front tier of
// replay.Tiered. It is safe for concurrent use.
//
// Eviction removes, from the partition whose lowest-offset record arrived
// first, that lowest-offset record. Every partition therefore holds a suffix
// of what was appended to it: once an offset is evicted, appends at or below
// it are ignored (they would have been evicted first), and the ring holds
// every other record appended at or above its oldest offset.
type Ring struct {
	cfg Config

	mu      sync.RWMutex
	parts   map[int32]*partition
	order   evictionOrder
	floors  map[int32]int64 // highest offset evicted, per partition
	threads map[string]*deque[threadEntry]
	count   int
	bytes   int64
	stamp   uint64

	c counters
}

// New returns an empty ring.
func New(cfg Config) (*Ring, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Ring{cfg: cfg}
	r.reset()
	return r, nil
}

// Config returns the effective bounds.
func (r *Ring) Config() Config { return r.cfg }

func (r *Ring) reset() {
	r.parts = make(map[int32]*partition)
	r.order = nil
	r.floors = make(map[int32]int64)
	r.threads = make(map[string]*deque[threadEntry])
	r.count, r.bytes = 0, 0
}

// Append stores rec. An offset already stored, or one at or below an offset
// the ring already evicted from that partition, is ignored. A value larger
// than MaxBytes is not stored, and the partition's records below it are
// evicted so the partition stays a suffix.
func (r *Ring) Append(ctx context.Context, rec replay.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("memory ring: append: %w", err)
	}
	r.append(rec, false)
	return nil
}

// AppendFront implements replay.Front: Append, except that an offset below
// the partition's oldest held offset is not stored. Invalid records are not
// stored either.
func (r *Ring) AppendFront(rec replay.Record) bool {
	if rec.Validate() != nil {
		return false
	}
	return r.append(rec, true)
}

func (r *Ring) append(rec replay.Record, front bool) bool {
	size := int64(len(rec.Value))
	r.mu.Lock()
	defer r.mu.Unlock()

	if floor, ok := r.floors[rec.Partition]; ok && rec.Offset <= floor {
		r.c.stale.Add(1)
		return false
	}
	part := r.parts[rec.Partition]
	pos := 0
	if part != nil {
		var found bool
		pos, found = slices.BinarySearchFunc(part.recs.Live(), rec.Offset, compareOffset)
		if found {
			r.c.duplicates.Add(1)
			return true
		}
		if front && pos == 0 {
			r.c.belowHeld.Add(1)
			return false
		}
	}
	if size > r.cfg.MaxBytes {
		r.c.tooLarge.Add(1)
		r.dropThrough(rec.Partition, rec.Offset)
		return false
	}

	// Own the thread list: the caller may reuse its slice, and ReadThread
	// hands out one-element windows of it.
	rec.Threads = slices.Clip(slices.Clone(rec.Threads))
	r.stamp++
	e := &entry{rec: rec, stamp: r.stamp}
	if part == nil {
		part = &partition{id: rec.Partition}
		r.parts[rec.Partition] = part
		part.recs.Insert(0, e)
		heap.Push(&r.order, part)
	} else {
		part.recs.Insert(pos, e)
		if pos == 0 {
			heap.Fix(&r.order, part.heapIdx)
		}
	}
	r.index(e)
	r.count++
	r.bytes += size
	r.c.appended.Add(1)

	for r.count > r.cfg.MaxRecords || r.bytes > r.cfg.MaxBytes {
		r.removeLowest(r.order[0])
		r.c.evicted.Add(1)
	}
	return true
}

// index adds e's thread entries; an entry whose (thread, seq) is already
// indexed keeps the first record, as Redis's SET NX does, and e waits in
// its shadows.
func (r *Ring) index(e *entry) {
	for i, ts := range e.rec.Threads {
		if !ts.Indexed() {
			continue
		}
		td := r.threads[ts.Thread]
		if td == nil {
			td = &deque[threadEntry]{}
			r.threads[ts.Thread] = td
		}
		pos, found := slices.BinarySearchFunc(td.Live(), ts.Seq, compareSeq)
		if found {
			if te := td.Ptr(pos); te.e != e { // not the same entry listed twice
				te.shadows = append(te.shadows, threadRef{e, i})
			}
			continue
		}
		td.Insert(pos, threadEntry{seq: ts.Seq, e: e, idx: i})
	}
}

// unindex removes e's thread entries, promoting a shadow where e was first.
func (r *Ring) unindex(e *entry) {
	for _, ts := range e.rec.Threads {
		if !ts.Indexed() {
			continue
		}
		td := r.threads[ts.Thread]
		if td == nil {
			continue
		}
		pos, found := slices.BinarySearchFunc(td.Live(), ts.Seq, compareSeq)
		if !found {
			continue
		}
		te := td.Ptr(pos)
		if te.e != e {
			te.shadows = slices.DeleteFunc(te.shadows, func(ref threadRef) bool { return ref.e == e })
			continue
		}
		if len(te.shadows) > 0 {
			next := te.shadows[0]
			te.e, te.idx = next.e, next.idx
			te.shadows = slices.Delete(te.shadows, 0, 1)
			continue
		}
		td.Remove(pos)
		if td.Len() == 0 {
			delete(r.threads, ts.Thread)
		}
	}
}

// removeLowest evicts part's lowest offset and raises the partition floor.
func (r *Ring) removeLowest(part *partition) {
	e := part.recs.At(0)
	part.recs.Remove(0)
	r.unindex(e)
	r.count--
	r.bytes -= int64(len(e.rec.Value))
	if floor, ok := r.floors[part.id]; !ok || e.rec.Offset > floor {
		r.floors[part.id] = e.rec.Offset
	}
	if part.recs.Len() == 0 {
		heap.Remove(&r.order, part.heapIdx)
		delete(r.parts, part.id)
		return
	}
	heap.Fix(&r.order, part.heapIdx)
}

// dropThrough evicts partition p's records below offset and raises the floor
// to offset, as if a record at offset had been appended and evicted.
func (r *Ring) dropThrough(p int32, offset int64) {
	for {
		part := r.parts[p]
		if part == nil || part.recs.At(0).rec.Offset >= offset {
			break
		}
		r.removeLowest(part)
		r.c.evicted.Add(1)
	}
	if floor, ok := r.floors[p]; !ok || offset > floor {
		r.floors[p] = offset
	}
}

// Clear removes every record, forgets the eviction floors and returns how
// many records it removed.
func (r *Ring) Clear(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := int64(r.count)
	r.reset()
	return n, nil
}

func compareOffset(e *entry, offset int64) int {
	switch {
	case e.rec.Offset < offset:
		return -1
	case e.rec.Offset > offset:
		return 1
	}
	return 0
}

func compareSeq(te threadEntry, seq uint64) int {
	switch {
	case te.seq < seq:
		return -1
	case te.seq > seq:
		return 1
	}
	return 0
}

var (
	_ replay.Store = (*Ring)(nil)
	_ replay.Front = (*Ring)(nil)
)

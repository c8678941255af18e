package memory

import (
	"context"
	"slices"

	"github.com/dashstream/dashstream/server/replay"
)

// ReadPartition returns up to limit records of p with offsets above after,
// ascending. The slice is the caller's; the Values are shared.
func (r *Ring) ReadPartition(ctx context.Context, p int32, after int64, limit int) ([]replay.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	recs, _, _ := r.ReadPartitionFront(p, after, limit)
	return recs, nil
}

// ReadPartitionFront implements replay.Front: ReadPartition plus the oldest
// offset of p held at the same instant.
func (r *Ring) ReadPartitionFront(p int32, after int64, limit int) (recs []replay.Record, oldest int64, held bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	part := r.parts[p]
	if part == nil {
		r.c.misses.Add(1)
		return nil, 0, false
	}
	live := part.recs.Live()
	oldest = live[0].rec.Offset
	if limit <= 0 {
		return nil, oldest, true
	}
	start := firstAfter(live, after)
	n := min(limit, len(live)-start)
	if n == 0 {
		r.c.misses.Add(1)
		return nil, oldest, true
	}
	recs = make([]replay.Record, n)
	for i := range recs {
		recs[i] = live[start+i].rec
	}
	r.c.hits.Add(1)
	return recs, oldest, true
}

// firstAfter is the index of the first entry with an offset above after.
func firstAfter(live []*entry, after int64) int {
	// Searching for after and stepping over an exact match avoids after+1,
	// which would overflow at MaxInt64.
	i, found := slices.BinarySearchFunc(live, after, compareOffset)
	if found {
		i++
	}
	return i
}

// ReadThread returns up to limit records indexed under thread with
// sequences above after, ascending. Each record's Threads is exactly the
// one entry {thread, seq} that placed it in this answer.
func (r *Ring) ReadThread(ctx context.Context, thread string, after uint64, limit int) ([]replay.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	td := r.threads[thread]
	if td == nil {
		r.c.misses.Add(1)
		return nil, nil
	}
	live := td.Live()
	start, found := slices.BinarySearchFunc(live, after, compareSeq)
	if found {
		start++
	}
	n := min(limit, len(live)-start)
	if n == 0 {
		r.c.misses.Add(1)
		return nil, nil
	}
	out := make([]replay.Record, n)
	for i := range out {
		te := live[start+i]
		out[i] = replay.Record{
			Partition: te.e.rec.Partition,
			Offset:    te.e.rec.Offset,
			Value:     te.e.rec.Value,
			// A capped window of the ring's own copy: no allocation, and an
			// append by the caller cannot overwrite the next entry.
			Threads: te.e.rec.Threads[te.idx : te.idx+1 : te.idx+1],
		}
	}
	r.c.hits.Add(1)
	return out, nil
}

// Bounds returns the oldest and newest offsets held of p.
func (r *Ring) Bounds(ctx context.Context, p int32) (oldest, newest int64, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, false, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	part := r.parts[p]
	if part == nil {
		return 0, 0, false, nil
	}
	return part.recs.At(0).rec.Offset, part.recs.At(part.recs.Len() - 1).rec.Offset, true, nil
}

// Partitions lists the partitions held, ascending.
func (r *Ring) Partitions(ctx context.Context) ([]int32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.RLock()
	ps := make([]int32, 0, len(r.parts))
	for p := range r.parts {
		ps = append(ps, p)
	}
	r.mu.RUnlock()
	slices.Sort(ps)
	return ps, nil
}

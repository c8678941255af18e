package replaytest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dashstream/dashstream/server/replay"
)

var concurrencyTests = []subtest{
	{"AppendsAndReadsInParallel", func(t *testing.T, s replay.Store) {
		const writers, per = 4, 400
		ctx := ctxT(t)
		var wg sync.WaitGroup
		var done atomic.Bool
		for w := range int32(writers) {
			wg.Go(func() {
				for o := range int64(per) {
					if err := s.Append(ctx, rec(w, o, ts(evictThread(w), uint64(o)+1))); err != nil {
						t.Errorf("writer %d: Append(%d): %v", w, o, err)
						return
					}
				}
			})
		}
		var readers sync.WaitGroup
		for r := range 2 {
			readers.Go(func() {
				for !done.Load() {
					if !readOnce(ctx, t, s, int32(r%writers)) {
						return
					}
				}
			})
		}
		wg.Wait()
		done.Store(true)
		readers.Wait()
		for w := range int32(writers) {
			got := readAllPartition(t, s, w, -1, 100)
			equalOffsets(t, "writer "+evictThread(w), offsets(got), rangeOffsets(0, per-1))
			checkValues(t, got)
			if got := readAllThread(t, s, evictThread(w), 0, 100); len(got) != per {
				t.Fatalf("thread %s: %d records, want %d", evictThread(w), len(got), per)
			}
		}
	}},
	{"OnePartitionFromManyGoroutines", func(t *testing.T, s replay.Store) {
		const goroutines, n = 4, 800
		ctx := ctxT(t)
		var wg sync.WaitGroup
		for g := range int64(goroutines) {
			wg.Go(func() {
				for o := g; o < n; o += goroutines {
					if err := s.Append(ctx, rec(7, o)); err != nil {
						t.Errorf("Append(%d): %v", o, err)
						return
					}
				}
			})
		}
		wg.Wait()
		equalOffsets(t, "interleaved writers", offsets(readAllPartition(t, s, 7, -1, 64)), rangeOffsets(0, n-1))
	}},
	{"SameRecordsFromTwoWriters", func(t *testing.T, s replay.Store) {
		// Two gateway instances sharing a store both append every record.
		const n = 500
		ctx := ctxT(t)
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for o := range int64(n) {
					if err := s.Append(ctx, rec(3, o, ts("both", uint64(o)+1))); err != nil {
						t.Errorf("Append(%d): %v", o, err)
						return
					}
				}
			})
		}
		wg.Wait()
		got := readAllPartition(t, s, 3, -1, 128)
		equalOffsets(t, "two writers", offsets(got), rangeOffsets(0, n-1))
		checkValues(t, got)
		if byThread := readAllThread(t, s, "both", 0, 128); len(byThread) != n {
			t.Fatalf("thread: %d records, want %d", len(byThread), n)
		}
	}},
}

// readOnce pages through p and a thread once while writers run, checking
// order; it reports false after a failure so the reader stops.
func readOnce(ctx context.Context, t *testing.T, s replay.Store, p int32) bool {
	cursor := int64(-1)
	for {
		page, err := s.ReadPartition(ctx, p, cursor, 50)
		if err != nil {
			t.Errorf("ReadPartition during appends: %v", err)
			return false
		}
		for _, r := range page {
			if r.Offset <= cursor {
				t.Errorf("ReadPartition during appends: offset %d after cursor %d", r.Offset, cursor)
				return false
			}
			cursor = r.Offset
		}
		if len(page) < 50 {
			break
		}
	}
	seq := uint64(0)
	page, err := s.ReadThread(ctx, evictThread(p), seq, 50)
	if err != nil {
		t.Errorf("ReadThread during appends: %v", err)
		return false
	}
	for _, r := range page {
		if r.Threads[0].Seq <= seq {
			t.Errorf("ReadThread during appends: seq %d after %d", r.Threads[0].Seq, seq)
			return false
		}
		seq = r.Threads[0].Seq
	}
	if _, err := s.Partitions(ctx); err != nil {
		t.Errorf("Partitions during appends: %v", err)
		return false
	}
	if _, _, _, err := s.Bounds(ctx, p); err != nil {
		t.Errorf("Bounds during appends: %v", err)
		return false
	}
	return true
}

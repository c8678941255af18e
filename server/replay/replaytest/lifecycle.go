package replaytest

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/dashstream/dashstream/server/replay"
)

var lifecycleTests = []subtest{
	{"EvictionKeepsAPerPartitionSuffix", func(t *testing.T, s replay.Store) {
		const parts, per = 3, EvictionRecords / 3
		for o := range int64(per) {
			for p := range int32(parts) {
				mustAppend(t, s, rec(p, o, ts(evictThread(p), uint64(o)+1)))
			}
		}
		// Re-appending an offset that may have been evicted must not put
		// it back below a hole.
		mustAppend(t, s, rec(0, 0, ts(evictThread(0), 1)))
		for p := range int32(parts) {
			got := readAllPartition(t, s, p, -1, 1000)
			if len(got) == 0 {
				t.Fatalf("partition %d: everything was evicted", p)
			}
			equalOffsets(t, "partition "+strconv.Itoa(int(p)), offsets(got), rangeOffsets(got[0].Offset, per-1))
			checkValues(t, got)
			oldest, newest, ok, err := s.Bounds(ctxT(t), p)
			if err != nil || !ok || oldest != got[0].Offset || newest != per-1 {
				t.Fatalf("Bounds(%d) = %d, %d, %v, %v; want %d, %d", p, oldest, newest, ok, err, got[0].Offset, per-1)
			}
			byThread := readAllThread(t, s, evictThread(p), 0, 1000)
			if len(byThread) == 0 {
				t.Fatalf("thread of partition %d: everything was evicted", p)
			}
			if want := seqRange(byThread[0].Threads[0].Seq, per); !slices.Equal(seqs(byThread), want) {
				t.Fatalf("thread of partition %d: sequences %v, want the suffix %v", p, abbreviate(seqs(byThread)), abbreviate(want))
			}
		}
	}},
	{"ClearRemovesEverything", func(t *testing.T, s replay.Store) {
		for o := range int64(30) {
			mustAppend(t, s, rec(int32(o%3), o, ts("clear", uint64(o)+1)))
		}
		ctx := ctxT(t)
		n, err := s.Clear(ctx)
		if err != nil || n <= 0 {
			t.Fatalf("Clear = %d, %v; want a positive count", n, err)
		}
		if ps, err := s.Partitions(ctx); err != nil || len(ps) != 0 {
			t.Fatalf("Partitions after Clear = %v, %v", ps, err)
		}
		for p := range int32(3) {
			if got := readAllPartition(t, s, p, -1, 10); len(got) != 0 {
				t.Fatalf("partition %d after Clear: %d records", p, len(got))
			}
			if _, _, ok, err := s.Bounds(ctx, p); ok || err != nil {
				t.Fatalf("Bounds(%d) after Clear: ok=%v err=%v", p, ok, err)
			}
		}
		if got := readAllThread(t, s, "clear", 0, 10); len(got) != 0 {
			t.Fatalf("thread after Clear: %d records", len(got))
		}
		if n, err := s.Clear(ctx); err != nil || n != 0 {
			t.Fatalf("Clear of an empty store = %d, %v; want 0", n, err)
		}
		// The store is usable again, from any offset.
		mustAppend(t, s, rec(0, 0, ts("clear", 1)), rec(0, 1, ts("clear", 2)))
		equalOffsets(t, "after Clear", offsets(readAllPartition(t, s, 0, -1, 10)), []int64{0, 1})
		if got := readAllThread(t, s, "clear", 0, 10); !slices.Equal(seqs(got), []uint64{1, 2}) {
			t.Fatalf("thread after Clear and Append: %v", seqs(got))
		}
	}},
	{"CancelledContextFailsEveryMethod", func(t *testing.T, s replay.Store) {
		mustAppend(t, s, rec(0, 1, ts("t", 1)))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		checks := map[string]error{}
		checks["Append"] = s.Append(ctx, rec(0, 2))
		_, checks["ReadPartition"] = s.ReadPartition(ctx, 0, -1, 10)
		_, checks["ReadThread"] = s.ReadThread(ctx, "t", 0, 10)
		_, _, _, checks["Bounds"] = s.Bounds(ctx, 0)
		_, checks["Partitions"] = s.Partitions(ctx)
		_, checks["Clear"] = s.Clear(ctx)
		for name, err := range checks {
			if !isCanceled(err) {
				t.Errorf("%s with a cancelled context = %v, want context.Canceled", name, err)
			}
		}
		// Nothing was cleared.
		equalOffsets(t, "after cancelled calls", offsets(readAllPartition(t, s, 0, -1, 10)), []int64{1})
	}},
}

func evictThread(p int32) string { return "evict-" + strconv.Itoa(int(p)) }

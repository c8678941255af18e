package memory

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/replaytest"
)

func newRing(t testing.TB, cfg Config) *Ring {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConformance(t *testing.T) {
	replaytest.Run(t, func(t *testing.T) replay.Store {
		// Below replaytest.EvictionRecords, so the eviction subtest evicts.
		return newRing(t, Config{MaxRecords: replaytest.MinRecords, MaxBytes: replaytest.MinValueBytes})
	})
}

func TestConformance_Defaults(t *testing.T) {
	replaytest.Run(t, func(t *testing.T) replay.Store { return newRing(t, Config{}) })
}

func rec(p int32, o int64, v string, threads ...replay.ThreadSeq) replay.Record {
	return replay.Record{Partition: p, Offset: o, Value: []byte(v), Threads: threads}
}

func held(t *testing.T, r *Ring, p int32) []int64 {
	t.Helper()
	recs, err := r.ReadPartition(context.Background(), p, -1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(recs))
	for i, rc := range recs {
		out[i] = rc.Offset
	}
	return out
}

func TestNewRejectsNegativeBoundsAndDefaultsZero(t *testing.T) {
	for _, cfg := range []Config{{MaxRecords: -1}, {MaxBytes: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a negative bound", cfg)
		}
	}
	r := newRing(t, Config{})
	if got := r.Config(); got.MaxRecords != DefaultMaxRecords || got.MaxBytes != DefaultMaxBytes {
		t.Errorf("defaults = %+v", got)
	}
}

func TestValuesAreSharedNotCopied(t *testing.T) {
	r := newRing(t, Config{})
	v := []byte("shared bytes")
	ctx := context.Background()
	if err := r.Append(ctx, replay.Record{Partition: 0, Offset: 1, Value: v, Threads: []replay.ThreadSeq{{Thread: "t", Seq: 1}}}); err != nil {
		t.Fatal(err)
	}
	byPart, _ := r.ReadPartition(ctx, 0, -1, 1)
	byThread, _ := r.ReadThread(ctx, "t", 0, 1)
	if &byPart[0].Value[0] != &v[0] || &byThread[0].Value[0] != &v[0] {
		t.Fatal("the ring copied a value; the contract shares them")
	}
}

func TestThreadsAreCopiedOnAppend(t *testing.T) {
	r := newRing(t, Config{})
	threads := []replay.ThreadSeq{{Thread: "a", Seq: 1}, {Thread: "b", Seq: 2}}
	ctx := context.Background()
	if err := r.Append(ctx, replay.Record{Partition: 0, Offset: 1, Threads: threads}); err != nil {
		t.Fatal(err)
	}
	threads[0] = replay.ThreadSeq{Thread: "mutated", Seq: 99} // the caller reuses its slice
	got, _ := r.ReadThread(ctx, "a", 0, 10)
	if len(got) != 1 || got[0].Threads[0] != (replay.ThreadSeq{Thread: "a", Seq: 1}) {
		t.Fatalf("ReadThread(a) = %+v", got)
	}
	// Appending to the returned window must not overwrite the ring's "b".
	_ = append(got[0].Threads, replay.ThreadSeq{Thread: "x", Seq: 7})
	if b, _ := r.ReadThread(ctx, "b", 0, 10); len(b) != 1 || b[0].Threads[0].Thread != "b" {
		t.Fatalf("ReadThread(b) = %+v after appending to a returned window", b)
	}
}

func TestEvictionIsFIFOAcrossPartitions(t *testing.T) {
	r := newRing(t, Config{MaxRecords: 4})
	ctx := context.Background()
	// Arrival order: p0/1, p1/1, p0/2, p1/2, then p2/1 evicts p0/1, p2/2 evicts p1/1.
	for _, rc := range []replay.Record{rec(0, 1, "a"), rec(1, 1, "b"), rec(0, 2, "c"), rec(1, 2, "d"), rec(2, 1, "e"), rec(2, 2, "f")} {
		if err := r.Append(ctx, rc); err != nil {
			t.Fatal(err)
		}
	}
	for p, want := range map[int32][]int64{0: {2}, 1: {2}, 2: {1, 2}} {
		if got := held(t, r, p); !slices.Equal(got, want) {
			t.Errorf("partition %d holds %v, want %v", p, got, want)
		}
	}
	if s := r.Stats(); s.Evicted != 2 || s.Records != 4 {
		t.Errorf("stats = %+v", s)
	}
}

func TestEvictionKeepsASuffixWhenOffsetsArriveOutOfOrder(t *testing.T) {
	r := newRing(t, Config{MaxRecords: 3})
	ctx := context.Background()
	for _, o := range []int64{10, 12, 13, 11, 14} {
		if err := r.Append(ctx, rec(0, o, "v")); err != nil {
			t.Fatal(err)
		}
	}
	// 11 arrived last but is below 12, so it goes before 12 does.
	if got := held(t, r, 0); !slices.Equal(got, []int64{12, 13, 14}) {
		t.Fatalf("holds %v, want the suffix [12 13 14]", got)
	}
	// An append at or below the highest evicted offset is ignored: storing
	// it would leave a hole above it.
	if err := r.Append(ctx, rec(0, 9, "late")); err != nil {
		t.Fatal(err)
	}
	if got := held(t, r, 0); !slices.Equal(got, []int64{12, 13, 14}) {
		t.Fatalf("holds %v after a stale append", got)
	}
	if s := r.Stats(); s.Stale != 1 {
		t.Errorf("Stale = %d, want 1", s.Stale)
	}
}

func TestByteBoundEvictsOldest(t *testing.T) {
	r := newRing(t, Config{MaxBytes: 10})
	ctx := context.Background()
	for o, v := range []string{"aaaa", "bbbb", "cccc"} {
		if err := r.Append(ctx, rec(0, int64(o), v)); err != nil {
			t.Fatal(err)
		}
	}
	if got := held(t, r, 0); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("holds %v, want [1 2]", got)
	}
	if s := r.Stats(); s.Bytes != 8 {
		t.Errorf("Bytes = %d, want 8", s.Bytes)
	}
}

func TestValueLargerThanTheRingIsNotStoredAndKeepsTheSuffix(t *testing.T) {
	r := newRing(t, Config{MaxBytes: 10})
	ctx := context.Background()
	for _, rc := range []replay.Record{rec(0, 1, "a"), rec(1, 1, "x"), rec(0, 2, "this is far too large"), rec(0, 3, "c")} {
		if err := r.Append(ctx, rc); err != nil {
			t.Fatal(err)
		}
	}
	// Offset 1 went with the oversized 2: keeping it would leave a hole at 2
	// inside the range the ring claims to hold in full.
	if got := held(t, r, 0); !slices.Equal(got, []int64{3}) {
		t.Fatalf("partition 0 holds %v, want [3]", got)
	}
	if got := held(t, r, 1); !slices.Equal(got, []int64{1}) {
		t.Fatalf("partition 1 holds %v, want [1]", got)
	}
	if s := r.Stats(); s.TooLarge != 1 {
		t.Errorf("TooLarge = %d", s.TooLarge)
	}
}

func TestAppendFrontNeverGrowsTheHeldRangeDownwards(t *testing.T) {
	r := newRing(t, Config{})
	for _, tc := range []struct {
		offset int64
		stored bool
	}{
		{10, true},
		{12, true},
		{11, true},  // inside the held range: fills it
		{12, true},  // duplicate
		{9, false},  // below: the ring never saw 9's neighbours
		{20, true},  // above
		{-1, false}, // invalid
	} {
		if got := r.AppendFront(rec(0, tc.offset, "v")); got != tc.stored {
			t.Errorf("AppendFront(%d) = %v, want %v", tc.offset, got, tc.stored)
		}
	}
	recs, oldest, ok := r.ReadPartitionFront(0, 10, 2)
	if !ok || oldest != 10 || len(recs) != 2 || recs[0].Offset != 11 || recs[1].Offset != 12 {
		t.Fatalf("ReadPartitionFront = %+v, %d, %v", recs, oldest, ok)
	}
	if _, _, ok := r.ReadPartitionFront(1, -1, 1); ok {
		t.Fatal("ReadPartitionFront reports holding an empty partition")
	}
	if s := r.Stats(); s.BelowHeld != 1 {
		t.Errorf("BelowHeld = %d", s.BelowHeld)
	}
}

func TestEvictedRecordsLeaveTheThreadIndex(t *testing.T) {
	r := newRing(t, Config{MaxRecords: 2})
	ctx := context.Background()
	for o := range int64(5) {
		if err := r.Append(ctx, rec(0, o, "v", replay.ThreadSeq{Thread: "t", Seq: uint64(o) + 1}, replay.ThreadSeq{Thread: "u" + string(rune('a'+o)), Seq: 1})); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := r.ReadThread(ctx, "t", 0, 10)
	if len(got) != 2 || got[0].Threads[0].Seq != 4 || got[1].Threads[0].Seq != 5 {
		t.Fatalf("thread t = %+v", got)
	}
	if s := r.Stats(); s.Threads != 3 { // t, ud, ue
		t.Errorf("Threads = %d, want 3 (evicted threads are forgotten)", s.Threads)
	}
}

func TestShadowedSequenceTakesOverWhenTheFirstIsEvicted(t *testing.T) {
	r := newRing(t, Config{MaxRecords: 3})
	ctx := context.Background()
	ts := replay.ThreadSeq{Thread: "t", Seq: 7}
	for _, rc := range []replay.Record{rec(0, 1, "first", ts), rec(1, 1, "retry", ts), rec(2, 1, "retry again", ts, ts)} {
		if err := r.Append(ctx, rc); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []string{"first", "retry", "retry again"} {
		got, _ := r.ReadThread(ctx, "t", 0, 10)
		if len(got) != 1 || string(got[0].Value) != want {
			t.Fatalf("ReadThread = %+v, want the record %q", got, want)
		}
		_ = r.Append(ctx, rec(9, int64(i), "filler")) // evicts the oldest
	}
	if got, _ := r.ReadThread(ctx, "t", 0, 10); len(got) != 0 {
		t.Fatalf("after every holder was evicted: %+v", got)
	}
}

func TestStatsCountHitsMissesAndDuplicates(t *testing.T) {
	r := newRing(t, Config{})
	ctx := context.Background()
	_ = r.Append(ctx, rec(0, 1, "abc"))
	_ = r.Append(ctx, rec(0, 1, "abc"))
	_, _ = r.ReadPartition(ctx, 0, -1, 10)
	_, _ = r.ReadPartition(ctx, 0, 1, 10)
	_, _ = r.ReadPartition(ctx, 5, -1, 10)
	s := r.Stats()
	want := Stats{Records: 1, Bytes: 3, Partitions: 1, Appended: 1, Duplicates: 1, Hits: 1, Misses: 2}
	if s != want {
		t.Fatalf("Stats = %+v, want %+v", s, want)
	}
}

func TestClearForgetsFloors(t *testing.T) {
	r := newRing(t, Config{MaxRecords: 1})
	ctx := context.Background()
	_ = r.Append(ctx, rec(0, 1, "a"))
	_ = r.Append(ctx, rec(0, 2, "b")) // evicts 1
	if n, err := r.Clear(ctx); err != nil || n != 1 {
		t.Fatalf("Clear = %d, %v", n, err)
	}
	_ = r.Append(ctx, rec(0, 1, "a again"))
	recs, _ := r.ReadPartition(ctx, 0, -1, 10)
	if len(recs) != 1 || !bytes.Equal(recs[0].Value, []byte("a again")) {
		t.Fatalf("after Clear: %+v", recs)
	}
}

func TestDequeCompactsAndStaysSorted(t *testing.T) {
	var d deque[int]
	for i := range 1000 {
		d.Insert(d.Len(), i)
	}
	for range 900 {
		d.Remove(0)
	}
	if d.Len() != 100 || d.At(0) != 900 || cap(d.items) < 100 || d.head >= compactMin*4 {
		t.Fatalf("len %d front %d head %d", d.Len(), d.At(0), d.head)
	}
	d.Insert(50, -1)
	d.Remove(50)
	d.Remove(99)
	if !slices.IsSorted(d.Live()) || d.Len() != 99 {
		t.Fatalf("live = %v", d.Live())
	}
	for d.Len() > 0 {
		d.Remove(0)
	}
	if d.head != 0 || len(d.items) != 0 {
		t.Fatalf("empty deque kept head %d len %d", d.head, len(d.items))
	}
}

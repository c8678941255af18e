package replaytest

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/dashstream/dashstream/server/replay"
)

var partitionTests = []subtest{
	{"ReturnsOffsetOrderWhateverTheAppendOrder", func(t *testing.T, s replay.Store) {
		var recs []replay.Record
		for p := range int32(3) {
			for o := range int64(200) {
				recs = append(recs, rec(p, o))
			}
		}
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		mustAppend(t, s, recs...)
		for p := range int32(3) {
			got := readAllPartition(t, s, p, -1, 1000)
			equalOffsets(t, "partition", offsets(got), rangeOffsets(0, 199))
			checkValues(t, got)
		}
	}},
	{"PagesExactlyAtEveryLimit", func(t *testing.T, s replay.Store) {
		const n = 101
		for o := range int64(n) {
			mustAppend(t, s, rec(4, o))
		}
		for _, limit := range []int{1, 2, 3, 7, 10, 50, n - 1, n, n + 1, 1000} {
			got := readAllPartition(t, s, 4, -1, limit)
			equalOffsets(t, "limit "+strconv.Itoa(limit), offsets(got), rangeOffsets(0, n-1))
		}
	}},
	{"PagesOverThousandsOfRecords", func(t *testing.T, s replay.Store) {
		const n = MinRecordsPerPartition
		for o := range int64(n) {
			mustAppend(t, s, rec(0, o))
		}
		for _, limit := range []int{1000, 999, 1001, 500} {
			got := readAllPartition(t, s, 0, -1, limit)
			equalOffsets(t, "limit "+strconv.Itoa(limit), offsets(got), rangeOffsets(0, n-1))
			checkValues(t, got)
		}
	}},
	{"CursorIsExclusive", func(t *testing.T, s replay.Store) {
		for o := int64(10); o < 20; o++ {
			mustAppend(t, s, rec(1, o))
		}
		ctx := ctxT(t)
		for _, tc := range []struct {
			after int64
			want  []int64
		}{
			{-1, rangeOffsets(10, 19)},
			{0, rangeOffsets(10, 19)},
			{9, rangeOffsets(10, 19)},
			{10, rangeOffsets(11, 19)},
			{15, rangeOffsets(16, 19)},
			{18, []int64{19}},
			{19, nil},
			{1 << 40, nil},
			{math.MaxInt64, nil},
		} {
			got, err := s.ReadPartition(ctx, 1, tc.after, 100)
			if err != nil {
				t.Fatalf("ReadPartition(after=%d): %v", tc.after, err)
			}
			equalOffsets(t, "after "+strconv.FormatInt(tc.after, 10), offsets(got), tc.want)
		}
	}},
	{"KeepsHolesBetweenSparseOffsets", func(t *testing.T, s replay.Store) {
		sparse := []int64{0, 5, 6, 100, 101, 1 << 33, 1<<33 + 7}
		for _, o := range sparse {
			mustAppend(t, s, rec(2, o))
		}
		for _, limit := range []int{1, 2, 3, 100} {
			got := readAllPartition(t, s, 2, -1, limit)
			equalOffsets(t, "sparse", offsets(got), sparse)
			checkValues(t, got)
		}
		got := readAllPartition(t, s, 2, 6, 2)
		equalOffsets(t, "sparse after 6", offsets(got), sparse[3:])
	}},
	{"NonPositiveLimitReturnsNothing", func(t *testing.T, s replay.Store) {
		mustAppend(t, s, rec(0, 1), rec(0, 2))
		ctx := ctxT(t)
		for _, limit := range []int{0, -1} {
			got, err := s.ReadPartition(ctx, 0, -1, limit)
			if err != nil || len(got) != 0 {
				t.Fatalf("ReadPartition(limit=%d) = %d records, %v; want none", limit, len(got), err)
			}
			got, err = s.ReadThread(ctx, "t", 0, limit)
			if err != nil || len(got) != 0 {
				t.Fatalf("ReadThread(limit=%d) = %d records, %v; want none", limit, len(got), err)
			}
		}
	}},
	{"UnknownPartitionIsEmpty", func(t *testing.T, s replay.Store) {
		mustAppend(t, s, rec(0, 1))
		for _, p := range []int32{1, 7, math.MaxInt32} {
			got, err := s.ReadPartition(ctxT(t), p, -1, 10)
			if err != nil || len(got) != 0 {
				t.Fatalf("ReadPartition(p=%d) = %d records, %v; want none", p, len(got), err)
			}
		}
	}},
	{"HandlesExtremeCoordinates", func(t *testing.T, s replay.Store) {
		// Offsets beyond 2^53 lose precision as Redis scores; the stores
		// must still return them exactly, in order.
		big := []int64{1<<53 - 1, 1 << 53, 1<<53 + 1, math.MaxInt64 - 1, math.MaxInt64}
		var recs []replay.Record
		for _, o := range big {
			recs = append(recs, rec(math.MaxInt32, o))
		}
		mustAppend(t, s, recs...)
		got := readAllPartition(t, s, math.MaxInt32, -1, 10)
		equalOffsets(t, "big offsets", offsets(got), big)
		checkValues(t, got)
		oldest, newest, ok, err := s.Bounds(ctxT(t), math.MaxInt32)
		if err != nil || !ok || oldest != big[0] || newest != math.MaxInt64 {
			t.Fatalf("Bounds = %d, %d, %v, %v; want %d, %d", oldest, newest, ok, err, big[0], int64(math.MaxInt64))
		}
	}},
}

var appendTests = []subtest{
	{"DuplicateOffsetKeepsTheFirstRecord", func(t *testing.T, s replay.Store) {
		first := rec(0, 5)
		mustAppend(t, s, rec(0, 4), first, first, rec(0, 6))
		second := replay.Record{Partition: 0, Offset: 5, Value: []byte("a different value")}
		mustAppend(t, s, second)
		got := readAllPartition(t, s, 0, -1, 10)
		equalOffsets(t, "after duplicates", offsets(got), []int64{4, 5, 6})
		checkValues(t, got)
	}},
	{"RefusesNegativeCoordinates", func(t *testing.T, s replay.Store) {
		for _, r := range []replay.Record{
			{Partition: -1, Offset: 0, Value: []byte("x")},
			{Partition: 0, Offset: -1, Value: []byte("x")},
		} {
			if err := s.Append(ctxT(t), r); !errors.Is(err, replay.ErrInvalidRecord) {
				t.Fatalf("Append(p=%d, o=%d) = %v, want ErrInvalidRecord", r.Partition, r.Offset, err)
			}
		}
		if ps, err := s.Partitions(ctxT(t)); err != nil || len(ps) != 0 {
			t.Fatalf("Partitions after refused appends = %v, %v; want none", ps, err)
		}
	}},
	{"LeavesTheAppendedValueUntouched", func(t *testing.T, s replay.Store) {
		r := rec(0, 1, ts("t", 1))
		orig := bytes.Clone(r.Value)
		mustAppend(t, s, r)
		if _, err := s.ReadPartition(ctxT(t), 0, -1, 10); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReadThread(ctxT(t), "t", 0, 10); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Value, orig) {
			t.Fatalf("the store modified the caller's value: %q, was %q", r.Value, orig)
		}
	}},
	{"RoundTripsValuesByteForByte", func(t *testing.T, s replay.Store) {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(i)
		}
		large := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), (5<<20)/18)
		cases := [][]byte{nil, {}, {0x00}, {0x01}, all, bytes.Repeat([]byte{0}, 11), bytes.Repeat([]byte{0xff}, 12), large[:2<<20], large}
		for i, v := range cases {
			mustAppend(t, s, replay.Record{Partition: 9, Offset: int64(i), Value: v, Threads: []replay.ThreadSeq{ts("values", uint64(i+1))}})
		}
		got := readAllPartition(t, s, 9, -1, 3)
		byThread := readAllThread(t, s, "values", 0, 4)
		if len(got) != len(cases) || len(byThread) != len(cases) {
			t.Fatalf("read %d records by partition and %d by thread, want %d", len(got), len(byThread), len(cases))
		}
		for i, want := range cases {
			if !bytes.Equal(got[i].Value, want) {
				t.Errorf("value %d by partition: %d bytes, want %d bytes equal", i, len(got[i].Value), len(want))
			}
			if !bytes.Equal(byThread[i].Value, want) {
				t.Errorf("value %d by thread: %d bytes, want %d bytes equal", i, len(byThread[i].Value), len(want))
			}
			if byThread[i].Partition != 9 || byThread[i].Offset != int64(i) {
				t.Errorf("value %d by thread: at p=%d o=%d, want p=9 o=%d", i, byThread[i].Partition, byThread[i].Offset, i)
			}
		}
	}},
}

var metaTests = []subtest{
	{"EmptyStoreHasNoPartitionsOrBounds", func(t *testing.T, s replay.Store) {
		ps, err := s.Partitions(ctxT(t))
		if err != nil || len(ps) != 0 {
			t.Fatalf("Partitions = %v, %v; want none", ps, err)
		}
		if _, _, ok, err := s.Bounds(ctxT(t), 0); ok || err != nil {
			t.Fatalf("Bounds on an empty store: ok=%v err=%v", ok, err)
		}
	}},
	{"PartitionsAreListedAscending", func(t *testing.T, s replay.Store) {
		for _, p := range []int32{12, 0, 5, 3, 12, 100, 5} {
			mustAppend(t, s, rec(p, int64(p)+1))
		}
		ps, err := s.Partitions(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if want := []int32{0, 3, 5, 12, 100}; !slices.Equal(ps, want) {
			t.Fatalf("Partitions = %v, want %v", ps, want)
		}
	}},
	{"BoundsReportOldestAndNewestPerPartition", func(t *testing.T, s replay.Store) {
		mustAppend(t, s, rec(0, 50), rec(0, 7), rec(0, 1000), rec(1, 3), rec(2, 0))
		for _, tc := range []struct {
			p              int32
			oldest, newest int64
			ok             bool
		}{
			{0, 7, 1000, true},
			{1, 3, 3, true},
			{2, 0, 0, true},
			{3, 0, 0, false},
		} {
			oldest, newest, ok, err := s.Bounds(ctxT(t), tc.p)
			if err != nil {
				t.Fatalf("Bounds(%d): %v", tc.p, err)
			}
			if ok != tc.ok || (ok && (oldest != tc.oldest || newest != tc.newest)) {
				t.Fatalf("Bounds(%d) = %d, %d, %v; want %d, %d, %v", tc.p, oldest, newest, ok, tc.oldest, tc.newest, tc.ok)
			}
		}
	}},
}

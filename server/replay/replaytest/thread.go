package replaytest

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/dashstream/dashstream/server/replay"
)

// OddThreadIDs are thread ids that cannot appear raw in a Redis key, or
// that look like the encoded form of another id, or that sit on the length
// limits. Distinct ids must never see each other's records.
var OddThreadIDs = []string{
	"plain-ID_09",
	"a",
	"with:colon",
	":1",
	"b64_OjE", // what upstream made of ":1": must not alias it
	"b64_YQ",  // base64url of "a"
	"b64_",
	"h_0123456789abcdef", // upstream's legacy hashed form
	"seq:5",
	"x:sequences",
	":offset:3",
	"with space",
	"tab\there",
	"line\nbreak",
	"*", "?", "[ab]", `back\slash`, "{tag}",
	"ünïcødé",
	"日本語のスレッド",
	"\x00\x01\x7f\xff",
	"\xc3\x28", // invalid UTF-8
	strings.Repeat("x", 128),
	strings.Repeat("x", 129),
	strings.Repeat("é", 128), // 256 bytes
	strings.Repeat("z", 1000),
}

var threadTests = []subtest{
	{"OrdersBySequenceAcrossPartitions", func(t *testing.T, s replay.Store) {
		// Thread "run" lives on two partitions; its sequences interleave.
		var recs []replay.Record
		for i := range int64(40) {
			p := int32(i % 2)
			recs = append(recs, rec(p, 100+i, ts("run", uint64(2*i+1))))
		}
		slices.Reverse(recs)
		mustAppend(t, s, recs...)
		got := readAllThread(t, s, "run", 0, 7)
		if len(got) != 40 {
			t.Fatalf("read %d records, want 40", len(got))
		}
		for i, r := range got {
			wantP, wantO := int32(i%2), 100+int64(i)
			if r.Partition != wantP || r.Offset != wantO || r.Threads[0].Seq != uint64(2*i+1) {
				t.Fatalf("record %d: p=%d o=%d seq=%d, want p=%d o=%d seq=%d", i, r.Partition, r.Offset, r.Threads[0].Seq, wantP, wantO, 2*i+1)
			}
		}
		checkValues(t, got)
	}},
	{"PagesExactlyAtEveryLimit", func(t *testing.T, s replay.Store) {
		const n = 64
		for i := range int64(n) {
			mustAppend(t, s, rec(0, i, ts("paged", uint64(i+1))))
		}
		for _, limit := range []int{1, 2, 3, 8, n - 1, n, n + 1} {
			got := readAllThread(t, s, "paged", 0, limit)
			if want := seqRange(1, n); !slices.Equal(seqs(got), want) {
				t.Fatalf("limit %d: sequences %v, want %v", limit, abbreviate(seqs(got)), abbreviate(want))
			}
		}
	}},
	{"CursorIsExclusive", func(t *testing.T, s replay.Store) {
		for _, q := range []uint64{3, 4, 10, 1 << 40, math.MaxUint64} {
			mustAppend(t, s, rec(0, int64(q%1000), ts("c", q)))
		}
		ctx := ctxT(t)
		for _, tc := range []struct {
			after uint64
			want  []uint64
		}{
			{0, []uint64{3, 4, 10, 1 << 40, math.MaxUint64}},
			{3, []uint64{4, 10, 1 << 40, math.MaxUint64}},
			{9, []uint64{10, 1 << 40, math.MaxUint64}},
			{1 << 40, []uint64{math.MaxUint64}},
			{math.MaxUint64, nil},
		} {
			got, err := s.ReadThread(ctx, "c", tc.after, 100)
			if err != nil {
				t.Fatalf("ReadThread(after=%d): %v", tc.after, err)
			}
			if !slices.Equal(seqs(got), tc.want) {
				t.Fatalf("ReadThread(after=%d) = %v, want %v", tc.after, seqs(got), tc.want)
			}
		}
	}},
	{"IndexesAnEventBatchUnderEveryThread", func(t *testing.T, s replay.Store) {
		mustAppend(t, s,
			rec(0, 1, ts("A", 1)),
			rec(0, 2, ts("B", 1)),
			rec(0, 3, ts("A", 5), ts("B", 9), ts("C", 2)), // an EventBatch
			rec(0, 4, ts("A", 6)),
		)
		for _, tc := range []struct {
			thread string
			seqs   []uint64
			offs   []int64
		}{
			{"A", []uint64{1, 5, 6}, []int64{1, 3, 4}},
			{"B", []uint64{1, 9}, []int64{2, 3}},
			{"C", []uint64{2}, []int64{3}},
		} {
			got := readAllThread(t, s, tc.thread, 0, 10)
			if !slices.Equal(seqs(got), tc.seqs) || !slices.Equal(offsets(got), tc.offs) {
				t.Fatalf("thread %s: seqs %v at offsets %v, want %v at %v", tc.thread, seqs(got), offsets(got), tc.seqs, tc.offs)
			}
			checkValues(t, got)
		}
		// The batch is one record of its partition, not three.
		equalOffsets(t, "partition", offsets(readAllPartition(t, s, 0, -1, 10)), []int64{1, 2, 3, 4})
	}},
	{"KeepsOddThreadIDsApart", func(t *testing.T, s replay.Store) {
		for i, id := range OddThreadIDs {
			o := int64(10 * i)
			mustAppend(t, s, rec(0, o, ts(id, 1)), rec(1, o, ts(id, 2)))
		}
		for i, id := range OddThreadIDs {
			got := readAllThread(t, s, id, 0, 1)
			o := int64(10 * i)
			if len(got) != 2 || got[0].Offset != o || got[0].Partition != 0 || got[1].Offset != o || got[1].Partition != 1 {
				t.Fatalf("thread %q (%d bytes): read %d records %v, want its own two at offset %d", id, len(id), len(got), offsets(got), o)
			}
			checkValues(t, got)
		}
	}},
	{"IgnoresEntriesWithoutThreadOrSequence", func(t *testing.T, s replay.Store) {
		mustAppend(t, s,
			rec(0, 1, ts("", 1)),
			rec(0, 2, ts("t", 0)),
			rec(0, 3, ts("t", 1)),
			rec(0, 4),
		)
		if got := readAllThread(t, s, "", 0, 10); len(got) != 0 {
			t.Fatalf("the empty thread has %d records", len(got))
		}
		if got := readAllThread(t, s, "t", 0, 10); !slices.Equal(offsets(got), []int64{3}) {
			t.Fatalf("thread t: offsets %v, want [3]", offsets(got))
		}
		equalOffsets(t, "partition", offsets(readAllPartition(t, s, 0, -1, 10)), []int64{1, 2, 3, 4})
	}},
	{"DuplicateSequenceKeepsTheFirstRecord", func(t *testing.T, s replay.Store) {
		// A producer retry can put the same (thread, seq) at two offsets.
		mustAppend(t, s, rec(0, 1, ts("dup", 1)), rec(0, 2, ts("dup", 1)), rec(0, 3, ts("dup", 2)))
		got := readAllThread(t, s, "dup", 0, 10)
		if !slices.Equal(seqs(got), []uint64{1, 2}) || !slices.Equal(offsets(got), []int64{1, 3}) {
			t.Fatalf("seqs %v at offsets %v, want [1 2] at [1 3]", seqs(got), offsets(got))
		}
		equalOffsets(t, "partition", offsets(readAllPartition(t, s, 0, -1, 10)), []int64{1, 2, 3})
	}},
	{"UnknownThreadIsEmpty", func(t *testing.T, s replay.Store) {
		mustAppend(t, s, rec(0, 1, ts("known", 1)))
		for _, id := range []string{"unknown", "know", "known ", "KNOWN"} {
			if got := readAllThread(t, s, id, 0, 10); len(got) != 0 {
				t.Fatalf("thread %q has %d records", id, len(got))
			}
		}
	}},
	{"ValuesByThreadMatchValuesByPartition", func(t *testing.T, s replay.Store) {
		for i := range int64(20) {
			mustAppend(t, s, rec(int32(i%3), i, ts("same", uint64(i+1))))
		}
		for _, r := range readAllThread(t, s, "same", 0, 6) {
			page, err := s.ReadPartition(ctxT(t), r.Partition, r.Offset-1, 1)
			if err != nil || len(page) != 1 || page[0].Offset != r.Offset || !bytes.Equal(page[0].Value, r.Value) {
				t.Fatalf("record p=%d o=%d by thread differs from the one by partition (%v)", r.Partition, r.Offset, err)
			}
		}
	}},
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for q := from; q <= to; q++ {
		out = append(out, q)
	}
	return out
}

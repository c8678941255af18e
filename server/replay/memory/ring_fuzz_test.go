package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/dashstream/dashstream/server/replay"
)

// FuzzRingInvariants drives a small ring with arbitrary appends (in and out
// of order, duplicates, values of any size, several partitions and threads,
// through Append and AppendFront) and checks after every step what Tiered
// and the conformance suite rely on:
//
//   - the bounds hold;
//   - every partition is a suffix: every offset given to the ring (by
//     Append, or by an AppendFront it accepted) at or above the oldest held
//     one is held, with the first value stored for it;
//   - Bounds agrees with the records;
//   - the thread index points only at held records, in sequence order, and
//     every held thread entry can be found by ReadThread.
func FuzzRingInvariants(f *testing.F) {
	f.Add([]byte{0, 1, 5, 0, 1, 4, 0, 1, 3, 1, 2, 9, 2, 0, 1})
	f.Add(bytes.Repeat([]byte{7, 0, 1, 9, 1, 2}, 20))
	f.Add([]byte{255, 0, 0, 254, 1, 1, 253, 2, 2})
	f.Fuzz(func(t *testing.T, script []byte) {
		// Values run up to 255 bytes, so some are larger than the ring.
		const maxRecords, maxBytes = 8, 200
		r, err := New(Config{MaxRecords: maxRecords, MaxBytes: maxBytes})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		type key struct {
			p int32
			o int64
		}
		first := map[key][]byte{}
		appended := map[int32][]int64{}
		for len(script) >= 3 {
			op, a, b := script[0], script[1], script[2]
			script = script[3:]
			p := int32(a % 3)
			o := int64(b)
			value := bytes.Repeat([]byte{a}, int(op)) // up to 255 bytes
			threads := []replay.ThreadSeq{{Thread: fmt.Sprintf("t%d", a%2), Seq: uint64(b) + 1}}
			if op%5 == 0 {
				threads = append(threads, replay.ThreadSeq{Thread: "batch", Seq: uint64(b)})
			}
			rec := replay.Record{Partition: p, Offset: o, Value: value, Threads: threads}
			given := true // the ring was given the record, not refused it
			if op%2 == 0 {
				if err := r.Append(ctx, rec); err != nil {
					t.Fatal(err)
				}
			} else {
				given = r.AppendFront(rec)
			}
			k := key{p, o}
			if _, ok := first[k]; !ok && len(value) <= maxBytes {
				// A value can be stored only if it fits; the first one that
				// was stored wins, so remember it once held.
				if held, _ := r.ReadPartition(ctx, p, o-1, 1); len(held) == 1 && held[0].Offset == o {
					first[k] = held[0].Value
				}
			}
			if given {
				appended[p] = append(appended[p], o)
			}

			s := r.Stats()
			if s.Records > maxRecords || s.Bytes > maxBytes {
				t.Fatalf("bounds exceeded: %+v", s)
			}
			total := 0
			for q := range int32(3) {
				held, _ := r.ReadPartition(ctx, q, -1, 1<<20)
				total += len(held)
				oldest, newest, ok, _ := r.Bounds(ctx, q)
				if ok != (len(held) > 0) || ok && (oldest != held[0].Offset || newest != held[len(held)-1].Offset) {
					t.Fatalf("partition %d: Bounds %d..%d ok=%v, records %v", q, oldest, newest, ok, offsetsOf(held))
				}
				if !ok {
					continue
				}
				offs := offsetsOf(held)
				if !slices.IsSorted(offs) || len(slices.Compact(slices.Clone(offs))) != len(offs) {
					t.Fatalf("partition %d: records %v not strictly ascending", q, offs)
				}
				for _, x := range appended[q] {
					if x >= oldest && !slices.Contains(offs, x) {
						t.Fatalf("partition %d: offset %d was appended and is above the oldest held %d, but missing: %v", q, x, oldest, offs)
					}
				}
				for _, h := range held {
					if want, ok := first[key{q, h.Offset}]; ok && !bytes.Equal(h.Value, want) {
						t.Fatalf("partition %d offset %d: a later value replaced the first", q, h.Offset)
					}
				}
			}
			if total != s.Records {
				t.Fatalf("reads find %d records, Stats %d", total, s.Records)
			}
			checkThreads(t, r)
		}
	})
}

func checkThreads(t *testing.T, r *Ring) {
	t.Helper()
	ctx := context.Background()
	for _, thread := range []string{"t0", "t1", "batch"} {
		got, _ := r.ReadThread(ctx, thread, 0, 1<<20)
		var last uint64
		for _, rec := range got {
			seq := rec.Threads[0].Seq
			if seq <= last || rec.Threads[0].Thread != thread {
				t.Fatalf("thread %s: entry %+v after seq %d", thread, rec.Threads, last)
			}
			last = seq
			held, _ := r.ReadPartition(ctx, rec.Partition, rec.Offset-1, 1)
			if len(held) != 1 || held[0].Offset != rec.Offset || !bytes.Equal(held[0].Value, rec.Value) {
				t.Fatalf("thread %s seq %d points at p=%d o=%d, which is not held", thread, seq, rec.Partition, rec.Offset)
			}
		}
	}
	for q := range int32(3) {
		held, _ := r.ReadPartition(ctx, q, -1, 1<<20)
		for _, h := range held {
			for _, ts := range h.Threads {
				if !ts.Indexed() {
					continue
				}
				got, _ := r.ReadThread(ctx, ts.Thread, ts.Seq-1, 1)
				if len(got) != 1 || got[0].Threads[0].Seq != ts.Seq {
					t.Fatalf("held p=%d o=%d has entry %+v that ReadThread cannot find", q, h.Offset, ts)
				}
			}
		}
	}
}

func offsetsOf(recs []replay.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Offset
	}
	return out
}

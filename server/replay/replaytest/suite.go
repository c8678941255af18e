// Package replaytest is the conformance suite of the replay.Store contract.
// Every implementation (memory.Ring, redisstore.Store, replay.Tiered) runs
// it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		replaytest.Run(t, func(t *testing.T) replay.Store { return newStore(t) })
//	}
//
// What the suite pins down beyond the interface's doc comments:
//
//   - Reads are exact pages: a page shorter than its limit is the last one,
//     and paging with the last returned offset (or sequence) as the next
//     exclusive cursor visits every stored record exactly once.
//   - Appending an offset already stored keeps the first record; so does
//     appending a (thread, sequence) already indexed.
//   - Thread entries with an empty thread or sequence 0 are not indexed.
//   - ReadThread returns each record with Threads set to exactly the one
//     entry {thread, seq} that placed it in the answer (the gateway needs the
//     sequence for gap detection). What ReadPartition puts in Threads is left
//     to the implementation (the ring returns what was appended, Redis
//     returns nothing: its partition keys hold only the value).
//   - Values come back byte for byte. Whether they are the caller's slices
//     (memory) or copies (Redis) is the implementation's choice and is
//     tested in its own package; no store modifies an appended Value.
//   - Records with a negative partition or offset are refused with
//     replay.ErrInvalidRecord.
//   - A cancelled context fails every method with an error wrapping
//     context.Canceled.
//   - Eviction (by bounds, trimming or TTL) leaves every partition, and
//     every thread, a suffix of what was appended.
//
// open must return an empty store that holds at least MinRecordsPerPartition
// records of one partition, MinRecords in total and MinValueBytes of values.
// With bounds below EvictionRecords records, the eviction subtest exercises
// eviction; with larger bounds it checks that nothing was lost.
package replaytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dashstream/dashstream/server/replay"
)

// Capacity the suite assumes of the stores it is given (see the package
// documentation), and the number of records the eviction subtest appends.
const (
	MinRecordsPerPartition = 1_500
	MinRecords             = 4_000
	MinValueBytes          = 32 << 20
	EvictionRecords        = 6_000
)

// Run runs the conformance suite; open is called once per subtest.
func Run(t *testing.T, open func(t *testing.T) replay.Store) {
	t.Helper()
	for _, group := range []struct {
		name  string
		tests []subtest
	}{
		{"ReadPartition", partitionTests},
		{"Append", appendTests},
		{"Meta", metaTests},
		{"ReadThread", threadTests},
		{"Lifecycle", lifecycleTests},
		{"Concurrency", concurrencyTests},
	} {
		t.Run(group.name, func(t *testing.T) {
			for _, st := range group.tests {
				t.Run(st.name, func(t *testing.T) { st.run(t, open(t)) })
			}
		})
	}
}

type subtest struct {
	name string
	run  func(t *testing.T, s replay.Store)
}

// ctxT returns a context bounded so that a hung store fails the test
// instead of hanging it.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// value is the deterministic payload of (p, o): a framing byte, binary
// noise and the coordinates, so a record read back from the wrong key shows.
func value(p int32, o int64) []byte {
	v := []byte{0x00, 0xff, 0x00, ':', '\n'}
	return fmt.Appendf(v, "partition=%d;offset=%d", p, o)
}

// rec builds the record at (p, o) with the given thread entries.
func rec(p int32, o int64, threads ...replay.ThreadSeq) replay.Record {
	return replay.Record{Partition: p, Offset: o, Value: value(p, o), Threads: threads}
}

func ts(thread string, seq uint64) replay.ThreadSeq {
	return replay.ThreadSeq{Thread: thread, Seq: seq}
}

func mustAppend(t *testing.T, s replay.Store, recs ...replay.Record) {
	t.Helper()
	ctx := ctxT(t)
	for _, r := range recs {
		if err := s.Append(ctx, r); err != nil {
			t.Fatalf("Append(p=%d, o=%d): %v", r.Partition, r.Offset, err)
		}
	}
}

// readAllPartition pages through p with the given page size, checking the
// paging contract on the way, and returns every record read.
func readAllPartition(t *testing.T, s replay.Store, p int32, after int64, limit int) []replay.Record {
	t.Helper()
	ctx := ctxT(t)
	var all []replay.Record
	cursor := after
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			t.Fatalf("partition %d: paging does not end", p)
		}
		page, err := s.ReadPartition(ctx, p, cursor, limit)
		if err != nil {
			t.Fatalf("ReadPartition(p=%d, after=%d, limit=%d): %v", p, cursor, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("ReadPartition(p=%d, after=%d, limit=%d) returned %d records", p, cursor, limit, len(page))
		}
		for _, r := range page {
			if r.Partition != p {
				t.Fatalf("ReadPartition(p=%d) returned a record of partition %d", p, r.Partition)
			}
			if r.Offset <= cursor {
				t.Fatalf("ReadPartition(p=%d, after=%d): offset %d is not after the cursor", p, after, r.Offset)
			}
			cursor = r.Offset
		}
		all = append(all, page...)
		if len(page) < limit {
			// A short page must be the last: the next read is empty.
			if more, err := s.ReadPartition(ctx, p, cursor, limit); err != nil || len(more) != 0 {
				t.Fatalf("ReadPartition(p=%d): a short page of %d (limit %d) was followed by %d more records (err %v)", p, len(page), limit, len(more), err)
			}
			return all
		}
	}
}

// readAllThread is readAllPartition for a thread.
func readAllThread(t *testing.T, s replay.Store, thread string, after uint64, limit int) []replay.Record {
	t.Helper()
	ctx := ctxT(t)
	var all []replay.Record
	cursor := after
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			t.Fatalf("thread %q: paging does not end", thread)
		}
		page, err := s.ReadThread(ctx, thread, cursor, limit)
		if err != nil {
			t.Fatalf("ReadThread(%q, after=%d, limit=%d): %v", thread, cursor, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("ReadThread(%q, after=%d, limit=%d) returned %d records", thread, cursor, limit, len(page))
		}
		for _, r := range page {
			if len(r.Threads) != 1 || r.Threads[0].Thread != thread {
				t.Fatalf("ReadThread(%q): record p=%d o=%d has Threads %+v, want exactly one entry of the thread", thread, r.Partition, r.Offset, r.Threads)
			}
			if seq := r.Threads[0].Seq; seq <= cursor {
				t.Fatalf("ReadThread(%q, after=%d): sequence %d is not after the cursor", thread, cursor, seq)
			}
			cursor = r.Threads[0].Seq
		}
		all = append(all, page...)
		if len(page) < limit {
			if more, err := s.ReadThread(ctx, thread, cursor, limit); err != nil || len(more) != 0 {
				t.Fatalf("ReadThread(%q): a short page of %d (limit %d) was followed by %d more records (err %v)", thread, len(page), limit, len(more), err)
			}
			return all
		}
	}
}

// offsets lists the offsets of recs.
func offsets(recs []replay.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Offset
	}
	return out
}

// seqs lists the thread sequences of records read by ReadThread.
func seqs(recs []replay.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Threads[0].Seq
	}
	return out
}

// checkValues fails unless every record carries value(p, o).
func checkValues(t *testing.T, recs []replay.Record) {
	t.Helper()
	for _, r := range recs {
		if want := value(r.Partition, r.Offset); !bytes.Equal(r.Value, want) {
			t.Fatalf("record p=%d o=%d: value %q, want %q", r.Partition, r.Offset, r.Value, want)
		}
	}
}

func rangeOffsets(from, to int64) []int64 {
	var out []int64
	for o := from; o <= to; o++ {
		out = append(out, o)
	}
	return out
}

func equalOffsets(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: offsets %v, want %v", what, abbreviate(got), abbreviate(want))
	}
}

// abbreviate keeps failure messages readable for long offset lists.
func abbreviate[T any](xs []T) string {
	if len(xs) <= 12 {
		return fmt.Sprint(xs)
	}
	return fmt.Sprintf("%v … %v (%d values)", xs[:6], xs[len(xs)-6:], len(xs))
}

// isCanceled reports whether err says the context was cancelled.
func isCanceled(err error) bool { return errors.Is(err, context.Canceled) }

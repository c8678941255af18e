package memory

import (
	"bytes"
	"context"
	"testing"

	"github.com/dashstream/dashstream/server/replay"
)

// BenchmarkReadPartition_Memory reads pages of 1000 ~1 KB records from a
// ring holding 10,000 (target ≥ 100k records/s).
func BenchmarkReadPartition_Memory(b *testing.B) {
	const held, page = 10_000, 1000
	r := newRing(b, Config{MaxRecords: held})
	ctx := context.Background()
	value := bytes.Repeat([]byte{0x5a}, 1024)
	for o := range int64(held) {
		if err := r.Append(ctx, replay.Record{Partition: 0, Offset: o, Value: value}); err != nil {
			b.Fatal(err)
		}
	}
	records := 0
	cursor := int64(-1)
	b.ReportAllocs()
	for b.Loop() {
		recs, err := r.ReadPartition(ctx, 0, cursor, page)
		if err != nil || len(recs) != page {
			b.Fatalf("page of %d, %v", len(recs), err)
		}
		records += len(recs)
		if cursor = recs[len(recs)-1].Offset; cursor >= held-page {
			cursor = -1
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(0, "roundtrips/page")
}

// BenchmarkAppend_Memory appends ~1 KB records to a full ring (every
// append evicts), across 8 partitions, each with a thread entry.
func BenchmarkAppend_Memory(b *testing.B) {
	r := newRing(b, Config{})
	ctx := context.Background()
	value := bytes.Repeat([]byte{0x5a}, 1024)
	var o int64
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Append(ctx, replay.Record{Partition: int32(o % 8), Offset: o, Value: value,
			Threads: []replay.ThreadSeq{{Thread: "bench", Seq: uint64(o) + 1}}}); err != nil {
			b.Fatal(err)
		}
		o++
	}
	b.ReportMetric(float64(o)/b.Elapsed().Seconds(), "records/s")
}

package redisstore

import (
	"bytes"
	"testing"

	"github.com/dashstream/dashstream/server/internal/redisserver"
	"github.com/dashstream/dashstream/server/replay"
)

// BenchmarkReadPartition_Redis reads pages of 1000 ~1 KB records from a
// real redis-server holding 10,000 (target ≥ 30k records/s, 1 round trip
// per page).
func BenchmarkReadPartition_Redis(b *testing.B) {
	const held, page = 10_000, 1000
	srv := redisserver.Start(b)
	s := openStore(b, srv, uniqueNamespace(), Config{})
	ctx := ctxT(b)
	value := bytes.Repeat([]byte{0x5a}, 1024)
	recs := make([]replay.Record, 0, held)
	for o := range int64(held) {
		recs = append(recs, replay.Record{Partition: 0, Offset: o, Value: value})
	}
	for batch := range chunks(recs, 1000) {
		if err := s.AppendBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.ReadPartition(ctx, 0, -1, 1); err != nil { // load the script
		b.Fatal(err)
	}
	records, pages := 0, 0
	cursor := int64(-1)
	trips := s.RoundTrips()
	b.ReportAllocs()
	for b.Loop() {
		got, err := s.ReadPartition(ctx, 0, cursor, page)
		if err != nil || len(got) != page {
			b.Fatalf("page of %d, %v", len(got), err)
		}
		records += len(got)
		pages++
		if cursor = got[len(got)-1].Offset; cursor >= held-page {
			cursor = -1
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(s.RoundTrips()-trips)/float64(pages), "roundtrips/page")
}

// BenchmarkAppendBatch_Redis writes batches of 500 ~1 KB records, each
// with a thread entry, in one round trip each.
func BenchmarkAppendBatch_Redis(b *testing.B) {
	const batchSize = 500
	srv := redisserver.Start(b)
	s := openStore(b, srv, uniqueNamespace(), Config{})
	ctx := ctxT(b)
	value := bytes.Repeat([]byte{0x5a}, 1024)
	batch := make([]replay.Record, batchSize)
	var o int64
	b.ReportAllocs()
	for b.Loop() {
		for i := range batch {
			batch[i] = replay.Record{Partition: int32(o % 4), Offset: o, Value: value,
				Threads: []replay.ThreadSeq{{Thread: "bench", Seq: uint64(o) + 1}}}
			o++
		}
		if err := s.AppendBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(o)/b.Elapsed().Seconds(), "records/s")
}

// chunks yields recs in chunks of n.
func chunks(recs []replay.Record, n int) func(func([]replay.Record) bool) {
	return func(yield func([]replay.Record) bool) {
		for len(recs) > 0 {
			k := min(n, len(recs))
			if !yield(recs[:k]) {
				return
			}
			recs = recs[k:]
		}
	}
}

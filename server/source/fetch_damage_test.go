package source

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/server/replay"
)

// TestFetcher_UnreadableDataEndsTheRangeWithAnError: a deep replay that
// meets a batch Kafka cannot serve must not end quietly as if the range
// held no more records: it returns ErrFetchUnavailable, which the hub
// reports as a gap.
func TestFetcher_UnreadableDataEndsTheRangeWithAnError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kafka")
	l := startLog(t, dir)
	t.Cleanup(l.close)
	var recs []*kgo.Record
	for i := range 400 {
		recs = append(recs, &kgo.Record{Partition: 0, Value: value(t, "th", uint64(i+1))})
	}
	for i := 0; i < len(recs); i += 5 {
		produce(t, l.emb.Brokers(), recs[i:i+5]...)
	}
	rewrite(t, segmentFile(t, dir, 0), func(b []byte) []byte {
		for i := range 8 {
			b[len(b)/2+i] ^= 0xff
		}
		return b
	})
	f := NewFetcher(Config{Brokers: l.emb.Brokers(), Topic: topic, MaxPayloadBytes: 1 << 20}, 1)
	defer f.Close()
	var last int64 = -1
	_, err := f.Range(context.Background(), 0, 11, 349, func(r replay.Record) error { last = r.Offset; return nil })
	if !errors.Is(err, ErrFetchUnavailable) {
		t.Fatalf("Range ended with %v after offset %d, want ErrFetchUnavailable", err, last)
	}
	if last < 190 || last >= 205 {
		t.Fatalf("last record %d, want the one before the damaged batch", last)
	}
}

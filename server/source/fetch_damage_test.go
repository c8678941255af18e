package source

import (
	"context"
	"errors"
	"testing"

	"github.com/dashstream/dashstream/server/replay"
)

// TestFetcher_UnreadableDataEndsTheRangeWithAnError: a deep replay that
// meets a batch Kafka cannot serve must not end quietly as if the range
// held no more records: it returns ErrFetchUnavailable, which the hub
// reports as a gap.
func TestFetcher_UnreadableDataEndsTheRangeWithAnError(t *testing.T) {
	l := damagedWhileRunning(t)
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

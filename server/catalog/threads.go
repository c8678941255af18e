package catalog

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/server/replay"
)

// RangeReader reads a range of a partition straight from Kafka
// (source.Fetcher).
type RangeReader interface {
	Range(ctx context.Context, p int32, from, to int64, fn func(replay.Record) error) (logStart int64, err error)
}

// ThreadStore is the replay store with one addition: a thread replay finds
// in Kafka what the store no longer holds. The replay store keeps the most
// recent records (a memory ring, Redis with a TTL); the catalog lists every
// run Kafka retains and knows where each one's records are, so a run opened
// from the list is rebuilt from its first retained message even when it is
// an hour old. Everything else is the wrapped store's.
type ThreadStore struct {
	replay.Store
	cat   *Catalog
	kafka RangeReader
}

// NewThreadStore wraps store.
func NewThreadStore(store replay.Store, cat *Catalog, kafka RangeReader) *ThreadStore {
	return &ThreadStore{Store: store, cat: cat, kafka: kafka}
}

// maxScan bounds the Kafka records one thread read scans.
const maxScan = 500_000

// ReadThread answers from the store when it holds the thread's records
// from after onwards, and from Kafka otherwise.
func (t *ThreadStore) ReadThread(ctx context.Context, thread string, after uint64, limit int) ([]replay.Record, error) {
	recs, err := t.Store.ReadThread(ctx, thread, after, limit)
	if err != nil && !errors.Is(err, replay.ErrUnavailable) {
		return recs, err
	}
	loc := t.cat.Locate(thread)
	if !loc.Present || after >= loc.LastSeq {
		return recs, err
	}
	// The first sequence Kafka can still give.
	want := max(after+1, loc.FirstSeq)
	if len(recs) > 0 && indexedSeq(recs[0], thread) <= want {
		return recs, err // the store has the start of what is asked
	}
	from := loc.FirstOffset
	to := loc.LastOffset
	if to-from > maxScan {
		from = to - maxScan
	}
	var found []replay.Record
	_, kerr := t.kafka.Range(ctx, loc.Partition, from, to, func(rec replay.Record) error {
		msg, derr := protocol.Decode(rec.Value)
		if derr != nil {
			return nil
		}
		var top uint64
		for _, h := range protocol.Headers(msg) {
			if h.GetThreadId() == thread || replay.NormalizeThreadID(h.GetThreadId()) == thread {
				top = max(top, h.GetSequence())
			}
		}
		if top > after {
			rec.Threads = []replay.ThreadSeq{{Thread: thread, Seq: top}}
			found = append(found, rec)
		}
		return nil
	})
	if kerr != nil || len(found) == 0 {
		return recs, err // Kafka could not help: what the store has
	}
	slices.SortStableFunc(found, func(a, b replay.Record) int {
		return cmp.Compare(a.Threads[0].Seq, b.Threads[0].Seq)
	})
	if len(found) > limit {
		found = found[:limit]
	}
	return found, nil
}

func indexedSeq(rec replay.Record, thread string) uint64 {
	for _, ts := range rec.Threads {
		if ts.Thread == thread {
			return ts.Seq
		}
	}
	return 0
}

package replay

import "context"

// Front is the memory tier of a Tiered store (memory.Ring implements it).
// It never does I/O, so Tiered calls it synchronously on the ingest path.
//
// A Front keeps, for every partition, a suffix of the records appended to
// it: it holds every record appended to it whose offset is at or above the
// oldest offset it holds of that partition. Tiered relies on that to answer
// a read from the front alone when the cursor lies inside the held range.
type Front interface {
	Store
	// AppendFront stores rec unless the front holds records of rec.Partition
	// and rec.Offset is below the oldest of them: storing it would make the
	// held range claim offsets in between that the front never saw. It
	// reports whether rec was stored (a duplicate counts as stored).
	AppendFront(rec Record) bool
	// ReadPartitionFront reads like ReadPartition and reports, from the same
	// instant, the oldest offset of p the front holds; held is false when it
	// holds nothing of p.
	ReadPartitionFront(p int32, after int64, limit int) (recs []Record, oldest int64, held bool)
}

// Durable is the backing tier of a Tiered store (redisstore.Store
// implements it). Its errors wrap ErrUnavailable when the backend cannot be
// reached.
type Durable interface {
	Store
	// AppendBatch appends several records in as few round trips as the
	// backend allows (one for Redis). Duplicates are no-ops, as in Append.
	AppendBatch(ctx context.Context, recs []Record) error
	// ReadPartitionBefore is ReadPartition restricted to offsets below
	// before: it returns up to limit records of p with after < offset <
	// before, ascending.
	ReadPartitionBefore(ctx context.Context, p int32, after, before int64, limit int) ([]Record, error)
	// Ping checks that the backend answers.
	Ping(ctx context.Context) error
}

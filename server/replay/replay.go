// Package replay stores recent Kafka records so that a client which
// reconnects can resume exactly where it stopped.
//
// A Store keeps records by partition and offset (for partition-mode resume)
// and indexes them by thread and sequence (for thread-mode resume). Two
// implementations share one contract, checked by one conformance suite
// (package replay/replaytest): a bounded in-memory ring (package
// replay/memory) and Redis with the upstream websocket-server's key layout
// (package replay/redisstore), so our server and an upstream one can share a
// Redis. Tiered puts a memory ring in front of a durable store.
//
// Offsets are Kafka offsets (int64 ≥ 0); cursors are exclusive: reads return
// records strictly after the given offset or sequence.
package replay

import (
	"context"
	"errors"
)

// ThreadSeq indexes a record under a thread: the record holds that thread's
// message with sequence Seq (for an EventBatch, its highest inner sequence
// for that thread).
type ThreadSeq struct {
	Thread string
	Seq    uint64
}

// Record is one Kafka record as the gateway forwards it.
type Record struct {
	Partition int32
	Offset    int64
	// Value is the Kafka value, byte for byte (framing byte included). It is
	// shared between the store, the broadcast and every connection, so no
	// one may modify it.
	Value []byte
	// Threads lists the (thread, sequence) index entries of the record:
	// none for messages without a thread or sequence, one for ordinary
	// messages, one per thread for an EventBatch. Thread ids are already
	// normalised (NormalizeThreadID).
	Threads []ThreadSeq
}

// Store is the replay store contract. Implementations are safe for
// concurrent use; every method honours ctx.
type Store interface {
	// Append adds a record. Appending an offset that is already stored
	// replaces nothing and is not an error (two gateway instances sharing
	// a Redis both append every record). A store may evict its oldest
	// records to stay within its bounds.
	Append(ctx context.Context, rec Record) error
	// ReadPartition returns up to limit records of partition p with offsets
	// greater than after, in ascending offset order. It never skips a stored
	// record: if the result is cut by limit, the next call with the last
	// returned offset continues exactly there.
	ReadPartition(ctx context.Context, p int32, after int64, limit int) ([]Record, error)
	// ReadThread returns up to limit records indexed under thread with
	// sequences greater than after, in ascending sequence order, each with
	// its partition and offset. Same paging guarantee as ReadPartition.
	ReadThread(ctx context.Context, thread string, after uint64, limit int) ([]Record, error)
	// Bounds returns the oldest and newest stored offsets of partition p;
	// ok is false when the store holds nothing for p.
	Bounds(ctx context.Context, p int32) (oldest, newest int64, ok bool, err error)
	// Partitions lists the partitions the store holds records of, ascending.
	Partitions(ctx context.Context) ([]int32, error)
	// Clear removes every record and returns how many keys or entries were
	// deleted (for the admin cursor_reset).
	Clear(ctx context.Context) (int64, error)
}

// ErrUnavailable wraps errors of a store whose backend cannot be reached
// (Redis down); callers degrade instead of failing the request.
var ErrUnavailable = errors.New("replay store unavailable")

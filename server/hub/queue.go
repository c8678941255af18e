package hub

import (
	"sync"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/replay"
)

// keepQueueCap is the largest backing array an empty queue keeps: enough for
// the bursts of a live stream, small enough that thousands of idle clients
// cost little.
const keepQueueCap = 16

// liveRecord is a live record with its frames (appendPair), encoded once
// for every client.
type liveRecord struct {
	replay.Record
	wire []byte
	// gapTo is set (with Offset the first missing offset) for a hole the
	// source skipped: offsets Offset..gapTo of Partition will never exist.
	gapTo int64
	gap   *control.Gap
}

// liveQueue is one connection's bounded FIFO of live records. Unlike a
// buffered channel it holds no memory while empty: a channel of ClientQueue
// records is allocated whole (64 KB per client at the default 1,024), which
// dominated the gateway's memory with thousands of clients. It grows on
// demand up to max and gives the memory back once drained.
type liveQueue struct {
	mu   sync.Mutex
	recs []liveRecord // queued records are recs[head:]
	head int
	max  int
	// ready holds a token whenever records may be queued: push leaves one
	// when it makes the queue non-empty, and the writer drains the queue
	// (or leaves a token itself) after taking it.
	ready chan struct{}
}

func newLiveQueue(max int) *liveQueue {
	return &liveQueue{max: max, ready: make(chan struct{}, 1)}
}

// push queues rec unless the queue is full; it never blocks.
func (q *liveQueue) push(rec liveRecord) bool {
	q.mu.Lock()
	n := len(q.recs) - q.head
	if n >= q.max {
		q.mu.Unlock()
		return false
	}
	if q.head > 0 && len(q.recs) == cap(q.recs) {
		// Reuse the room popped records left at the front.
		copy(q.recs, q.recs[q.head:])
		clear(q.recs[n:])
		q.recs, q.head = q.recs[:n], 0
	}
	q.recs = append(q.recs, rec)
	q.mu.Unlock()
	if n == 0 {
		q.signal()
	}
	return true
}

// pop takes the oldest record.
func (q *liveQueue) pop() (liveRecord, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.recs) {
		return liveRecord{}, false
	}
	rec := q.recs[q.head]
	q.recs[q.head] = liveRecord{} // the value is not kept alive by the queue
	q.head++
	if q.head == len(q.recs) {
		q.recs, q.head = q.recs[:0], 0
		if cap(q.recs) > keepQueueCap {
			q.recs = nil
		}
	}
	return rec, true
}

// len is the number of queued records.
func (q *liveQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.recs) - q.head
}

// signal leaves a token in ready, if there is none.
func (q *liveQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

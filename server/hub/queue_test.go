package hub

import (
	"testing"

	"github.com/dashstream/dashstream/server/replay"
)

func TestLiveQueue_BoundedFIFOThatGivesItsMemoryBack(t *testing.T) {
	q := newLiveQueue(100)
	if q.recs != nil {
		t.Fatal("a new queue holds memory")
	}
	rec := func(o int64) liveRecord { return liveRecord{Record: replay.Record{Offset: o}} }
	for o := range int64(100) {
		if !q.push(rec(o)) {
			t.Fatalf("push %d refused below the bound", o)
		}
	}
	if q.push(rec(100)) {
		t.Fatal("push accepted past the bound")
	}
	select {
	case <-q.ready:
	default:
		t.Fatal("no token after the queue became non-empty")
	}
	// Pop half, push again: the room at the front is reused, order kept.
	for want := range int64(50) {
		if r, ok := q.pop(); !ok || r.Offset != want {
			t.Fatalf("pop: %v %v, want %d", r.Offset, ok, want)
		}
	}
	for o := int64(100); o < 150; o++ {
		if !q.push(rec(o)) {
			t.Fatalf("push %d refused with room", o)
		}
	}
	if q.len() != 100 {
		t.Fatalf("len %d, want 100", q.len())
	}
	for want := int64(50); want < 150; want++ {
		if r, ok := q.pop(); !ok || r.Offset != want {
			t.Fatalf("pop: %v %v, want %d", r.Offset, ok, want)
		}
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop from an empty queue")
	}
	if q.recs != nil {
		t.Fatalf("a drained queue keeps %d records of memory", cap(q.recs))
	}
	// A small queue keeps its small array for the next record.
	q.push(rec(1))
	q.pop()
	if cap(q.recs) == 0 || cap(q.recs) > keepQueueCap {
		t.Fatalf("drained small queue keeps cap %d", cap(q.recs))
	}
}

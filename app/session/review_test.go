package session

import (
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// A gap on a partition no known run came from touches no run: it must not
// be read as "scope unknown" and quarantine (and reset) everything.
func TestGap_OnAPartitionWithoutRunsQuarantinesNothing(t *testing.T) {
	s := offline(t)
	s.live.Store(1)
	for i, th := range []string{"a", "b"} {
		if err := s.handle(nil, item(t, 1, 0, int64(i), event(t, th, 1))); err != nil {
			t.Fatal(err)
		}
	}
	p := int32(7)
	if err := s.control(nil, decoded{job: job{epoch: 1, ctrl: &control.Gap{Partition: &p, Count: 1}}}); err != nil {
		t.Fatal(err)
	}
	var quarantined int
	s.Read(func(st *runstate.Store) { quarantined = len(st.RunsNeedingReplay()) })
	if quarantined != 0 || len(s.heal.queued)+len(s.heal.inflight) != 0 {
		t.Errorf("%d runs quarantined, %v queued for healing, by a gap on a partition none came from", quarantined, s.heal.queued)
	}
}

// Records a thread replay sends are newer than live records still on
// their way: applying them must not move the partition's cursor past
// those live records, or a reload would skip them.
func TestCursor_ThreadReplayFramesDoNotMoveThePartitionCursor(t *testing.T) {
	s := offline(t)
	s.live.Store(1)
	cur := s.Cursors()
	if err := s.handle(nil, item(t, 1, 0, 10, event(t, "a", 1))); err != nil {
		t.Fatal(err)
	}
	s.heal.add([]string{"r"}, false)
	s.heal.next(1) // "r" is being replayed
	for i, off := range []int64{40, 41} {
		if err := s.handle(nil, item(t, 1, 0, off, event(t, "r", uint64(i+1)))); err != nil {
			t.Fatal(err)
		}
	}
	if o, _ := cur.Offset(0); o != 10 {
		t.Fatalf("after the replayed frames the cursor is %d, want 10", o)
	}
	if q, _ := cur.Sequence("r"); q != 2 {
		t.Errorf("the replayed thread's sequence is %d, want 2", q)
	}
	// The live record that was still on its way moves it, in order.
	if err := s.handle(nil, item(t, 1, 0, 11, event(t, "a", 2))); err != nil {
		t.Fatal(err)
	}
	if o, _ := cur.Offset(0); o != 11 {
		t.Errorf("after the live record the cursor is %d, want 11", o)
	}
}

// Offsets handled under one resume namespace mean nothing under another:
// a server that now reads another Kafka must not receive them back.
func TestVersion_NewNamespaceDoesNotInheritOffsets(t *testing.T) {
	s := offline(t)
	s.adoptVersion(serverVersion{Namespace: "v1_old"})
	s.live.Store(1)
	if err := s.handle(nil, item(t, 1, 0, 500000, event(t, "a", 1))); err != nil {
		t.Fatal(err)
	}
	s.adoptVersion(serverVersion{Namespace: "v1_new"})
	s.housekeeping(time.Now().Add(time.Hour), 1)
	if o, ok := s.Cursors().Offset(0); ok {
		t.Errorf("the new namespace's store holds offset %d from the old one", o)
	}
}

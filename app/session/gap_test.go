//go:build !(js && wasm)

package session

import (
	"slices"
	"sync"
	"testing"

	"github.com/dashstream/dashstream/protocol/runstate"
)

// quarantines records every set of runs the session quarantined.
type quarantines struct {
	mu   sync.Mutex
	sets [][]string
}

func (q *quarantines) hook(s *Session) {
	s.hookQuarantine = func(th []string) {
		q.mu.Lock()
		q.sets = append(q.sets, slices.Clone(th))
		q.mu.Unlock()
	}
}

func (q *quarantines) all() [][]string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.sets)
}

// TestGap_QuarantineIsScoped: a hole on partition 1 quarantines the runs of
// partition 1 only, and the session heals them itself by replaying their
// threads from the start.
func TestGap_QuarantineIsScoped(t *testing.T) {
	g := newGateway(t, 10_000)
	var q quarantines
	s, _ := startSession(t, g, func(c *Config) {})
	q.hook(s)
	eventually(t, "connected", connected(s))
	g.produce(0, "a", events(t, "a", 1, 5)...)
	g.produce(1, "b", events(t, "b", 1, 5)...)
	g.produce(1, "c", events(t, "c", 1, 2)...)
	eventually(t, "12 applied", func() bool { return s.Health().Applied == 12 })

	g.stop()
	eventually(t, "reconnecting", func() bool { return s.Health().State == Reconnecting })
	g.produce(1, "b", event(t, "b", 6))
	g.skip(1, 1) // an offset the server never had: the partition replay reports a gap
	g.produce(1, "b", event(t, "b", 7))
	g.produce(0, "a", event(t, "a", 6))
	g.up()

	eventually(t, "b healed and complete", func() bool {
		last, n, integ, _ := runOf(s, "b")
		return last == 7 && n == 7 && integ == "gap=false corrupted=false" && len(s.Health().ReplayingThreads) == 0
	})
	sets := q.all()
	if len(sets) != 1 || !slices.Equal(sets[0], []string{"b", "c"}) {
		t.Fatalf("quarantined %v, want exactly the runs of partition 1 [b c]", sets)
	}
	if last, n, integ, _ := runOf(s, "a"); last != 6 || n != 6 || integ != "gap=false corrupted=false" {
		t.Errorf("run a of partition 0 was touched: last %d, %d events, %s", last, n, integ)
	}
	s.Read(func(st *runstate.Store) {
		if p := st.Run("a").Integrity().Problems; len(p) != 0 {
			t.Errorf("run a has problems %v", p)
		}
	})
	if last, n, integ, _ := runOf(s, "c"); last != 2 || n != 2 || integ != "gap=false corrupted=false" {
		t.Errorf("run c was not rebuilt: last %d, %d events, %s", last, n, integ)
	}
}

// TestGap_StaleCursorMarksItsPartitionAndALostHistoryStaysMarked: records
// of partition 1 expire while the page is away; the runs of partition 1 are
// quarantined, and since their thread replay has a hole too, they stay
// marked (shown untrusted, never silently patched). Partition 0 is fine.
func TestGap_StaleCursorMarksItsPartitionAndALostHistoryStaysMarked(t *testing.T) {
	g := newGateway(t, 30)
	var q quarantines
	s, _ := startSession(t, g, nil)
	q.hook(s)
	eventually(t, "connected", connected(s))
	g.produce(0, "a", events(t, "a", 1, 5)...)
	g.produce(1, "b", events(t, "b", 1, 5)...)
	eventually(t, "10 applied", func() bool { return s.Health().Applied == 10 })

	g.stop()
	eventually(t, "reconnecting", func() bool { return s.Health().State == Reconnecting })
	g.produce(1, "b", events(t, "b", 6, 40)...) // the ring keeps 30: b's 6..12 expire
	g.produce(0, "a", events(t, "a", 6, 8)...)
	g.up()

	eventually(t, "b marked after its replay", func() bool {
		_, _, integ, _ := runOf(s, "b")
		return integ == "gap=true corrupted=false" && len(s.Health().ReplayingThreads) == 0 && s.Health().Quarantined == 1
	})
	t.Logf("quarantined %v; health %+v", q.all(), s.Health().DecodeErrors)
	for _, set := range q.all() {
		if slices.Contains(set, "a") {
			t.Errorf("run a of partition 0 was quarantined: %v", q.all())
		}
	}
	if last, _, integ, _ := runOf(s, "a"); last != 8 || integ != "gap=false corrupted=false" {
		t.Errorf("run a: last %d, %s", last, integ)
	}
}

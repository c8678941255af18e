//go:build !(js && wasm)

package session

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/server/replay"
)

func TestFollow_HistoryLoadsUntilTheRunIsWholeFromItsFirstMessage(t *testing.T) {
	g := newGateway(t, 10_000)
	g.produce(0, "late", events(t, "late", 1, 30)...) // before the page opened
	// Every frame of the replay must find the history loading.
	var replayed, early atomic.Int32
	s, _ := startHooked(t, g, nil, func(s *Session) {
		s.hookApplied = func(d *decoded, _ runstate.Outcome) {
			if slices.Contains(s.heal.inflight, "late") {
				replayed.Add(1)
				if h := s.History("late"); !h.Followed || !h.Loading || h.Complete {
					early.Add(1)
				}
			}
		}
	})
	eventually(t, "connected", connected(s))
	g.produce(0, "late", events(t, "late", 31, 35)...)
	eventually(t, "joined mid-stream", func() bool { last, _, _, ok := runOf(s, "late"); return ok && last == 35 })
	if h := s.History("late"); h.Followed || h.Loading || h.Complete {
		t.Errorf("an unfollowed run has a history status: %+v", h)
	}

	s.Follow("late")
	eventually(t, "complete", func() bool { return s.History("late").Complete })
	if replayed.Load() != 35 || early.Load() != 0 {
		t.Errorf("%d frames replayed, %d of them while the history was not said to be loading", replayed.Load(), early.Load())
	}
	if _, n, integ, _ := runOf(s, "late"); n != 35 || integ != "gap=false corrupted=false" {
		t.Errorf("complete with %d events (%s), want all 35, trusted", n, integ)
	}
	if h := s.History("late"); h.Loading || h.MissingBefore != 0 || h.Attempts != 1 || h.Err != "" {
		t.Errorf("history %+v", h)
	}
}

func TestFollow_RunWhoseStartLeftRetentionSaysWhatIsGone(t *testing.T) {
	g := newGateway(t, 20) // the server keeps the last 20 records only
	g.produce(0, "old", events(t, "old", 1, 15)...)
	g.produce(0, "other", events(t, "other", 1, 12)...) // pushes "old" 1..7 out
	s, _ := startSession(t, g, nil)
	eventually(t, "connected", connected(s))
	s.Follow("old")
	eventually(t, "complete", func() bool { return s.History("old").Complete })
	h := s.History("old")
	last, n, integ, _ := runOf(s, "old")
	if h.MissingBefore != 7 || last != 15 || n != 8 || integ != "gap=true corrupted=false" {
		t.Errorf("history %+v; run last %d with %d events (%s); want sequences 1..7 reported gone, 8..15 applied, marked as having lost messages", h, last, n, integ)
	}
}

func TestFollow_AsksAgainUntilTheServerSendsTheWholeRun(t *testing.T) {
	g := newGateway(t, 10_000)
	g.produce(0, "x", events(t, "x", 1, 10)...)
	// The first two thread replays of x come back empty, as from a server
	// whose replay store has not caught up yet.
	var calls atomic.Int32
	filter := func(thread string, recs []replay.Record) []replay.Record {
		if thread == "x" && calls.Add(1) <= 2 {
			return nil
		}
		return recs
	}
	g.threadFilter.Store(&filter)
	s, _ := startSession(t, g, func(c *Config) { c.HistoryRetry = 10 * time.Millisecond })
	eventually(t, "connected", connected(s))
	s.Follow("x")
	eventually(t, "complete", func() bool { return s.History("x").Complete })
	if _, n, _, _ := runOf(s, "x"); n != 10 {
		t.Errorf("%d events, want 10", n)
	}
	if h := s.History("x"); h.Attempts != 3 || h.MissingBefore != 0 {
		t.Errorf("history %+v, want complete on the third attempt", h)
	}
}

func TestFollow_ALiveGapMakesAFollowedRunLoadAgainUntilHealed(t *testing.T) {
	g := newGateway(t, 10_000)
	// Every frame of b applied while a replay of b is under way must find
	// b's history loading (the apply loop's own hook: no notification is
	// missed).
	var replayedFrames, wronglyComplete atomic.Int32
	var q quarantines
	s, _ := startHooked(t, g, nil, func(s *Session) {
		q.hook(s)
		s.hookApplied = func(d *decoded, _ runstate.Outcome) {
			if slices.Contains(s.heal.inflight, "b") && slices.Contains(headerThreads(d.msg), "b") {
				replayedFrames.Add(1)
				if !s.History("b").Loading {
					wronglyComplete.Add(1)
				}
			}
		}
	})
	eventually(t, "connected", connected(s))
	g.produce(1, "b", events(t, "b", 1, 5)...)
	eventually(t, "b applied live", func() bool { last, _, _, _ := runOf(s, "b"); return last == 5 })
	s.Follow("b") // seen whole from sequence 1: complete at once
	if h := s.History("b"); !h.Complete || h.Attempts != 0 {
		t.Fatalf("history %+v", h)
	}
	t.Cleanup(func() { t.Logf("quarantines %v, flow %+v", q.all(), s.Health().Flow) })
	g.stop()
	eventually(t, "reconnecting", func() bool { return s.Health().State == Reconnecting })
	g.produce(1, "b", event(t, "b", 6))
	g.skip(1, 1) // a hole on the partition: the run is quarantined and replayed
	g.produce(1, "b", event(t, "b", 7))
	g.up()
	eventually(t, "healed and complete again", func() bool {
		last, n, integ, _ := runOf(s, "b")
		return s.History("b").Complete && last == 7 && n == 7 && integ == "gap=false corrupted=false"
	})
	if h := s.History("b"); h.Attempts != 1 || replayedFrames.Load() == 0 || wronglyComplete.Load() != 0 {
		t.Errorf("history %+v; %d frames of the heal's replay, %d of them applied while the run was said complete",
			h, replayedFrames.Load(), wronglyComplete.Load())
	}
}

func TestFollow_PinsUpToFourRunsAndReplacesTheSet(t *testing.T) {
	g := newGateway(t, 10_000)
	s, _ := startSession(t, g, nil)
	eventually(t, "connected", connected(s))
	for _, th := range []string{"a", "b", "c", "d", "e"} {
		g.produce(0, th, events(t, th, 1, 3)...)
	}
	eventually(t, "15 applied", func() bool { return s.Health().Applied == 15 })
	s.Follow("a", "b", "a", "", "c", "d", "e")
	pinned := func() []string {
		var out []string
		s.Read(func(st *runstate.Store) {
			for _, th := range []string{"a", "b", "c", "d", "e"} {
				if st.Pinned(th) {
					out = append(out, th)
				}
			}
		})
		return out
	}
	if got := pinned(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("pinned %v, want the first four distinct", got)
	}
	for _, th := range []string{"a", "b", "c", "d"} {
		if h := s.History(th); !h.Complete || h.Attempts != 0 {
			t.Errorf("%s, seen whole from sequence 1: %+v, want complete without a replay", th, h)
		}
	}
	s.Follow("d", "e")
	if got := pinned(); !slices.Equal(got, []string{"d", "e"}) {
		t.Errorf("pinned %v after Follow(d, e)", got)
	}
	if h := s.History("a"); h.Followed {
		t.Errorf("a is still followed: %+v", h)
	}
	s.Unfollow()
	if got := pinned(); len(got) != 0 {
		t.Errorf("pinned %v after Unfollow", got)
	}
}

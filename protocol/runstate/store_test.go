package runstate

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dashstream/dashstream/protocol/pb"
)

func TestBounds_RunsEvictLeastRecentlyActiveButNeverPinned(t *testing.T) {
	s := NewStore(Config{MaxRuns: 3})
	s.Pin("a")
	for i, th := range []string{"a", "b", "c"} {
		s.Apply(graphStart(th, 1, `{}`), meta(i))
	}
	s.Apply(nodeStart("b", 2, "n"), meta(5)) // b is now more recent than c
	o := s.Apply(graphStart("d", 1, `{}`), meta(6))
	if !slices.Equal(o.Evicted, []string{"c"}) || s.Run("c") != nil || s.Run("a") == nil {
		t.Fatalf("evicted %v", o.Evicted)
	}
	o = s.Apply(graphStart("e", 1, `{}`), meta(7))
	if !slices.Equal(o.Evicted, []string{"b"}) || s.Run("a") == nil {
		t.Fatalf("evicted %v (a is pinned and oldest)", o.Evicted)
	}
	if st := s.Stats(); st.Runs != 3 || st.Pinned != 1 || st.EvictedRuns != 2 {
		t.Fatalf("stats %+v", st)
	}
	// With every run pinned, nothing is evicted: the bound yields.
	for _, th := range []string{"a", "d", "e", "f"} {
		s.Pin(th)
	}
	if o := s.Apply(graphStart("f", 1, `{}`), meta(8)); len(o.Evicted) != 0 || len(s.Runs()) != 4 {
		t.Fatalf("pinned runs evicted: %+v", o)
	}
	s.Unpin("d")
	if !s.Pinned("a") || s.Pinned("d") {
		t.Fatalf("pins")
	}
}

func TestBounds_EventsPerRun(t *testing.T) {
	s := NewStore(Config{MaxEventsPerRun: 10, KeyframeEvery: 2})
	applyAll(s, simpleRun(t, "t", 30)...)
	r := s.Run("t")
	if r.EventCount() != 10 || r.Event(0).Seq != 22 || r.Event(9).Seq != 31 {
		t.Fatalf("events %d first %d", r.EventCount(), r.Event(0).Seq)
	}
	// Time travel still reaches the oldest kept event, not much further.
	first, _, _ := r.SeekRange()
	if first > 22 || first < 20 {
		t.Fatalf("seek range starts at %d", first)
	}
	if st, err := r.StateAt(22); err != nil || st.String() != `{"n":21}` {
		t.Fatalf("StateAt(22) %v %v", st, err)
	}
}

func TestBounds_KeyframesPerRun(t *testing.T) {
	s := NewStore(Config{KeyframeEvery: 4, MaxKeyframesPerRun: 3})
	applyAll(s, simpleRun(t, "t", 100)...)
	k, p := s.Run("t").timeline.counts()
	if k != 3 || p > 3*4 {
		t.Fatalf("keyframes %d patches %d", k, p)
	}
}

func TestOutcome_ChangedListsEachRunOnce(t *testing.T) {
	s := NewStore(Config{})
	batch := &pb.DashStreamMessage{Message: &pb.DashStreamMessage_EventBatch{EventBatch: &pb.EventBatch{
		Header: &pb.Header{ThreadId: "a"},
		Events: []*pb.Event{graphStart("a", 1, `{}`).GetEvent(), nodeStart("b", 1, "x").GetEvent(), nodeStart("a", 2, "x").GetEvent()},
	}}}
	o := s.Apply(batch, meta(0))
	if !slices.Equal(o.Changed, []string{"a", "b"}) || o.Counts[Applied] != 3 {
		t.Fatalf("outcome %+v", o)
	}
}

func TestReplay_RunsNeedingReplayAndResetRun(t *testing.T) {
	s := NewStore(Config{ReorderWindow: 1})
	for i, th := range []string{"ok", "bad", "pinned"} {
		for j, m := range appendRun(t, th, 3) {
			s.Apply(m, meta(10*i+j))
		}
	}
	s.Pin("pinned")
	s.Apply(diff(t, "bad", 6, "", add("/log/-", "6")), meta(40))
	s.Apply(diff(t, "bad", 7, "", add("/log/-", "7")), meta(41)) // 5 declared missing
	s.MarkQuarantined([]string{"pinned"}, "server gap", at(42))
	reqs := s.RunsNeedingReplay()
	if len(reqs) != 2 || reqs[0].Thread != "pinned" || !reqs[0].Pinned || reqs[1].Thread != "bad" || reqs[1].LastSeq != 7 || reqs[1].FromStart {
		t.Fatalf("requests %+v", reqs)
	}
	if reqs[1].Reason == "" {
		t.Fatalf("no reason")
	}
	// The session resets the run and the server replays it from the start.
	if !s.ResetRun("bad", 0) || s.ResetRun("nope", 0) {
		t.Fatalf("ResetRun")
	}
	r := s.Run("bad")
	if r.EventCount() != 0 || r.LastSeq() != 0 {
		t.Fatalf("not reset: %d events, last %d", r.EventCount(), r.LastSeq())
	}
	replay := appendRun(t, "bad", 6)
	// A live message overtakes the replay: it waits for its turn.
	s.Apply(diff(t, "bad", 8, `{"log":[1,2,3,4,5,6,7]}`, add("/log/-", "7")), meta(50))
	for i, m := range replay {
		s.Apply(m, meta(51+i))
	}
	if r.LastSeq() != 8 || !r.Trusted() || stateText(r) != `{"log":[1,2,3,4,5,6,7]}` {
		t.Fatalf("rebuilt: last %d state %s integrity %+v", r.LastSeq(), stateText(r), r.Integrity())
	}
	if reqs := s.RunsNeedingReplay(); len(reqs) != 1 || reqs[0].Thread != "pinned" {
		t.Fatalf("requests after rebuild %+v", reqs)
	}
}

func TestClear_DropsRunsAndQuarantineKeepsPins(t *testing.T) {
	s := NewStore(Config{})
	s.Pin("a")
	applyAll(s, graphStart("a", 1, `{}`), event("", 1, pb.EventType_EVENT_TYPE_NODE_START, "x", nil))
	s.Clear()
	if len(s.Runs()) != 0 || len(s.Unbound()) != 0 || !s.Pinned("a") {
		t.Fatalf("after Clear: %d runs, %d unbound", len(s.Runs()), len(s.Unbound()))
	}
	// A thread seen again after Clear starts over.
	if o := s.Apply(graphStart("a", 1, `{}`), meta(9)); o.Disposition != Applied {
		t.Fatalf("%+v", o)
	}
}

func TestStore_RunsAreListedNewestFirst(t *testing.T) {
	s := NewStore(Config{})
	for i := range 5 {
		m := graphStart(fmt.Sprint("t", i), 1, `{}`)
		m.GetEvent().Header.TimestampUs = int64(1000 * (i % 3))
		s.Apply(m, meta(i))
	}
	var got []string
	for _, r := range s.Runs() {
		got = append(got, r.ThreadID())
	}
	if !slices.Equal(got, []string{"t2", "t4", "t1", "t3", "t0"}) {
		t.Fatalf("order %v", got)
	}
}

func TestConfig_DefaultsFillZeroFields(t *testing.T) {
	c := NewStore(Config{MaxRuns: 7, ReorderWindow: -1}).Config()
	d := DefaultConfig()
	if c.MaxRuns != 7 || c.ReorderWindow != d.ReorderWindow || c.MaxSnapshotBytes != 10<<20 || c.BaselineWait != d.BaselineWait {
		t.Fatalf("config %+v", c)
	}
}

func TestNames_AreStableLabels(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Applied.String(), "applied"}, {Invalid.String(), "invalid"}, {Disposition(99).String(), "invalid"},
		{KindStateDiff.String(), "state_diff"}, {Kind(99).String(), "unknown"},
		{ProblemHashMismatch.String(), "hash_mismatch"}, {ProblemKind(0).String(), "unknown"},
		{NodeFailed.String(), "failed"}, {RunCompleted.String(), "completed"}, {RunStatus(9).String(), "unknown"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

package runstate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol/pb"
)

// The upstream UI deduplicated after mutating, so a duplicate StateDiff at
// lastAppliedSeq was applied twice (§6.3). Here the second copy is caught
// before anything changes: not even the event log grows.
func TestApply_DuplicateAtLastAppliedSeqIsNotReapplied(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"items":[]}`))
	d := diff(t, "t", 2, `{"items":["x"]}`, add("/items/-", `"x"`))
	if o := s.Apply(d, meta(1)); o.Disposition != Applied {
		t.Fatalf("first copy: %v", o.Disposition)
	}
	r := s.Run("t")
	events, verified := r.EventCount(), r.Integrity().HashesVerified
	o := s.Apply(d, meta(2))
	if o.Disposition != Duplicate || len(o.Changed) != 0 || !o.Committable() {
		t.Fatalf("second copy: %+v", o)
	}
	if got := stateText(r); got != `{"items":["x"]}` {
		t.Fatalf("state after duplicate = %s", got)
	}
	if r.EventCount() != events || r.Integrity().HashesVerified != verified || !r.Trusted() {
		t.Fatalf("duplicate mutated the run: events %d→%d, integrity %+v", events, r.EventCount(), r.Integrity())
	}
	if s.Stats().Duplicates != 1 {
		t.Fatalf("stats %+v", s.Stats())
	}
}

func TestApply_DuplicateOlderThanLastIsNotReapplied(t *testing.T) {
	s := NewStore(Config{})
	msgs := simpleRun(t, "t", 3)
	applyAll(s, msgs...)
	for _, m := range msgs {
		if o := s.Apply(m, meta(9)); o.Disposition != Duplicate {
			t.Fatalf("replayed seq %d: %v", m.GetStateDiff().GetHeader().GetSequence(), o.Disposition)
		}
	}
	if got := stateText(s.Run("t")); got != `{"n":3}` {
		t.Fatalf("state = %s", got)
	}
}

func TestApply_DuplicateWhileWaitingIsNotBufferedTwice(t *testing.T) {
	s := NewStore(Config{})
	msgs := simpleRun(t, "t", 3)
	applyAll(s, msgs[0])
	if o := s.Apply(msgs[2], meta(1)); o.Disposition != Buffered || o.Committable() {
		t.Fatalf("ahead of turn: %+v", o)
	}
	if o := s.Apply(msgs[2], meta(2)); o.Disposition != Duplicate {
		t.Fatalf("second copy while waiting: %v", o.Disposition)
	}
	if w := s.Run("t").Waiting(); w != 1 {
		t.Fatalf("waiting = %d", w)
	}
}

func TestApply_OutOfOrderWithinWindowAppliesInSequence(t *testing.T) {
	s := NewStore(Config{})
	msgs := simpleRun(t, "t", 5) // seqs 1..6
	order := []int{0, 3, 2, 5, 1, 4}
	var last Outcome
	for i, k := range order {
		last = s.Apply(msgs[k], meta(i))
	}
	r := s.Run("t")
	if last.Counts[Applied] != 2 { // seq 5 arrives and releases 6
		t.Fatalf("last outcome %+v", last)
	}
	if r.LastSeq() != 6 || r.Waiting() != 0 {
		t.Fatalf("last %d, waiting %d", r.LastSeq(), r.Waiting())
	}
	if got := stateText(r); got != `{"n":5}` || !r.Trusted() {
		t.Fatalf("state %s, integrity %+v", got, r.Integrity())
	}
	var seqs []uint64
	for _, e := range r.Events(nil) {
		seqs = append(seqs, e.Seq)
	}
	if !slices.Equal(seqs, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("event order %v", seqs)
	}
	if r.Integrity().HashesVerified != 5 {
		t.Fatalf("verified %d", r.Integrity().HashesVerified)
	}
}

func TestApply_ReleaseCountsEveryAppliedMessage(t *testing.T) {
	s := NewStore(Config{})
	msgs := simpleRun(t, "t", 3) // 1..4
	s.Apply(msgs[0], meta(0))
	s.Apply(msgs[3], meta(1))
	s.Apply(msgs[2], meta(2))
	o := s.Apply(msgs[1], meta(3))
	if o.Disposition != Applied || o.Counts[Applied] != 3 {
		t.Fatalf("outcome %+v", o)
	}
}

func TestApply_UnsequencedDedupedByMessageID(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{}`))
	tr := &pb.DashStreamMessage{Message: &pb.DashStreamMessage_ExecutionTrace{ExecutionTrace: &pb.ExecutionTrace{
		Header: header("t", 0, pb.MessageType_MESSAGE_TYPE_EXECUTION_TRACE), ExecutionId: "x", Completed: true,
	}}}
	if o := s.Apply(tr, meta(1)); o.Disposition != Applied {
		t.Fatalf("first: %v", o.Disposition)
	}
	if o := s.Apply(tr, meta(2)); o.Disposition != Duplicate {
		t.Fatalf("second: %v", o.Disposition)
	}
	r := s.Run("t")
	if len(r.Traces()) != 1 || r.EventCount() != 2 {
		t.Fatalf("traces %d events %d", len(r.Traces()), r.EventCount())
	}
	e := r.Event(1)
	if e.Seq != 0 || e.Order != 1 || e.Kind != KindExecutionTrace {
		t.Fatalf("trace event %+v", e)
	}
}

func TestApply_UnsequencedStateChangeNeverMutatesState(t *testing.T) {
	cases := []struct {
		name string
		msg  func() *pb.DashStreamMessage
	}{
		{"StateDiff", func() *pb.DashStreamMessage { return diff(t, "t", 0, `{"n":9}`, replace("/n", "9")) }},
		{"full state", func() *pb.DashStreamMessage { return fullState(t, "t", 0, `{"n":9}`) }},
		{"Checkpoint", func() *pb.DashStreamMessage { return checkpoint("t", 0, 1, `{"n":9}`) }},
		{"GraphStart initial state", func() *pb.DashStreamMessage { return graphStart("t", 0, `{"n":9}`) }},
		{"node state attribute", func() *pb.DashStreamMessage {
			return event("t", 0, pb.EventType_EVENT_TYPE_NODE_END, "a", map[string]*pb.AttributeValue{"state_json": sattr(`{"n":9}`)})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewStore(Config{})
			applyAll(s, graphStart("t", 1, `{"n":0}`))
			if o := s.Apply(c.msg(), meta(5)); o.Disposition != Applied {
				t.Fatalf("disposition %v", o.Disposition)
			}
			r := s.Run("t")
			if got := stateText(r); got != `{"n":0}` {
				t.Fatalf("state = %s", got)
			}
			in := r.Integrity()
			if !in.Corrupted || in.Problems[0].Kind != ProblemUnsequencedState || !strings.Contains(in.Reason, "without a sequence") {
				t.Fatalf("integrity %+v", in)
			}
			if r.LastSeq() != 1 {
				t.Fatalf("unsequenced message moved the sequence to %d", r.LastSeq())
			}
		})
	}
}

func TestApply_CollisionIsRecordedButNeverApplied(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"n":0}`), diff(t, "t", 2, `{"n":1}`, replace("/n", "1")))
	other := diff(t, "t", 2, `{"n":7}`, replace("/n", "7"))
	other.GetStateDiff().Header.MessageId = msgID("t", 2, 1)
	o := s.Apply(other, meta(5))
	if o.Disposition != Collision {
		t.Fatalf("disposition %v", o.Disposition)
	}
	r := s.Run("t")
	if got := stateText(r); got != `{"n":1}` || !r.Trusted() {
		t.Fatalf("state %s integrity %+v", got, r.Integrity())
	}
	last := r.Event(r.EventCount() - 1)
	if last.Seq != 2 || last.Order != 2 || !strings.Contains(last.Note, "collision") || len(r.Notes()) != 1 {
		t.Fatalf("collision event %+v notes %v", last, r.Notes())
	}
}

func TestGap_WindowOverflowDeclaresHoleAndAppliesRest(t *testing.T) {
	s := NewStore(Config{ReorderWindow: 3})
	msgs := appendRun(t, "t", 8) // seqs 1..9
	s.Apply(msgs[0], meta(0))
	// seq 2 and 3 are lost; 4..7 arrive: the fourth waiting one overflows.
	var o Outcome
	for i, k := range []int{3, 4, 5, 6} {
		o = s.Apply(msgs[k], meta(i+1))
	}
	r := s.Run("t")
	if o.Disposition != Applied || o.Counts[Applied] != 4 || r.LastSeq() != 7 || r.Waiting() != 0 {
		t.Fatalf("outcome %+v last %d waiting %d", o, r.LastSeq(), r.Waiting())
	}
	in := r.Integrity()
	if !in.Gap || in.Corrupted || len(in.Gaps) != 1 || in.Gaps[0] != (Gap{From: 2, To: 3}) {
		t.Fatalf("integrity %+v", in)
	}
	if !strings.Contains(in.Reason, "missing sequences 2–3 (2 messages): not received within the reorder window (3 messages)") {
		t.Fatalf("reason %q", in.Reason)
	}
	// The diffs after the hole were computed on states this run never saw:
	// their results do not match their hashes, so the state stays as it
	// was before the hole, flagged, and every one of them is still logged.
	if got := stateText(r); got != `{"log":[]}` {
		t.Fatalf("state after hole = %s", got)
	}
	if r.EventCount() != 5 {
		t.Fatalf("events %d", r.EventCount())
	}
	for i := 1; i < r.EventCount(); i++ {
		if e := r.Event(i); !strings.HasPrefix(e.Note, "not applied: state untrusted") {
			t.Fatalf("event %d note %q", e.Seq, e.Note)
		}
	}
	if st := s.Stats(); st.Holes != 1 || st.Buffered != 3 || st.Skipped != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestGap_HashVerifiedChangeHealsAfterHole(t *testing.T) {
	s := NewStore(Config{ReorderWindow: 1})
	msgs := simpleRun(t, "t", 4) // replace /n k, hash of {"n":k}
	s.Apply(msgs[0], meta(0))
	s.Apply(msgs[2], meta(1)) // seq 3 waits for 2
	o := s.Apply(msgs[3], meta(2))
	r := s.Run("t")
	// The window overflowed: seq 2 is declared missing, then 3 and 4 apply.
	// A replace of /n yields {"n":k} whatever n was, and its hash proves it.
	if !r.Trusted() || stateText(r) != `{"n":3}` {
		t.Fatalf("state %s integrity %+v outcome %+v", stateText(r), r.Integrity(), o)
	}
	in := r.Integrity()
	if len(in.Gaps) != 1 || in.Heals != 1 || !in.Problems[0].Healed || in.Problems[0].HealedBy != "state_hash verified" {
		t.Fatalf("integrity %+v", in)
	}
}

func TestGap_UnverifiableChangeOnUntrustedStateIsNotApplied(t *testing.T) {
	s := NewStore(Config{ReorderWindow: 1})
	applyAll(s, graphStart("t", 1, `{"n":0}`))
	s.Apply(diff(t, "t", 3, "", replace("/n", "3")), meta(1))
	s.Apply(diff(t, "t", 4, "", replace("/n", "4")), meta(2)) // overflow: seq 2 missing
	r := s.Run("t")
	if r.Trusted() || stateText(r) != `{"n":0}` {
		t.Fatalf("state %s integrity %+v", stateText(r), r.Integrity())
	}
	if e := r.Event(r.EventCount() - 1); !strings.Contains(e.Note, "no state_hash") {
		t.Fatalf("note %q", e.Note)
	}
	s.Apply(fullState(t, "t", 5, `{"n":5}`), meta(3))
	if !r.Trusted() || stateText(r) != `{"n":5}` {
		t.Fatalf("full state did not heal: %s %+v", stateText(r), r.Integrity())
	}
	if in := r.Integrity(); len(in.Gaps) != 1 || in.Problems[0].HealedBy != "full state" || in.Problems[0].HealedSeq != 5 {
		t.Fatalf("history %+v", in)
	}
}

func TestGap_AgeBoundFiresOnTick(t *testing.T) {
	s := NewStore(Config{ReorderMaxAge: time.Second})
	msgs := simpleRun(t, "t", 3)
	s.Apply(msgs[0], meta(0))
	s.Apply(msgs[2], meta(100)) // seq 3 waits for 2
	if o := s.Tick(at(1099)); len(o.Changed) != 0 || s.Run("t").Waiting() != 1 {
		t.Fatalf("before the bound: %+v", o)
	}
	o := s.Tick(at(1100))
	r := s.Run("t")
	if !slices.Equal(o.Changed, []string{"t"}) || r.Waiting() != 0 || r.LastSeq() != 3 {
		t.Fatalf("tick outcome %+v waiting %d last %d", o, r.Waiting(), r.LastSeq())
	}
	if in := r.Integrity(); len(in.Gaps) != 1 || in.Gaps[0] != (Gap{2, 2}) || !strings.Contains(in.Problems[0].Reason, "missing sequence 2: not received within 1s") {
		t.Fatalf("integrity %+v", in)
	}
}

func TestGap_AgeBoundAlsoFiresOnApply(t *testing.T) {
	s := NewStore(Config{ReorderMaxAge: time.Second})
	msgs := simpleRun(t, "t", 3)
	s.Apply(msgs[0], meta(0))
	s.Apply(msgs[2], meta(0))
	// Another thread's message, two seconds later, does not touch t; t's
	// own next message does.
	s.Apply(graphStart("u", 1, `{}`), meta(2000))
	if s.Run("t").Waiting() != 1 {
		t.Fatalf("another thread's message released t's window")
	}
	s.Apply(msgs[3], meta(2000))
	if r := s.Run("t"); r.Waiting() != 0 || r.LastSeq() != 4 || len(r.Integrity().Gaps) != 1 {
		t.Fatalf("waiting %d last %d", r.Waiting(), r.LastSeq())
	}
}

// A hole in one thread marks that run only; a server gap marks only the
// runs it names; QuarantineAll marks all, finished ones included (U7).
func TestGap_QuarantineIsScoped(t *testing.T) {
	s := NewStore(Config{ReorderWindow: 2})
	for _, th := range []string{"a", "b", "c"} {
		applyAll(s, simpleRun(t, th, 2)...)
	}
	for i, k := range []uint64{5, 6, 7} { // a: 4 is lost
		s.Apply(diff(t, "a", k, "", replace("/n", "9")), meta(10+i))
	}
	if a := s.Run("a"); !a.Integrity().Gap {
		t.Fatalf("a not marked: %+v", a.Integrity())
	}
	for _, th := range []string{"b", "c"} {
		if !s.Run(th).Trusted() {
			t.Fatalf("%s marked by a's hole: %+v", th, s.Run(th).Integrity())
		}
	}
	o := s.MarkQuarantined([]string{"b", "nope"}, "server gap on partition 3", at(20))
	if !slices.Equal(o.Changed, []string{"b"}) {
		t.Fatalf("changed %v", o.Changed)
	}
	if in := s.Run("b").Integrity(); !in.Gap || in.Reason != "server gap on partition 3" || in.Problems[0].Kind != ProblemServerGap {
		t.Fatalf("b: %+v", in)
	}
	if !s.Run("c").Trusted() {
		t.Fatalf("c marked by b's quarantine")
	}
	applyAll(s, event("c", 4, pb.EventType_EVENT_TYPE_GRAPH_END, "", nil))
	o = s.QuarantineAll("cursor_stale: partition 0", at(30))
	if len(o.Changed) != 3 || !s.Run("c").Integrity().Gap || s.Run("c").Status() != RunCompleted {
		t.Fatalf("QuarantineAll: %+v", o)
	}
	if st := s.Stats(); st.GapRuns != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestGap_LateMessageAfterHoleIsStale(t *testing.T) {
	s := NewStore(Config{ReorderWindow: 1})
	msgs := simpleRun(t, "t", 4)
	s.Apply(msgs[0], meta(0))
	s.Apply(msgs[2], meta(1))
	s.Apply(msgs[3], meta(2)) // seq 2 declared missing
	r := s.Run("t")
	before := r.EventCount()
	if o := s.Apply(msgs[1], meta(3)); o.Disposition != Stale || len(o.Changed) != 0 {
		t.Fatalf("late seq 2: %+v", o)
	}
	if r.EventCount() != before {
		t.Fatalf("stale message logged")
	}
}

func TestGap_MidStreamJoinIsNotAGap(t *testing.T) {
	s := NewStore(Config{})
	msgs := simpleRun(t, "t", 6)
	// Seqs 4..7, no GraphStart: the first wait BaselineWait for earlier
	// ones, then the lowest is the baseline.
	for _, o := range applyAll(s, msgs[3:]...) {
		if o.Disposition != Buffered {
			t.Fatalf("joining message not held: %+v", o)
		}
	}
	r := s.Run("t")
	if o := s.Tick(at(300)); !slices.Equal(o.Changed, []string{"t"}) || r.LastSeq() != 7 || r.EventCount() != 4 {
		t.Fatalf("tick %+v last %d", o, r.LastSeq())
	}
	in := r.Integrity()
	if in.Gap || in.Corrupted || !in.Incomplete || r.Trusted() {
		t.Fatalf("integrity %+v", in)
	}
	if st, _ := r.State(); st != nil {
		t.Fatalf("state %s without a base", st)
	}
	if e := r.Event(0); e.Note != "not applied: no base state yet" {
		t.Fatalf("note %q", e.Note)
	}
	// Earlier sequences of the run are older than its baseline: stale.
	if o := s.Apply(msgs[0], meta(9)); o.Disposition != Stale {
		t.Fatalf("seq 1 after joining at 4: %v", o.Disposition)
	}
	reqs := s.RunsNeedingReplay()
	if len(reqs) != 1 || !reqs[0].FromStart || reqs[0].LastSeq != 7 {
		t.Fatalf("replay requests %+v", reqs)
	}
	s.Apply(fullState(t, "t", 8, `{"n":8}`), meta(10))
	if !r.Trusted() || len(s.RunsNeedingReplay()) != 0 {
		t.Fatalf("full state did not complete the run: %+v", r.Integrity())
	}
}

func TestPendingFloor_GuardsCommitsOfWaitingMessages(t *testing.T) {
	s := NewStore(Config{})
	msgs := simpleRun(t, "t", 3)
	s.Apply(msgs[0], Meta{Partition: 2, Offset: 10, Received: at(0)})
	if _, ok := s.PendingFloor(2); ok {
		t.Fatalf("floor with nothing waiting")
	}
	s.Apply(msgs[3], Meta{Partition: 2, Offset: 11, Received: at(1)})
	s.Apply(msgs[2], Meta{Partition: 2, Offset: 12, Received: at(2)})
	if f, ok := s.PendingFloor(2); !ok || f != 11 {
		t.Fatalf("floor %d %v", f, ok)
	}
	if _, ok := s.PendingFloor(1); ok {
		t.Fatalf("floor on another partition")
	}
	s.Apply(msgs[1], Meta{Partition: 2, Offset: 13, Received: at(3)})
	if _, ok := s.PendingFloor(2); ok {
		t.Fatalf("floor after release")
	}
}

func TestBaseline_NewThreadWaitsBrieflyForItsStart(t *testing.T) {
	s := NewStore(Config{})
	msgs := appendRun(t, "t", 3)
	// The GraphStart is overtaken by the run's next two messages.
	if o := s.Apply(msgs[2], meta(0)); o.Disposition != Buffered {
		t.Fatalf("%+v", o)
	}
	s.Apply(msgs[1], meta(10))
	o := s.Apply(msgs[0], meta(20))
	r := s.Run("t")
	if o.Counts[Applied] != 3 || r.LastSeq() != 3 || !r.Trusted() || stateText(r) != `{"log":[1,2]}` {
		t.Fatalf("outcome %+v state %s integrity %+v", o, stateText(r), r.Integrity())
	}
}

func TestBaseline_OverflowStartsAtTheLowestWaiting(t *testing.T) {
	s := NewStore(Config{ReorderWindow: 2})
	msgs := simpleRun(t, "t", 9)
	s.Apply(msgs[6], meta(0)) // seq 7
	s.Apply(msgs[5], meta(1)) // seq 6
	o := s.Apply(msgs[8], meta(2))
	r := s.Run("t")
	// seq 8 is still missing: 9 waits; 6 and 7 applied; no gap (the run
	// was joined at 6).
	if r.LastSeq() != 7 || r.Waiting() != 1 || o.Disposition != Buffered || r.Integrity().Gap {
		t.Fatalf("last %d waiting %d outcome %+v integrity %+v", r.LastSeq(), r.Waiting(), o, r.Integrity())
	}
}

package session

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/app/cursors"
	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runstate"
)

func TestBackoff_DelayIsJitteredWithinHalfToFullAndCapped(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base, ceiling := 500*time.Millisecond, 30*time.Second
	for n := 0; n < 200; n++ { // far past upstream's 10 attempts: there is no last one
		d := base
		for i := 0; i < n && d < ceiling; i++ {
			d *= 2
		}
		d = min(d, ceiling)
		seen := map[time.Duration]bool{}
		for range 20 {
			got := backoff(n, base, ceiling, r)
			if got < d/2 || got > d {
				t.Fatalf("attempt %d: %v outside [%v, %v]", n, got, d/2, d)
			}
			seen[got] = true
		}
		if len(seen) < 2 {
			t.Fatalf("attempt %d: 20 draws gave one delay: no jitter", n)
		}
	}
}

func TestCloseCode_OnlyCodesABrowserAccepts(t *testing.T) {
	cases := []struct {
		in, want websocket.StatusCode
	}{
		{1000, 1000}, {4000, 4000}, {4001, 4001}, {4999, 4999},
		// upstream's 1002 and 1011 throw InvalidAccessError in a browser,
		// and so do the library's own choices (1001, 1008, 1009).
		{1001, 4000}, {1002, 4000}, {1008, 4000}, {1009, 4000}, {1011, 4000},
		{0, 4000}, {3000, 4000}, {5000, 4000},
	}
	for _, c := range cases {
		if got := closeCode(c.in); got != c.want {
			t.Errorf("closeCode(%d) = %d, want %d", c.in, got, c.want)
		}
	}
	for _, code := range []websocket.StatusCode{CloseNormal, CloseReconnect, ClosePairing, CloseMissingCursor, CloseDecodeTimeout, CloseHeartbeat, CloseStalled} {
		if !validCloseCode(code) {
			t.Errorf("the session's own code %d is not one a browser accepts", code)
		}
	}
}

func TestResume_LegacyLastSequenceOnlyBelow2p53(t *testing.T) {
	cases := []struct {
		name    string
		offsets map[int32]int64
		seqs    map[string]uint64
		want    []string
		absent  []string
	}{
		{name: "first visit resumes from latest", want: []string{`"from":"latest"`, `"lastOffsetsByPartition":{}`}, absent: []string{"lastSequence"}},
		{name: "offsets are decimal strings", offsets: map[int32]int64{0: 9007199254740993, 3: 7},
			want: []string{`"from":"cursor"`, `"0":"9007199254740993"`, `"3":"7"`}},
		{name: "max safe integer is sent", seqs: map[string]uint64{"a": 1<<53 - 1, "b": 5},
			want: []string{`"lastSequence":9007199254740991`, `"a":"9007199254740991"`}},
		{name: "2^53 is omitted", seqs: map[string]uint64{"a": 1 << 53, "b": 5},
			want: []string{`"a":"9007199254740992"`}, absent: []string{`"lastSequence"`}},
		{name: "above 2^53 is omitted", seqs: map[string]uint64{"a": 1<<64 - 1},
			want: []string{`"a":"18446744073709551615"`}, absent: []string{`"lastSequence"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cur := cursors.Open(cursors.Options{Storage: cursors.NewMemoryStorage(), Namespace: "v1_ns"})
			for p, o := range c.offsets {
				cur.CommitOffset(p, o)
			}
			for th, q := range c.seqs {
				cur.CommitSequence(th, q)
			}
			got := string(resumeRequest(cur).AppendJSON(nil))
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s lacks %s", got, w)
				}
			}
			for _, a := range c.absent {
				if strings.Contains(got, a) {
					t.Errorf("%s has %s", got, a)
				}
			}
			// What a server reads back is what was committed, exactly.
			r, err := control.ParseResume([]byte(got))
			if err != nil || r.Mode != control.ModePartition || len(r.Rejected) != 0 {
				t.Fatalf("the server would read %+v, %v", r, err)
			}
			if r.Namespace != "v1_ns" {
				t.Errorf("resume_namespace %q, want the cursors' namespace", r.Namespace)
			}
			for p, o := range c.offsets {
				if r.LastOffsetsByPartition[p] != o {
					t.Errorf("partition %d: %d, want %d", p, r.LastOffsetsByPartition[p], o)
				}
			}
		})
	}
}

func TestEpoch_StaleFrameNeverApplied(t *testing.T) {
	s := offline(t)
	s.live.Store(2)
	cases := []struct {
		name   string
		epoch  uint64
		retire bool // the epoch is retired while the frame is in flight (M-1031)
	}{
		{name: "frame from an older connection", epoch: 1},
		{name: "epoch retired after decode, before apply", epoch: 2, retire: true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.live.Store(2)
			s.hookBeforeApply = nil
			if c.retire {
				s.hookBeforeApply = func(*decoded) { s.live.CompareAndSwap(2, 0) }
			}
			before := s.loop.stale
			if err := s.handle(nil, item(t, c.epoch, 0, int64(i), event(t, "t", uint64(i+1)))); err != nil {
				t.Fatal(err)
			}
			var applied uint64
			s.Read(func(st *runstate.Store) { applied = st.Stats().Applied })
			if applied != 0 || s.loop.stale != before+1 {
				t.Errorf("applied %d, stale %d: a stale frame mutated the store", applied, s.loop.stale-before)
			}
			if _, ok := s.Cursors().Offset(0); ok {
				t.Error("a stale frame committed a cursor")
			}
		})
	}
}

func TestCursor_CommittedOnlyAfterApply(t *testing.T) {
	s := offline(t)
	s.live.Store(1)
	cur := s.Cursors()
	// Thread a's sequence 2 arrives after 3 (both on partition 0); thread
	// b's message at offset 2 is applied while a's 3 still waits.
	steps := []struct {
		off       int64
		th        string
		seq       uint64
		committed int64 // -1: none
	}{
		{0, "a", 1, 0},
		{1, "a", 3, 0}, // waits in the reorder window: not committable
		{2, "b", 1, 0}, // applied, but offset 1 below it is not: held back
		{3, "a", 2, 3}, // fills the hole: 1 and 3 apply, everything is committable
		{4, "b", 1, 4}, // a duplicate is processed (nothing to apply): committable
		{5, "c", 0, 5}, // unsequenced
		{6, "a", 5, 5}, // waits again
		{7, "a", 4, 7}, //
		{8, "b", 2, 8}, //
		{9, "b", 2, 9}, //
		{10, "z", 1, 10},
	}
	for _, st := range steps {
		var checked bool
		s.hookBeforeApply = func(d *decoded) {
			checked = true
			if o, ok := cur.Offset(0); ok && o >= d.cur.Offset {
				t.Errorf("offset %d committed (%d) before its message was applied", d.cur.Offset, o)
			}
		}
		if err := s.handle(nil, item(t, 1, 0, st.off, event(t, st.th, st.seq))); err != nil {
			t.Fatal(err)
		}
		if !checked {
			t.Fatalf("offset %d never reached apply", st.off)
		}
		got, ok := cur.Offset(0)
		if !ok {
			got = -1
		}
		if got != st.committed {
			t.Errorf("after offset %d (%s/%d): committed %d, want %d", st.off, st.th, st.seq, got, st.committed)
		}
	}
	if q, _ := cur.Sequence("a"); q != 5 {
		t.Errorf("thread a's committed sequence %d, want 5", q)
	}
}

func TestDecode_ProtoDefaultsSurvive(t *testing.T) {
	s := offline(t)
	s.live.Store(1)
	// op ADD and encoding JSON are proto3 defaults: the encoded frame does
	// not carry them at all, and decoding into typed structs must give them
	// back (upstream lost them crossing the worker boundary).
	add := &pb.DiffOperation{Path: "/count", Value: []byte("1")}
	msgs := []*pb.DashStreamMessage{
		stateMsg(t, "t", 1, `{"items":[]}`, nil, `{"items":[]}`),
		stateMsg(t, "t", 2, "", []*pb.DiffOperation{add, {Path: "/items/-", Value: []byte(`"x"`)}}, `{"count":1,"items":["x"]}`),
	}
	for i, m := range msgs {
		v := frame(t, m)
		if i == 1 {
			raw, _ := protocol.NewDecoder().Unframe(v)
			if strings.Contains(fmt.Sprintf("%x", raw), "2801") { // field 5 (encoding) = 1 would read 28 01
				t.Fatal("the frame carries an encoding field; this test needs the default")
			}
		}
		d := item(t, 1, 0, int64(i), v)
		if d.err != nil {
			t.Fatal(d.err)
		}
		if op := d.msg.GetStateDiff().GetOperations(); i == 1 && (op[0].GetOp() != pb.DiffOperation_OP_TYPE_ADD || op[0].GetEncoding() != pb.DiffOperation_VALUE_ENCODING_JSON) {
			t.Fatalf("defaults lost: op %v encoding %v", op[0].GetOp(), op[0].GetEncoding())
		}
		if err := s.handle(nil, d); err != nil {
			t.Fatal(err)
		}
	}
	s.Read(func(st *runstate.Store) {
		r := st.Run("t")
		state, seq := r.State()
		if got := string(state.AppendJSON(nil)); seq != 2 || got != `{"items":["x"],"count":1}` && got != `{"count":1,"items":["x"]}` {
			t.Errorf("state %s at %d", got, seq)
		}
		if i := r.Integrity(); !i.Trusted() || i.HashesVerified != 2 {
			t.Errorf("integrity %+v", i)
		}
	})
}

// TestDecode_FailuresAreClassifiedAndThePipelineGoesOn feeds hostile frames
// through a real decoder goroutine: each is classified, and a good frame
// after it still comes out (the pipeline cannot die silently).
func TestDecode_FailuresAreClassifiedAndThePipelineGoesOn(t *testing.T) {
	good := event(t, "t", 1)
	huge := append([]byte{protocol.FrameRaw}, make([]byte, 2048)...)
	cases := []struct {
		name, class string
		value       []byte
	}{
		{"empty", "empty", []byte{}},
		{"oversized", "too_large", huge},
		{"truncated protobuf", "invalid_protobuf", good[:len(good)-3]},
		{"corrupt zstd", "corrupt_zstd", append([]byte{protocol.FrameZstd, 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x05}, 1, 2, 3)},
		{"zstd without content size", "missing_content_size", []byte{protocol.FrameZstd, 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x01, 0, 0}},
		{"garbage", "invalid_protobuf", []byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"decoder panic", "panic", []byte("panic please")},
	}
	dec := protocol.NewDecoder(protocol.WithMaxPayloadBytes(1024))
	decode := func(b []byte) (*pb.DashStreamMessage, error) {
		if string(b) == "panic please" {
			panic("hostile input")
		}
		return dec.Decode(b)
	}
	p := &pipeline{in: make(chan job, 4), out: make(chan decoded, 4)}
	ctx := t.Context()
	p.start(ctx, decode)
	for _, c := range cases {
		p.in <- job{data: c.value}
		p.in <- job{data: good}
		bad, ok := <-p.out, true
		next := <-p.out
		if !ok || bad.class != c.class || bad.err == nil {
			t.Errorf("%s: class %q (%v), want %q", c.name, bad.class, bad.err, c.class)
		}
		if next.err != nil || next.msg == nil {
			t.Errorf("%s: the next good frame failed: %v", c.name, next.err)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", errDecodeTimeout), errDecodeTimeout) || decodeClass(errDecodeTimeout) != "timeout" {
		t.Error("a timeout is not classified as timeout (M-1023)")
	}
}

func TestHealer_OneThreadReplayInFlightAndRequeuedOnReconnect(t *testing.T) {
	var h healer
	h.add([]string{"a", "b", "a", ""}, false)
	h.add([]string{"pinned"}, true)
	if got := h.next(2); fmt.Sprint(got) != "[pinned a]" {
		t.Fatalf("first batch %v", got)
	}
	if h.next(2) != nil {
		t.Fatal("a second replay went out while one is in flight")
	}
	if r := string(h.request().AppendJSON(nil)); !strings.Contains(r, `"lastSequencesByThread":{"a":"0","pinned":"0"}`) || strings.Contains(r, "lastOffsetsByPartition") {
		t.Errorf("thread resume %s", r)
	}
	h.requeue()
	if got := h.all(); fmt.Sprint(got) != "[pinned a b]" {
		t.Errorf("after a lost connection %v", got)
	}
	h.next(5)
	if d := h.done(); len(d) != 3 || len(h.all()) != 0 {
		t.Errorf("done %v, left %v", d, h.all())
	}
}

package runstate

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// fuzzInput packs encoded messages as records: a 2-byte big-endian length,
// one control byte (the low 3 bits pick the thread override, bit 3 asks for
// a Tick after the message, the high bits advance the clock), then the
// Kafka value.
func fuzzInput(t testing.TB, msgs []*pb.DashStreamMessage, r *rand.Rand) []byte {
	var out []byte
	for _, m := range msgs {
		v, err := protocol.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(v)))
		out = append(out, byte(r.IntN(256)))
		out = append(out, v...)
	}
	return out
}

var fuzzThreads = []string{"", "t", "u", "v", "w", "x", "y", "z"}

// FuzzApply: any sequence of messages, valid or hostile, in any order, is
// absorbed without a panic, within the bounds, and leaves every run's
// state consistent with time travel.
func FuzzApply(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	p := newProducer(r, "t")
	for range 30 {
		p.step()
	}
	f.Add(fuzzInput(f, p.msgs, r))
	f.Add(fuzzInput(f, delivery(r, p.msgs, 5, 0.2), r))
	f.Add(fuzzInput(f, appendRun(f, "u", 5), r))
	hostile := []*pb.DashStreamMessage{
		graphStart("t", 1, `{"a":[1,2]}`),
		diff(f, "t", 2, "", op(pb.DiffOperation_OP_TYPE_REMOVE, "/a/9", "")),
		diff(f, "t", 3, "", &pb.DiffOperation{Op: pb.DiffOperation_OP_TYPE_ADD, Path: "/__proto__/x", Value: []byte("1")}),
		diff(f, "t", 4, "", &pb.DiffOperation{Op: pb.DiffOperation_OP_TYPE_ADD, Path: "/b", Value: []byte("1"), Encoding: pb.DiffOperation_VALUE_ENCODING_MSGPACK}),
		graphStart("w", 1, `{}`),
		diff(f, "w", 2, `{"r":"x \"y\"\n"}`, &pb.DiffOperation{Path: "/r", Value: []byte("x \"y\"\n"), Encoding: pb.DiffOperation_VALUE_ENCODING_RAW}),
		diff(f, "w", 3, "", &pb.DiffOperation{Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/r", Value: []byte("\xff"), Encoding: pb.DiffOperation_VALUE_ENCODING_RAW}),
		diff(f, "w", 4, `{"r":""}`, &pb.DiffOperation{Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/r", Encoding: pb.DiffOperation_VALUE_ENCODING_RAW}),
		fullStateRaw("t", 5, `{"a":`),
		checkpoint("t", 6, 1, `[`),
		{Message: &pb.DashStreamMessage_EventBatch{EventBatch: &pb.EventBatch{Header: &pb.Header{ThreadId: "v"}, Events: []*pb.Event{graphStart("", 1, `{}`).GetEvent(), nodeStart("v", 9, "n").GetEvent()}}}},
		event("t", 18446744073709551615, pb.EventType_EVENT_TYPE_NODE_END, "n", map[string]*pb.AttributeValue{"state_json": sattr(`{"x":1.0}`), "duration_us": iattr(-5)}),
		{},
	}
	f.Add(fuzzInput(f, hostile, r))
	f.Add([]byte{0, 3, 0, 0xff, 0xff, 0xff})
	f.Fuzz(fuzzApply)
}

func fuzzApply(t *testing.T, data []byte) {
	{
		cfg := Config{MaxRuns: 4, MaxEventsPerRun: 20, KeyframeEvery: 3, MaxKeyframesPerRun: 3, MaxCheckpointsPerRun: 2,
			ReorderWindow: 3, ReorderMaxAge: 50 * time.Millisecond, MaxSnapshotBytes: 4096, MaxQuarantine: 5, MaxTokenTextBytes: 64}
		s := NewStore(cfg)
		live := record(s)
		now := 0
		for i := 0; len(data) >= 3; i++ {
			n := int(binary.BigEndian.Uint16(data))
			ctl := data[2]
			data = data[3:]
			n = min(n, len(data))
			value := data[:n]
			data = data[n:]
			now += int(ctl >> 4)
			msg, err := protocol.Decode(value)
			if err != nil {
				continue
			}
			if th := fuzzThreads[ctl&7]; th != "" {
				overrideThread(msg, th)
			}
			o := s.Apply(msg, Meta{Offset: int64(i), Received: at(now)})
			seen := map[string]bool{}
			for _, th := range o.Changed {
				if seen[th] || s.Run(th) == nil {
					t.Fatalf("Changed %v lists %q twice or a missing run", o.Changed, th)
				}
				seen[th] = true
			}
			if ctl&8 != 0 {
				s.Tick(at(now + 100))
			}
		}
		st := s.Stats()
		if st.Runs > cfg.MaxRuns || st.Quarantined > cfg.MaxQuarantine {
			t.Fatalf("bounds exceeded: %+v", st)
		}
		for _, run := range s.Runs() {
			if run.EventCount() > cfg.MaxEventsPerRun {
				t.Fatalf("%d events", run.EventCount())
			}
			if k, _ := run.timeline.counts(); k > cfg.MaxKeyframesPerRun {
				t.Fatalf("%d keyframes", k)
			}
			if state, _ := run.State(); state != nil {
				back, err := jsontree.Parse([]byte(state.String()))
				if err != nil || back.String() != state.String() {
					t.Fatalf("state does not round-trip: %v", err)
				}
				if s.hasher.Sum(&run.chain, state) != statehash.SumTree(state) {
					t.Fatalf("cached hashing disagrees with statehash on %s", state)
				}
			}
			if run.Trusted() && !run.integ.hasBase {
				t.Fatalf("trusted without a base")
			}
		}
		checkTimeTravel(t, s, live)
	}
}

// overrideThread points a message (and a batch's inner events) at thread,
// so that fuzzed messages meet in few runs.
func overrideThread(msg *pb.DashStreamMessage, thread string) {
	set := func(h *pb.Header) {
		if h != nil {
			h.ThreadId = thread
		}
	}
	switch m := msg.GetMessage().(type) {
	case *pb.DashStreamMessage_Event:
		set(m.Event.GetHeader())
	case *pb.DashStreamMessage_StateDiff:
		set(m.StateDiff.GetHeader())
	case *pb.DashStreamMessage_Checkpoint:
		set(m.Checkpoint.GetHeader())
	case *pb.DashStreamMessage_TokenChunk:
		set(m.TokenChunk.GetHeader())
	case *pb.DashStreamMessage_EventBatch:
		for _, e := range m.EventBatch.GetEvents() {
			set(e.GetHeader())
		}
	}
}

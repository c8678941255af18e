package streamcheck

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// builder makes the records of one thread, message by message.
type builder struct {
	thread string
	seq    uint64
	offset int64
	recs   []*kgo.Record
}

func (b *builder) header(t pb.MessageType) *pb.Header {
	b.seq++
	id := sha256.Sum256([]byte{byte(b.seq), byte(b.seq >> 8)})
	id[6] = id[6]&0x0f | 0x40
	return &pb.Header{MessageId: id[:16], TimestampUs: 1, TenantId: "t", ThreadId: b.thread, Sequence: b.seq, Type: t, SchemaVersion: 1}
}

func (b *builder) add(msg *pb.DashStreamMessage) {
	v, err := protocol.Encode(msg)
	if err != nil {
		panic(err)
	}
	b.addValue(v)
}

func (b *builder) addValue(v []byte) {
	b.recs = append(b.recs, &kgo.Record{Key: []byte(b.thread), Value: v, Offset: b.offset})
	b.offset++
}

func (b *builder) event(t pb.EventType, node string, attrs map[string]*pb.AttributeValue) *pb.Event {
	ev := &pb.Event{Header: b.header(pb.MessageType_MESSAGE_TYPE_EVENT), EventType: t, NodeId: node, Attributes: attrs}
	b.add(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: ev}})
	return ev
}

func hashOf(t testing.TB, state string) []byte {
	sum, err := statehash.Sum([]byte(state))
	if err != nil {
		t.Fatal(err)
	}
	return sum[:]
}

func (b *builder) full(t testing.TB, state string) {
	b.add(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{
		Header: b.header(pb.MessageType_MESSAGE_TYPE_STATE_DIFF), FullState: []byte(state), StateHash: hashOf(t, state)}}})
}

func (b *builder) patch(hash []byte, ops ...*pb.DiffOperation) {
	b.add(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{
		Header: b.header(pb.MessageType_MESSAGE_TYPE_STATE_DIFF), Operations: ops, StateHash: hash}}})
}

func replace(path, value string) *pb.DiffOperation {
	return &pb.DiffOperation{Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: path, Value: []byte(value)}
}

// good writes a correct stream: start, full state, patch, end.
func good(t testing.TB) *builder {
	b := &builder{thread: "th"}
	b.event(pb.EventType_EVENT_TYPE_GRAPH_START, "", map[string]*pb.AttributeValue{"graph_name": {Value: &pb.AttributeValue_StringValue{StringValue: "g"}}})
	b.full(t, `{"n":1.0}`)
	b.patch(hashOf(t, `{"n":2}`), replace("/n", "2"))
	b.event(pb.EventType_EVENT_TYPE_GRAPH_END, "", nil)
	return b
}

// TestCheck_AcceptsAGoodStream and rebuilds its state.
func TestCheck_AcceptsAGoodStream(t *testing.T) {
	rep := Check(good(t).recs, Options{RequireEnd: true})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	th := rep.Threads["th"]
	if th.GraphName != "g" || th.FullStates != 1 || th.Patches != 1 || !th.Ended || th.State.String() != `{"n":2}` {
		t.Fatalf("%+v", th)
	}
}

// TestCheck_ReportsEachViolation: every promise the checker guards, broken
// once, is reported (a checker that cannot fail would prove nothing).
func TestCheck_ReportsEachViolation(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T) []*kgo.Record
		opts  Options
		want  string
	}{
		{"garbage value", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.addValue([]byte{0x07, 1, 2})
			return b.recs
		}, Options{}, "unframe"},
		{"invalid protobuf", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.addValue([]byte{0x00, 0xff, 0xff})
			return b.recs
		}, Options{}, "decode"},
		{"gap", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.seq++
			b.event(pb.EventType_EVENT_TYPE_NODE_START, "x", nil)
			return b.recs
		}, Options{}, "(gap)"},
		{"repeat", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.seq--
			b.event(pb.EventType_EVENT_TYPE_NODE_START, "x", nil)
			return b.recs
		}, Options{}, "repeat or reorder"},
		{"patch after a gap", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.seq++
			b.patch(hashOf(t, `{"n":3}`), replace("/n", "3"))
			return b.recs
		}, Options{AllowGaps: true}, "after a gap is not a full state"},
		{"first update is a patch", func(t *testing.T) []*kgo.Record {
			b := &builder{thread: "th"}
			b.event(pb.EventType_EVENT_TYPE_GRAPH_START, "", nil)
			b.patch(hashOf(t, `{}`), replace("/n", "3"))
			return b.recs
		}, Options{}, "first state update is not a full state"},
		{"wrong hash", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.patch(hashOf(t, `{"n":3}`), replace("/n", "3.0"))
			return b.recs
		}, Options{}, "state hash mismatch"},
		{"patch that does not apply", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.patch(hashOf(t, `{}`), replace("/missing", "1"))
			return b.recs
		}, Options{}, "does not apply"},
		{"unknown base checkpoint", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.add(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{
				Header: b.header(pb.MessageType_MESSAGE_TYPE_STATE_DIFF), BaseCheckpointId: []byte("nope"),
				FullState: []byte(`{}`), StateHash: hashOf(t, `{}`)}}})
			return b.recs
		}, Options{}, "names no checkpoint"},
		{"bad checkpoint checksum", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.add(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Checkpoint{Checkpoint: &pb.Checkpoint{
				Header: b.header(pb.MessageType_MESSAGE_TYPE_CHECKPOINT), CheckpointId: make([]byte, 16), State: []byte(`{}`), Checksum: []byte("x")}}})
			return b.recs
		}, Options{}, "checksum"},
		{"key is not the thread", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.recs[0].Key = []byte("other")
			return b.recs
		}, Options{}, "is not thread_id"},
		{"thread on two partitions", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.recs[2].Partition = 1
			return b.recs
		}, Options{}, "on partition"},
		{"header type mismatch", func(t *testing.T) []*kgo.Record {
			b := good(t)
			ev := &pb.Event{Header: b.header(pb.MessageType_MESSAGE_TYPE_METRICS), EventType: pb.EventType_EVENT_TYPE_NODE_START}
			b.add(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: ev}})
			return b.recs
		}, Options{}, "header type"},
		{"forbidden text", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.event(pb.EventType_EVENT_TYPE_NODE_PROGRESS, "x", map[string]*pb.AttributeValue{"message": {Value: &pb.AttributeValue_StringValue{StringValue: "sk-secret"}}})
			return b.recs
		}, Options{Forbidden: []string{"sk-secret"}}, "forbidden"},
		{"no end", func(t *testing.T) []*kgo.Record {
			return good(t).recs[:3]
		}, Options{RequireEnd: true}, "no GRAPH_END"},
		{"node end without duration attribute", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.event(pb.EventType_EVENT_TYPE_NODE_END, "x", nil)
			return b.recs
		}, Options{}, "without a duration_us attribute"},
		{"edge without to", func(t *testing.T) []*kgo.Record {
			b := good(t)
			b.event(pb.EventType_EVENT_TYPE_EDGE_TRAVERSAL, "x", nil)
			return b.recs
		}, Options{}, "without a to attribute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Check(tt.build(t), tt.opts)
			if err := rep.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a problem containing %q", err, tt.want)
			}
		})
	}
}

// FuzzCheck: any record values (as one thread's records) are checked
// without a panic.
func FuzzCheck(f *testing.F) {
	var seed [][]byte
	for _, r := range good(f).recs {
		seed = append(seed, r.Value)
	}
	f.Add(seed[0], seed[1], seed[2])
	f.Add([]byte{0x01, 0x28, 0xb5, 0x2f, 0xfd}, []byte{}, []byte{0x00})
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		var recs []*kgo.Record
		for i, v := range [][]byte{a, b, c} {
			recs = append(recs, &kgo.Record{Key: []byte("th"), Value: v, Offset: int64(i)})
		}
		Check(recs, Options{AllowGaps: true, RequireEnd: true, Forbidden: []string{"x"}})
	})
}

package session

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/dashstream/dashstream/app/cursors"
	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// event is a framed NODE_START of thread th with sequence seq.
func event(t testing.TB, th string, seq uint64) []byte {
	t.Helper()
	v, err := protocol.Encode(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header:    &pb.Header{ThreadId: th, Sequence: seq, Type: pb.MessageType_MESSAGE_TYPE_EVENT, SchemaVersion: 1},
		EventType: pb.EventType_EVENT_TYPE_NODE_START, NodeId: "node",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// events returns framed events from..to of thread th.
func events(t testing.TB, th string, from, to uint64) [][]byte {
	var out [][]byte
	for q := from; q <= to; q++ {
		out = append(out, event(t, th, q))
	}
	return out
}

// stateMsg is a StateDiff of thread th: a full state when full is set,
// else ops as given, with the hash of the resulting state.
func stateMsg(t testing.TB, th string, seq uint64, full string, ops []*pb.DiffOperation, result string) *pb.DashStreamMessage {
	t.Helper()
	sum, err := statehash.Sum([]byte(result))
	if err != nil {
		t.Fatal(err)
	}
	d := &pb.StateDiff{Header: &pb.Header{ThreadId: th, Sequence: seq, Type: pb.MessageType_MESSAGE_TYPE_STATE_DIFF, SchemaVersion: 1}, Operations: ops, StateHash: sum[:]}
	if full != "" {
		d.FullState = []byte(full)
	}
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: d}}
}

func frame(t testing.TB, m *pb.DashStreamMessage) []byte {
	t.Helper()
	v, err := protocol.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func seqOf(msg *pb.DashStreamMessage) uint64 {
	switch m := msg.GetMessage().(type) {
	case *pb.DashStreamMessage_Event:
		return m.Event.GetHeader().GetSequence()
	case *pb.DashStreamMessage_StateDiff:
		return m.StateDiff.GetHeader().GetSequence()
	}
	return 0
}

// offline is a session that never connects: tests drive its apply loop
// directly with decoded items, as the decoder would.
func offline(t testing.TB) *Session {
	t.Helper()
	s, err := New(Config{BaseURL: "http://127.0.0.1:1", Storage: cursors.NewMemoryStorage(), Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// item decodes value as the pipeline would, stamped with epoch and cursor.
func item(t testing.TB, epoch uint64, p int32, o int64, value []byte) decoded {
	t.Helper()
	msg, err := protocol.Decode(value)
	return decoded{job: job{epoch: epoch, cur: control.Cursor{Partition: p, Offset: o}, data: value, recv: time.Now()}, msg: msg, err: err, class: decodeClass(err)}
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

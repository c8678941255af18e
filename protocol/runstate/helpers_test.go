package runstate

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// Builders for the messages of a run, with deterministic ids and times.

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// at returns t0 plus ms milliseconds: the local receive time in tests.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func meta(ms int) Meta { return Meta{Partition: 0, Offset: int64(ms), Received: at(ms)} }

// msgID derives a 16-byte message id from thread and seq (and a salt, to
// make a different message with the same sequence).
func msgID(thread string, seq uint64, salt byte) []byte {
	h := sha256.Sum256(append(binary.BigEndian.AppendUint64([]byte(thread), seq), salt))
	return h[:16]
}

func header(thread string, seq uint64, typ pb.MessageType) *pb.Header {
	return &pb.Header{
		MessageId:     msgID(thread, seq, 0),
		TimestampUs:   t0.UnixMicro() + int64(seq)*1000,
		TenantId:      "default",
		ThreadId:      thread,
		Sequence:      seq,
		Type:          typ,
		SchemaVersion: 1,
	}
}

func sattr(s string) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_StringValue{StringValue: s}}
}

func iattr(n int64) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_IntValue{IntValue: n}}
}

func event(thread string, seq uint64, typ pb.EventType, node string, attrs map[string]*pb.AttributeValue) *pb.DashStreamMessage {
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header: header(thread, seq, pb.MessageType_MESSAGE_TYPE_EVENT), EventType: typ, NodeId: node, Attributes: attrs,
	}}}
}

const testSchema = `{"name":"research","version":"1.0.0","nodes":[{"name":"plan","node_type":"llm"},{"name":"search","node_type":{"custom":"retriever"}}],"edges":[{"from":"plan","to":"search","edge_type":"direct"}],"entry_point":"plan"}`

func graphStart(thread string, seq uint64, initial string) *pb.DashStreamMessage {
	attrs := map[string]*pb.AttributeValue{"graph_schema_json": sattr(testSchema), "schema_id": sattr("0123456789abcdef")}
	if initial != "" {
		attrs["initial_state_json"] = sattr(initial)
	}
	return event(thread, seq, pb.EventType_EVENT_TYPE_GRAPH_START, "", attrs)
}

func nodeStart(thread string, seq uint64, node string) *pb.DashStreamMessage {
	return event(thread, seq, pb.EventType_EVENT_TYPE_NODE_START, node, nil)
}

func nodeEnd(thread string, seq uint64, node string, durUs int64) *pb.DashStreamMessage {
	m := event(thread, seq, pb.EventType_EVENT_TYPE_NODE_END, node, nil)
	m.GetEvent().DurationUs = durUs
	return m
}

// op builds a JSON diff operation; value "" means none.
func op(kind pb.DiffOperation_OpType, path, value string) *pb.DiffOperation {
	o := &pb.DiffOperation{Op: kind, Path: path}
	if value != "" {
		o.Value = []byte(value)
	}
	return o
}

func add(path, value string) *pb.DiffOperation {
	return op(pb.DiffOperation_OP_TYPE_ADD, path, value)
}

func replace(path, value string) *pb.DiffOperation {
	return op(pb.DiffOperation_OP_TYPE_REPLACE, path, value)
}

// hashOf returns the state_hash of a JSON text, literals as written.
func hashOf(t testing.TB, state string) []byte {
	t.Helper()
	h, err := statehash.Sum([]byte(state))
	if err != nil {
		t.Fatalf("hash of %s: %v", state, err)
	}
	return h[:]
}

// diff builds a StateDiff whose state_hash is that of after ("" for none).
func diff(t testing.TB, thread string, seq uint64, after string, ops ...*pb.DiffOperation) *pb.DashStreamMessage {
	d := &pb.StateDiff{Header: header(thread, seq, pb.MessageType_MESSAGE_TYPE_STATE_DIFF), Operations: ops}
	if after != "" {
		d.StateHash = hashOf(t, after)
	}
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: d}}
}

func fullState(t testing.TB, thread string, seq uint64, state string) *pb.DashStreamMessage {
	d := &pb.StateDiff{Header: header(thread, seq, pb.MessageType_MESSAGE_TYPE_STATE_DIFF), FullState: []byte(state), StateHash: hashOf(t, state)}
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: d}}
}

func checkpointID(n byte) []byte {
	id := make([]byte, 16)
	id[15] = n
	return id
}

func checkpoint(thread string, seq uint64, id byte, state string) *pb.DashStreamMessage {
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Checkpoint{Checkpoint: &pb.Checkpoint{
		Header: header(thread, seq, pb.MessageType_MESSAGE_TYPE_CHECKPOINT), CheckpointId: checkpointID(id), State: []byte(state),
	}}}
}

// stateText returns a run's state as compact JSON ("<nil>" without one).
func stateText(r *Run) string {
	st, _ := r.State()
	if st == nil {
		return "<nil>"
	}
	return st.String()
}

func mustParse(t testing.TB, s string) *jsontree.Node {
	t.Helper()
	n, err := jsontree.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return n
}

// applyAll applies messages in order, message i received at i ms.
func applyAll(s *Store, msgs ...*pb.DashStreamMessage) []Outcome {
	out := make([]Outcome, len(msgs))
	for i, m := range msgs {
		out[i] = s.Apply(m, meta(i))
	}
	return out
}

// simpleRun is a run of thread "t": GraphStart {"n":0} then diffs setting
// n to 1..k, each with its hash.
func simpleRun(t testing.TB, thread string, k int) []*pb.DashStreamMessage {
	msgs := []*pb.DashStreamMessage{graphStart(thread, 1, `{"n":0}`)}
	for i := 1; i <= k; i++ {
		v := itoa(i)
		msgs = append(msgs, diff(t, thread, uint64(i+1), `{"n":`+v+`}`, replace("/n", v)))
	}
	return msgs
}

func itoa(i int) string { return strconv.Itoa(i) }

// appendRun is a run whose diffs depend on their base: GraphStart
// {"log":[]}, then diff i appends i, with the hash of [1..i].
func appendRun(t testing.TB, thread string, k int) []*pb.DashStreamMessage {
	msgs := []*pb.DashStreamMessage{graphStart(thread, 1, `{"log":[]}`)}
	var log []string
	for i := 1; i <= k; i++ {
		log = append(log, itoa(i))
		msgs = append(msgs, diff(t, thread, uint64(i+1), `{"log":[`+strings.Join(log, ",")+`]}`, add("/log/-", itoa(i))))
	}
	return msgs
}

package pbwire

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/pb"
)

// sameBytesAsProto fails unless Marshal writes what deterministic
// proto.Marshal writes (or both refuse m) and Size is proto.Size.
func sameBytesAsProto(tb testing.TB, m *pb.DashStreamMessage) []byte {
	tb.Helper()
	got, err := Marshal([]byte{0xee}, m) // appends
	want, wantErr := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if (err == nil) != (wantErr == nil) {
		tb.Fatalf("Marshal: %v, proto.Marshal: %v", err, wantErr)
	}
	if err == nil && (got[0] != 0xee || !bytes.Equal(got[1:], want)) {
		tb.Fatalf("Marshal wrote\n%x\nproto.Marshal\n%x", got, want)
	}
	if n, wantN := Size(m), proto.Size(m); n != wantN {
		tb.Fatalf("Size %d, proto.Size %d", n, wantN)
	}
	return want
}

// withUnknown returns a message whose every level holds unknown fields, as
// decoding leaves them.
func withUnknown(tb testing.TB) []*pb.DashStreamMessage {
	var out []*pb.DashStreamMessage
	for _, in := range [][]byte{
		cat(varintField(50, 1), inTokenChunk(varintField(60, 2), inHeader(varintField(70, 3)), bytesField(10, varintField(9, 1))), varintField(51, 5)),
		inEvent(bytesField(4, bytesField(1, []byte("k")), bytesField(2, varintField(2, 1), varintField(20, 1))), varintField(30, 1)),
		inEvent(bytesField(4, bytesField(1, []byte("k")), bytesField(2, bytesField(6, bytesField(1, varintField(40, 1)), varintField(41, 1))))),
		inEvent(bytesField(4, bytesField(1, []byte("k")), bytesField(2, bytesField(7, varintField(42, 1))))),
		bytesField(2, bytesField(3, bytesField(2, []byte("/a")), varintField(9, 9))),
		inMetrics(bytesField(4, bytesField(1, []byte("m")), bytesField(2, varintField(1, 5), varintField(30, 1)))),
		bytesField(4, bytesField(8, varintField(20, 1))),
	} {
		m := new(pb.DashStreamMessage)
		if err := proto.Unmarshal(in, m); err != nil {
			tb.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// odd returns messages protobuf-go writes in ways worth pinning: nil
// elements and values, typed nil variants, zero oneof members, empty keys.
func odd() []*pb.DashStreamMessage {
	return []*pb.DashStreamMessage{
		nil,
		{Message: (*pb.DashStreamMessage_Event)(nil)},
		{Message: &pb.DashStreamMessage_Event{}},
		{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{Operations: []*pb.DiffOperation{nil, {}}}}},
		{Message: &pb.DashStreamMessage_EventBatch{EventBatch: &pb.EventBatch{Events: []*pb.Event{nil}}}},
		{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{Attributes: map[string]*pb.AttributeValue{
			"": nil, "nil": {Value: (*pb.AttributeValue_IntValue)(nil)}, "zero": {Value: &pb.AttributeValue_IntValue{}},
			"s": {Value: &pb.AttributeValue_StringValue{}}, "b": {Value: &pb.AttributeValue_BytesValue{}},
			"f": {Value: &pb.AttributeValue_BoolValue{}}, "d": {Value: &pb.AttributeValue_FloatValue{}},
			"a": {Value: &pb.AttributeValue_ArrayValue{}}, "m": {Value: &pb.AttributeValue_MapValue{}},
			"an": {Value: &pb.AttributeValue_ArrayValue{ArrayValue: &pb.AttributeArray{Values: []*pb.AttributeValue{nil}}}},
		}}}},
		{Message: &pb.DashStreamMessage_Metrics{Metrics: &pb.Metrics{Metrics: map[string]*pb.MetricValue{"": nil, "z": {Value: &pb.MetricValue_IntValue{}}},
			Tags: map[string]string{"": "", "a": ""}}}},
		{Message: &pb.DashStreamMessage_Error{Error: &pb.Error{Suggestions: []string{""}, Context: map[string]string{"": ""}}}},
		{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: &pb.TokenChunk{TokenIds: []uint32{0}, Logprobs: []float32{0}, Stats: &pb.TokenStats{}}}},
		{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: &pb.ToolExecution{ErrorDetails: &pb.Error{}}}},
		{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{Header: &pb.Header{Type: -1, TimestampUs: -1}, EventType: -5, DurationUs: -1}}},
		{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{NodeId: string(bytes.Repeat([]byte("n"), 200)),
			Attributes: map[string]*pb.AttributeValue{"big": {Value: &pb.AttributeValue_StringValue{StringValue: string(bytes.Repeat([]byte("é"), 70_000))}}}}}},
	}
}

func TestMarshal_SameBytesAsProto(t *testing.T) {
	var msgs []*pb.DashStreamMessage
	msgs = append(msgs, full()...)
	msgs = append(msgs, odd()...)
	msgs = append(msgs, withUnknown(t)...)
	for _, v := range demo(t) {
		m := new(pb.DashStreamMessage)
		if err := proto.Unmarshal(v, m); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	for i, m := range msgs {
		want := sameBytesAsProto(t, m)
		if m == nil {
			continue
		}
		// What Marshal writes decodes to the message (nil parts of
		// odd() come back empty).
		back, err := Unmarshal(want)
		if err != nil || (i < len(full()) && !proto.Equal(back, m)) {
			t.Fatalf("message %d does not come back: %v", i, err)
		}
	}
}

// A string field that is not UTF-8 is refused, wherever it is, as
// proto.Marshal refuses it; Size still counts it.
func TestMarshal_InvalidUTF8Refused(t *testing.T) {
	bad := string(badUTF8)
	for _, m := range []*pb.DashStreamMessage{
		{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: &pb.TokenChunk{Text: bad}}},
		{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: &pb.TokenChunk{Header: &pb.Header{ThreadId: bad}}}},
		{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{Attributes: map[string]*pb.AttributeValue{bad: {}}}}},
		{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{Attributes: map[string]*pb.AttributeValue{"k": {Value: &pb.AttributeValue_StringValue{StringValue: bad}}}}}},
		{Message: &pb.DashStreamMessage_Metrics{Metrics: &pb.Metrics{Tags: map[string]string{"k": bad}}}},
		{Message: &pb.DashStreamMessage_Error{Error: &pb.Error{Suggestions: []string{bad}}}},
		{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{Operations: []*pb.DiffOperation{{From: bad}}}}},
		{Message: &pb.DashStreamMessage_Checkpoint{Checkpoint: &pb.Checkpoint{StateType: bad}}},
	} {
		sameBytesAsProto(t, m)
		if _, err := Marshal(nil, m); err == nil {
			t.Fatalf("%v: no error", m)
		} else if !errors.Is(err, errEncodeUTF8) && m.GetCheckpoint() == nil {
			t.Fatalf("error of no class: %v", err)
		}
	}
}

// FuzzMarshal_SameBytesAsProto: whatever proto.Unmarshal decodes, Marshal
// writes as deterministic proto.Marshal does.
func FuzzMarshal_SameBytesAsProto(f *testing.F) {
	for _, v := range demo(f) {
		f.Add(v)
	}
	for _, m := range append(full(), odd()...) {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := new(pb.DashStreamMessage)
		if proto.Unmarshal(b, m) != nil {
			return
		}
		sameBytesAsProto(t, m)
	})
}

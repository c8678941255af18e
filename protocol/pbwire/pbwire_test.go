package pbwire

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/pb"
)

// demoValues holds real demo values, unframed (rewritten by
// server/internal/applybench's TestWriteDecoderSeeds): every variant the
// demo sends, events of each type, patches and full states. Embedded, so
// the tests read it in the browser too.
//
//go:embed testdata/demo-values.bin
var demoValues []byte

func demo(tb testing.TB) [][]byte {
	var out [][]byte
	for b := demoValues; len(b) > 0; {
		n := int(binary.LittleEndian.Uint32(b))
		out = append(out, b[4:4+n:4+n])
		b = b[4+n:]
	}
	if len(out) < 50 {
		tb.Fatalf("only %d demo values", len(out))
	}
	return out
}

// sameAsProto fails unless Unmarshal and proto.Unmarshal agree on b: both
// fail, or both succeed with equal messages (unknown fields included). It
// returns Unmarshal's result.
func sameAsProto(tb testing.TB, b []byte) (*pb.DashStreamMessage, error) {
	tb.Helper()
	got, err := Unmarshal(b)
	want := new(pb.DashStreamMessage)
	wantErr := proto.Unmarshal(b, want)
	switch {
	case (err == nil) != (wantErr == nil):
		tb.Fatalf("input %x:\nUnmarshal: %v\nproto.Unmarshal: %v", b, err, wantErr)
	case err != nil:
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalidUTF8) && !errors.Is(err, ErrTooDeep) && !strings.Contains(err.Error(), "proto.Unmarshal") {
			tb.Fatalf("input %x: error of no class: %v", b, err)
		}
	case !proto.Equal(got, want):
		tb.Fatalf("input %x:\nUnmarshal:       %v\nproto.Unmarshal: %v", b, prototext.Format(got), prototext.Format(want))
	}
	return got, err
}

// full returns one message of each variant with every field set, maps of
// several entries and nested attributes.
func full() []*pb.DashStreamMessage {
	h := func(t pb.MessageType) *pb.Header {
		return &pb.Header{MessageId: []byte("0123456789abcdef"), TimestampUs: -5, TenantId: "tenant", ThreadId: "thread-é",
			Sequence: math.MaxUint64, Type: t, ParentId: []byte{1, 2}, Compression: pb.CompressionType_COMPRESSION_ZSTD, SchemaVersion: 1}
	}
	attrs := map[string]*pb.AttributeValue{
		"s":     {Value: &pb.AttributeValue_StringValue{StringValue: "東京 ✓"}},
		"i":     {Value: &pb.AttributeValue_IntValue{IntValue: math.MinInt64}},
		"f":     {Value: &pb.AttributeValue_FloatValue{FloatValue: math.Inf(-1)}},
		"b":     {Value: &pb.AttributeValue_BoolValue{BoolValue: true}},
		"bytes": {Value: &pb.AttributeValue_BytesValue{BytesValue: []byte{0xff, 0}}},
		"empty": {},
		"arr": {Value: &pb.AttributeValue_ArrayValue{ArrayValue: &pb.AttributeArray{Values: []*pb.AttributeValue{
			{Value: &pb.AttributeValue_IntValue{IntValue: 1}}, {}, {Value: &pb.AttributeValue_MapValue{MapValue: &pb.AttributeMap{}}}}}}},
		"map": {Value: &pb.AttributeValue_MapValue{MapValue: &pb.AttributeMap{Values: map[string]*pb.AttributeValue{
			"": {Value: &pb.AttributeValue_StringValue{}}, "x": {Value: &pb.AttributeValue_BytesValue{}}}}}},
	}
	errMsg := &pb.Error{Header: h(pb.MessageType_MESSAGE_TYPE_ERROR), ErrorCode: "E1", Message: "boom", StackTrace: "at x",
		Context: map[string]string{"a": "1", "": ""}, Severity: pb.Error_SEVERITY_FATAL, ExceptionType: "ValueError",
		Suggestions: []string{"retry", "", "ü"}}
	ev := &pb.Event{Header: h(pb.MessageType_MESSAGE_TYPE_EVENT), EventType: pb.EventType_EVENT_TYPE_LLM_END, NodeId: "node",
		Attributes: attrs, DurationUs: math.MaxInt64, LlmRequestId: "req"}
	return []*pb.DashStreamMessage{
		{Message: &pb.DashStreamMessage_Event{Event: ev}},
		{Message: &pb.DashStreamMessage_EventBatch{EventBatch: &pb.EventBatch{Header: h(pb.MessageType_MESSAGE_TYPE_EVENT_BATCH),
			Events: []*pb.Event{ev, {}, {NodeId: "n2"}}}}},
		{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{Header: h(pb.MessageType_MESSAGE_TYPE_STATE_DIFF),
			BaseCheckpointId: []byte{9}, StateHash: make([]byte, 32), FullState: []byte(`{"a":1}`),
			Operations: []*pb.DiffOperation{
				{Op: pb.DiffOperation_OP_TYPE_MOVE, Path: "/a", From: "/b", Encoding: pb.DiffOperation_VALUE_ENCODING_RAW, Value: []byte("x")},
				{}, {Op: 77, Path: "/~1"}}}}},
		{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: &pb.TokenChunk{Header: h(pb.MessageType_MESSAGE_TYPE_TOKEN_CHUNK),
			RequestId: "r", Text: "hello", TokenIds: []uint32{0, 1, 127, 128, math.MaxUint32}, Logprobs: []float32{-0.5, float32(math.NaN()), 0},
			ChunkIndex: 3, IsFinal: true, FinishReason: pb.TokenChunk_FINISH_REASON_TOOL_CALLS, Model: "m",
			Stats: &pb.TokenStats{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}}}},
		{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: &pb.ToolExecution{Header: h(pb.MessageType_MESSAGE_TYPE_TOOL_EXECUTION),
			CallId: "c", ToolName: "search", Stage: pb.ToolExecution_EXECUTION_STAGE_FAILED, Arguments: []byte(`{}`), Result: []byte(`[]`),
			Error: "timeout", ErrorDetails: errMsg, DurationUs: 12, RetryCount: 2}}},
		{Message: &pb.DashStreamMessage_Metrics{Metrics: &pb.Metrics{Header: h(pb.MessageType_MESSAGE_TYPE_METRICS), Scope: "node", ScopeId: "n",
			Metrics: map[string]*pb.MetricValue{
				"i": {Value: &pb.MetricValue_IntValue{IntValue: -1}, Unit: "ms", Type: pb.MetricValue_METRIC_TYPE_GAUGE},
				"f": {Value: &pb.MetricValue_FloatValue{FloatValue: 0.25}},
				"s": {Value: &pb.MetricValue_StringValue{StringValue: "ok"}},
				"b": {Value: &pb.MetricValue_BoolValue{}},
				"y": {Value: &pb.MetricValue_BytesValue{BytesValue: []byte("z")}},
				"":  {}},
			Tags: map[string]string{"env": "prod", "k": ""}}}},
		{Message: &pb.DashStreamMessage_Error{Error: errMsg}},
		{Message: &pb.DashStreamMessage_Checkpoint{Checkpoint: &pb.Checkpoint{Header: h(pb.MessageType_MESSAGE_TYPE_CHECKPOINT),
			CheckpointId: []byte{1}, State: []byte(`{}`), StateType: "json", Checksum: []byte{2}, StorageUri: "s3://x",
			CompressionInfo: &pb.CompressionInfo{Type: pb.CompressionType_COMPRESSION_ZSTD, CompressedSize: 1, UncompressedSize: 2, CompressionRatio: 0.5},
			Metadata:        map[string]string{"k": "v"}}}},
		{Message: &pb.DashStreamMessage_ExecutionTrace{ExecutionTrace: &pb.ExecutionTrace{Header: h(pb.MessageType_MESSAGE_TYPE_EXECUTION_TRACE),
			ThreadId: "t", ExecutionId: "e", TotalDurationMs: 5, Completed: true, FinalState: []byte(`{}`),
			NodesExecuted: []*pb.NodeExecutionRecord{{Node: "n", Metadata: map[string]string{"a": "b"}}},
			Errors:        []*pb.ErrorRecord{{Node: "n", Message: "m", Recovered: true}}, Metadata: map[string][]byte{"m": []byte(`1`)}}}},
		{},
	}
}

func marshal(tb testing.TB, m proto.Message) []byte {
	tb.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestUnmarshal_DemoValuesAndEveryFieldSameAsProto(t *testing.T) {
	values := demo(t)
	for _, m := range full() {
		values = append(values, marshal(t, m))
	}
	for _, v := range values {
		if _, err := sameAsProto(t, v); err != nil {
			t.Fatalf("a valid value fails: %v", err)
		}
	}
}

// Every proper prefix of a valid value is either a valid message (cut at
// a field boundary) or truncated; both decoders must say the same.
func TestUnmarshal_TruncatedAnywhereSameAsProto(t *testing.T) {
	values := demo(t)[:30]
	for _, m := range full() {
		values = append(values, marshal(t, m))
	}
	truncated := 0
	for _, v := range values {
		for i := range len(v) {
			if _, err := sameAsProto(t, v[:i]); err != nil {
				truncated++
			}
		}
	}
	if truncated == 0 {
		t.Fatal("no prefix was rejected")
	}
}

// wire helpers for hand-made inputs.
func tag(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }

func bytesField(num protowire.Number, content ...[]byte) []byte {
	return protowire.AppendBytes(tag(num, protowire.BytesType), cat(content...))
}

func varintField(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(tag(num, protowire.VarintType), v)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// inTokenChunk, inEvent and the rest wrap fields in their variant.
func inTokenChunk(fields ...[]byte) []byte { return bytesField(3, fields...) }
func inEvent(fields ...[]byte) []byte      { return bytesField(1, fields...) }
func inMetrics(fields ...[]byte) []byte    { return bytesField(6, fields...) }
func inHeader(fields ...[]byte) []byte     { return bytesField(1, fields...) }

var badUTF8 = []byte{'o', 'k', 0xff}

func TestUnmarshal_HostileInputSameAsProto(t *testing.T) {
	cases := []struct {
		name    string
		in      []byte
		wantErr bool
	}{
		{"empty message", nil, false},
		{"field number 0", []byte{0x02, 0x00}, true},
		{"field number above the maximum", protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3), true},
		{"tag varint of 11 bytes", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, true},
		{"tag varint overflowing 64 bits", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, true},
		{"wire type 6", []byte{1<<3 | 6}, true},
		{"wire type 7", []byte{1<<3 | 7, 0}, true},
		{"end group at top level", tag(10, protowire.EndGroupType), true},
		{"end group inside a token chunk", inTokenChunk(tag(2, protowire.EndGroupType)), true},
		{"unknown group kept", cat(tag(20, protowire.StartGroupType), varintField(1, 5), tag(20, protowire.EndGroupType)), false},
		{"unknown group in a header kept", inTokenChunk(inHeader(tag(20, protowire.StartGroupType), tag(20, protowire.EndGroupType))), false},
		{"group never closed", cat(tag(20, protowire.StartGroupType), varintField(1, 5)), true},
		{"group closed by another number", cat(tag(20, protowire.StartGroupType), tag(21, protowire.EndGroupType)), true},
		{"length beyond the end", []byte{3<<3 | 2, 0x05, 0x0a}, true},
		{"length varint truncated", []byte{3<<3 | 2, 0x80}, true},
		{"length of 2^63", cat(tag(3, protowire.BytesType), []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}), true},
		{"fixed64 truncated", cat(tag(30, protowire.Fixed64Type), []byte{1, 2, 3}), true},
		{"fixed32 truncated", cat(tag(30, protowire.Fixed32Type), []byte{1}), true},
		{"invalid UTF-8 in a token's text", inTokenChunk(bytesField(3, badUTF8)), true},
		{"invalid UTF-8 in a header's thread id", inTokenChunk(inHeader(bytesField(4, badUTF8))), true},
		{"invalid UTF-8 in bytes is fine", inTokenChunk(inHeader(bytesField(1, badUTF8))), false},
		{"invalid UTF-8 in an attribute key", inEvent(bytesField(4, bytesField(1, badUTF8))), true},
		{"invalid UTF-8 in an attribute string", inEvent(bytesField(4, bytesField(1, []byte("k")), bytesField(2, bytesField(1, badUTF8)))), true},
		{"invalid UTF-8 in a tag value", inMetrics(bytesField(5, bytesField(1, []byte("k")), bytesField(2, badUTF8))), true},
		{"invalid UTF-8 in a suggestion", bytesField(7, bytesField(8, badUTF8)), true},
		{"invalid UTF-8 in error_details", bytesField(4, bytesField(8, bytesField(3, badUTF8))), true},
		{"invalid UTF-8 in a checkpoint (proto.Unmarshal's part)", bytesField(5, bytesField(4, badUTF8)), true},
		{"invalid UTF-8 in an unknown field is fine", inTokenChunk(bytesField(40, badUTF8)), false},
		{"surrogate half in a string", inTokenChunk(bytesField(3, []byte{0xed, 0xa0, 0x80})), true},
		{"wrong wire type for the text: kept unknown", inTokenChunk(varintField(3, 7)), false},
		{"wrong wire type for a variant: kept unknown", varintField(3, 1), false},
		{"wrong wire type for a header: kept unknown", inTokenChunk(varintField(1, 1)), false},
		{"wrong wire type for the attributes map: kept unknown", inEvent(varintField(4, 1)), false},
		{"non-minimal tag re-encoded", cat([]byte{0x9a, 0x80, 0x00}, []byte{0}), false},
		{"unknown fields in a map entry are dropped", inEvent(bytesField(4, bytesField(1, []byte("k")), varintField(9, 1))), false},
		{"map entry without key or value", inEvent(bytesField(4)), false},
		{"map entry with a truncated value", inEvent(bytesField(4, bytesField(1, []byte("k")), []byte{2<<3 | 2, 9})), true},
		{"map entry with end group", inEvent(bytesField(4, tag(1, protowire.EndGroupType))), true},
		{"map entry value of the wrong wire type", inEvent(bytesField(4, bytesField(1, []byte("k")), varintField(2, 1))), false},
		{"map entry with field number 0", inEvent(bytesField(4, []byte{0x00})), true},
		{"packed token ids truncated", inTokenChunk(bytesField(4, []byte{0x80})), true},
		{"packed token ids empty", inTokenChunk(bytesField(4)), false},
		{"packed logprobs of 5 bytes", inTokenChunk(bytesField(5, []byte{0, 0, 0x80, 0x3f, 1})), true},
		{"unpacked logprob truncated", inTokenChunk(tag(5, protowire.Fixed32Type), []byte{0, 0}), true},
		{"logprob of the wrong wire type: kept unknown", inTokenChunk(varintField(5, 1)), false},
		{"token id as fixed64: kept unknown", inTokenChunk(protowire.AppendFixed64(tag(4, protowire.Fixed64Type), 1)), false},
		{"varint of 10 bytes with a high last byte", inTokenChunk(tag(6, protowire.VarintType), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}), true},
		{"varint of 10 bytes, largest value", inTokenChunk(tag(6, protowire.VarintType), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), false},
		{"attribute float truncated", inEvent(bytesField(4, bytesField(2, tag(3, protowire.Fixed64Type), []byte{1}))), true},
		{"diff operation truncated inside", bytesField(2, bytesField(3, []byte{2<<3 | 2, 4, 'a'})), true},
		{"metric value truncated inside", inMetrics(bytesField(4, bytesField(2, []byte{1 << 3}))), true},
		{"event batch with a broken event", bytesField(8, bytesField(2, []byte{0xff})), true},
		{"checkpoint then a token chunk", cat(bytesField(5), inTokenChunk(bytesField(3, []byte("t")))), false},
		{"token chunk then a broken checkpoint", cat(inTokenChunk(), bytesField(5, []byte{0x0a, 0x09})), true},
		{"broken token chunk then a checkpoint", cat(inTokenChunk([]byte{0x0a, 0x09}), bytesField(5)), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sameAsProto(t, c.in)
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want an error: %t", err, c.wantErr)
			}
		})
	}
}

// The merging rules, each checked against proto.Unmarshal and against
// what the rule says.
func TestUnmarshal_MergeRulesSameAsProto(t *testing.T) {
	cases := []struct {
		name  string
		in    []byte
		check func(*pb.DashStreamMessage) bool
	}{
		{"last scalar wins", inTokenChunk(bytesField(3, []byte("a")), bytesField(3, []byte("b"))),
			func(m *pb.DashStreamMessage) bool { return m.GetTokenChunk().GetText() == "b" }},
		{"a header twice is merged", inTokenChunk(inHeader(bytesField(4, []byte("t"))), inHeader(varintField(5, 7))),
			func(m *pb.DashStreamMessage) bool {
				h := m.GetTokenChunk().GetHeader()
				return h.GetThreadId() == "t" && h.GetSequence() == 7
			}},
		{"a variant twice is merged", cat(inTokenChunk(bytesField(2, []byte("r"))), inTokenChunk(varintField(6, 4))),
			func(m *pb.DashStreamMessage) bool {
				c := m.GetTokenChunk()
				return c.GetRequestId() == "r" && c.GetChunkIndex() == 4
			}},
		{"another variant replaces", cat(inTokenChunk(bytesField(2, []byte("r"))), inEvent(bytesField(3, []byte("n")))),
			func(m *pb.DashStreamMessage) bool { return m.GetTokenChunk() == nil && m.GetEvent().GetNodeId() == "n" }},
		{"a variant of the wrong wire type leaves the other", cat(inTokenChunk(bytesField(2, []byte("r"))), varintField(1, 1)),
			func(m *pb.DashStreamMessage) bool {
				return m.GetTokenChunk().GetRequestId() == "r" && len(m.ProtoReflect().GetUnknown()) == 2
			}},
		{"packed and unpacked token ids append", inTokenChunk(bytesField(4, []byte{1, 2}), varintField(4, 3), bytesField(4, []byte{0x80, 0x01})),
			func(m *pb.DashStreamMessage) bool {
				ids := m.GetTokenChunk().GetTokenIds()
				return len(ids) == 4 && ids[2] == 3 && ids[3] == 128
			}},
		{"token id truncated to 32 bits", inTokenChunk(varintField(4, 1<<32+5)),
			func(m *pb.DashStreamMessage) bool { return m.GetTokenChunk().GetTokenIds()[0] == 5 }},
		{"enum keeps an unknown value, truncated to 32 bits", inTokenChunk(varintField(8, 1<<40|99)),
			func(m *pb.DashStreamMessage) bool { return m.GetTokenChunk().GetFinishReason() == 99 }},
		{"bool from any non-zero varint", inTokenChunk(varintField(7, 1<<20)),
			func(m *pb.DashStreamMessage) bool { return m.GetTokenChunk().GetIsFinal() }},
		{"last oneof member wins", inEvent(bytesField(4, bytesField(1, []byte("k")), bytesField(2, varintField(2, 5), bytesField(1, []byte("s"))))),
			func(m *pb.DashStreamMessage) bool { return m.GetEvent().GetAttributes()["k"].GetStringValue() == "s" }},
		{"an array member twice is merged", inEvent(bytesField(4, bytesField(1, []byte("k")), bytesField(2,
			bytesField(6, bytesField(1, varintField(2, 1))), bytesField(6, bytesField(1, varintField(2, 2)))))),
			func(m *pb.DashStreamMessage) bool {
				return len(m.GetEvent().GetAttributes()["k"].GetArrayValue().GetValues()) == 2
			}},
		{"a map entry's value twice is merged", inEvent(bytesField(4, bytesField(1, []byte("k")),
			bytesField(2, bytesField(6, bytesField(1))), bytesField(2, bytesField(6, bytesField(1))))),
			func(m *pb.DashStreamMessage) bool {
				return len(m.GetEvent().GetAttributes()["k"].GetArrayValue().GetValues()) == 2
			}},
		{"a repeated key replaces, not merges", inEvent(
			bytesField(4, bytesField(1, []byte("k")), bytesField(2, bytesField(6, bytesField(1)))),
			bytesField(4, bytesField(1, []byte("k")), bytesField(2, bytesField(6, bytesField(1))))),
			func(m *pb.DashStreamMessage) bool {
				return len(m.GetEvent().GetAttributes()["k"].GetArrayValue().GetValues()) == 1
			}},
		{"a missing key is \"\", a missing value empty", inEvent(bytesField(4, bytesField(2, varintField(2, 3))), bytesField(4, bytesField(1, []byte("v")))),
			func(m *pb.DashStreamMessage) bool {
				a := m.GetEvent().GetAttributes()
				return a[""].GetIntValue() == 3 && a["v"] != nil && a["v"].GetValue() == nil
			}},
		{"last key and value of an entry win", inMetrics(bytesField(5, bytesField(1, []byte("a")), bytesField(1, []byte("b")), bytesField(2, []byte("x")), bytesField(2, []byte("y")))),
			func(m *pb.DashStreamMessage) bool {
				tags := m.GetMetrics().GetTags()
				return len(tags) == 1 && tags["b"] == "y"
			}},
		{"unknown fields kept in order, at every level", cat(varintField(50, 1), inTokenChunk(varintField(60, 2), inHeader(varintField(70, 3)), varintField(61, 4)), varintField(51, 5)),
			func(m *pb.DashStreamMessage) bool {
				return string(m.ProtoReflect().GetUnknown()) == string(cat(varintField(50, 1), varintField(51, 5))) &&
					string(m.GetTokenChunk().ProtoReflect().GetUnknown()) == string(cat(varintField(60, 2), varintField(61, 4))) &&
					string(m.GetTokenChunk().GetHeader().ProtoReflect().GetUnknown()) == string(varintField(70, 3))
			}},
		{"unknown fields of a merged header are appended", inTokenChunk(inHeader(varintField(70, 1)), inHeader(varintField(71, 2))),
			func(m *pb.DashStreamMessage) bool {
				return string(m.GetTokenChunk().GetHeader().ProtoReflect().GetUnknown()) == string(cat(varintField(70, 1), varintField(71, 2)))
			}},
		{"a replacing variant's header is its own, not the replaced one's", cat(inEvent(inHeader(bytesField(4, []byte("a")))), bytesField(2, inHeader(bytesField(3, []byte("x"))))),
			func(m *pb.DashStreamMessage) bool {
				h := m.GetStateDiff().GetHeader()
				return h.GetTenantId() == "x" && h.GetThreadId() == ""
			}},
		{"a variant back after another starts afresh", cat(inTokenChunk(inHeader(varintField(5, 1)), bytesField(2, []byte("r"))), inEvent(inHeader(varintField(5, 2))), inTokenChunk(inHeader(bytesField(4, []byte("t"))))),
			func(m *pb.DashStreamMessage) bool {
				c := m.GetTokenChunk()
				return c.GetRequestId() == "" && c.GetHeader().GetSequence() == 0 && c.GetHeader().GetThreadId() == "t"
			}},
		{"a negative enum (10-byte varint) is kept", inTokenChunk(inHeader(protowire.AppendVarint(tag(6, protowire.VarintType), uint64(math.MaxUint64-4)))),
			func(m *pb.DashStreamMessage) bool { return m.GetTokenChunk().GetHeader().GetType() == -5 }},
		{"a negative int64 (10-byte varint) is kept", inEvent(varintField(5, math.MaxUint64)),
			func(m *pb.DashStreamMessage) bool { return m.GetEvent().GetDurationUs() == -1 }},
		{"empty bytes are nil in a field, empty in a oneof", cat(inEvent(bytesField(4, bytesField(1, []byte("k")), bytesField(2, bytesField(5)))), bytesField(1, bytesField(1, bytesField(1)))),
			func(m *pb.DashStreamMessage) bool {
				e := m.GetEvent()
				v, ok := e.GetAttributes()["k"].GetValue().(*pb.AttributeValue_BytesValue)
				return ok && v.BytesValue != nil && len(v.BytesValue) == 0 && e.GetHeader().GetMessageId() == nil
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := sameAsProto(t, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(m) {
				t.Fatalf("rule not followed: %v", prototext.Format(m))
			}
		})
	}
}

// nested returns an Event whose attribute nests maps levels deep inside
// arrays levels of arrays; the innermost map entry has an empty value, or
// none when valueless (an entry counts one level of depth by itself).
func nested(levels, arrays int, valueless bool) []byte {
	nums := []protowire.Number{1, 4, 2} // Event, attributes entry, its value
	for range arrays {
		nums = append(nums, 6, 1) // array_value, AttributeArray.values
	}
	for range levels {
		nums = append(nums, 7, 1, 2) // map_value, AttributeMap.values entry, its value
	}
	if valueless {
		nums = nums[:len(nums)-1]
	}
	return nest(nums)
}

// nest returns empty length-delimited fields nested in each other, nums[0]
// outermost, in linear time.
func nest(nums []protowire.Number) []byte {
	prefixes := make([][]byte, len(nums))
	size := 0
	for i := len(nums) - 1; i >= 0; i-- {
		prefixes[i] = protowire.AppendVarint(tag(nums[i], protowire.BytesType), uint64(size))
		size += len(prefixes[i])
	}
	return cat(prefixes...)
}

// The recursion limit counts as protobuf-go counts it: one level for the
// DashStreamMessage, the Event, each map entry and each AttributeValue,
// AttributeMap and AttributeArray, so nested's input is
// 4 + 2·arrays + 3·levels (one less when valueless) deep, and decodes
// when that is at most recursionLimit (10,000; 1,000 in the browser).
// Both decoders must say so, at each of the three phases of a map level
// and for arrays alone. In the browser protobuf-go is left out: it
// overflows V8's call stack (between 1,000 and 2,000 levels).
func TestUnmarshal_RecursionLimitSameAsProto(t *testing.T) {
	type input struct{ levels, arrays int }
	var inputs []input
	c := (recursionLimit - 4) / 3 // the most map levels that fit
	for arrays := range 3 {
		for levels := c - 6; levels <= c+2; levels++ {
			inputs = append(inputs, input{levels, arrays})
		}
	}
	a := (recursionLimit - 4) / 2 // the most arrays that fit
	inputs = append(inputs, input{0, a - 1}, input{0, a}, input{0, a + 1}, input{0, recursionLimit * 6 / 10}, input{0, 6000})
	for _, in := range inputs {
		for _, valueless := range []bool{false, true} {
			if valueless && in.levels == 0 {
				continue
			}
			b := nested(in.levels, in.arrays, valueless)
			depth := 4 + 2*in.arrays + 3*in.levels
			if valueless {
				depth--
			}
			var err error
			if runtime.GOOS == "js" {
				_, err = Unmarshal(b)
			} else {
				_, err = sameAsProto(t, b)
			}
			if (err == nil) != (depth <= recursionLimit) {
				t.Fatalf("%+v valueless %t: %d deep, error %v", in, valueless, depth, err)
			}
			if err != nil && !errors.Is(err, ErrTooDeep) {
				t.Fatalf("%+v: %v", in, err)
			}
		}
	}
}

// FuzzUnmarshal_SameAsProto: on any input, Unmarshal and proto.Unmarshal
// both fail or give equal messages. The seeds are real demo values, one of
// each variant with every field set, and the hostile inputs above.
func FuzzUnmarshal_SameAsProto(f *testing.F) {
	for _, v := range demo(f) {
		f.Add(v)
	}
	for _, m := range full() {
		f.Add(marshal(f, m))
	}
	f.Add(nested(40, 1, false))
	f.Add(inTokenChunk(bytesField(4, []byte{1, 2}), varintField(4, 3), bytesField(5, make([]byte, 8))))
	f.Add(cat(tag(20, protowire.StartGroupType), varintField(1, 5), tag(20, protowire.EndGroupType)))
	// Variants with headers replacing each other (a shared header once
	// merged across them).
	f.Add(cat(inEvent(inHeader(bytesField(4, []byte("a")))), bytesField(2, inHeader(bytesField(3, []byte("x"))))))
	f.Add(cat(inTokenChunk(inHeader(varintField(5, 1))), inEvent(inHeader(varintField(5, 2))), inTokenChunk(inHeader(varintField(6, 3)))))
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsProto(t, b)
	})
}

// The decoded message shares no memory with its input: overwriting the
// input afterwards changes nothing in it (strings share a copy instead).
func TestUnmarshal_OwnsItsMemory(t *testing.T) {
	values := demo(t)
	for _, m := range full() {
		values = append(values, marshal(t, m))
	}
	for _, v := range values {
		in := append([]byte(nil), v...)
		got, err := Unmarshal(in)
		if err != nil {
			t.Fatal(err)
		}
		for i := range in {
			in[i] = 0xa5
		}
		want := new(pb.DashStreamMessage)
		if err := proto.Unmarshal(v, want); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("overwriting the input changed the message decoded from %x", v)
		}
	}
}

// source.string finds a string's place in the shared copy of the input
// from its capacity, which holds only while protowire.ConsumeBytes returns
// a slice that keeps the input's end (not a full slice expression): a
// protobuf-go upgrade that changed it fails here first.
func TestConsumeBytes_KeepsTheInputsEnd(t *testing.T) {
	in := cat(bytesField(3, []byte("abc")), varintField(1, 1))
	v, n := protowire.ConsumeBytes(in[1:])
	if n != 4 || string(v) != "abc" || cap(v) != cap(in)-2 {
		t.Fatalf("ConsumeBytes gave %q (cap %d) of %d bytes; want \"abc\" with cap %d", v, cap(v), n, cap(in)-2)
	}
}

// groups returns n unknown groups (field 20) nested in each other, closed
// by end tags of closeNum (20 to close them right).
func groups(n int, closeNum protowire.Number) []byte {
	var b []byte
	for range n {
		b = append(b, tag(20, protowire.StartGroupType)...)
	}
	b = append(b, varintField(1, 1)...)
	for range n {
		b = append(b, tag(closeNum, protowire.EndGroupType)...)
	}
	return b
}

// Unknown groups nested as deep as protobuf-go skips them are kept, one
// deeper is an error, and none of it overflows the browser's call stack
// (protowire's recursive skipping did, near 10,000 levels: a crash of the
// whole dashboard, not an error). In the browser proto.Unmarshal is left
// out: it recurses there too.
func TestUnmarshal_DeepUnknownGroupsSameAsProto(t *testing.T) {
	limit := protowire.DefaultRecursionLimit
	for _, c := range []struct {
		in      []byte
		wantErr bool
	}{
		{groups(limit, 20), false},
		{groups(limit+1, 20), false}, // the outermost group and limit more inside
		{groups(limit+2, 20), true},
		{inTokenChunk(groups(limit+1, 20)), false},
		{inTokenChunk(groups(limit+2, 20)), true},
		{inTokenChunk(inHeader(groups(limit/2, 20))), false},
		{groups(limit/2, 21), true},
		{groups(3, 20)[:5], true},
		{cat(tag(20, protowire.StartGroupType), tag(21, protowire.StartGroupType), tag(20, protowire.EndGroupType), tag(21, protowire.EndGroupType)), true},
		{cat(tag(20, protowire.StartGroupType), []byte{0x00}, tag(20, protowire.EndGroupType)), true},
		{cat(tag(20, protowire.StartGroupType), []byte{1<<3 | 6}, tag(20, protowire.EndGroupType)), true},
		{cat(tag(20, protowire.StartGroupType), protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3), []byte{1}, tag(20, protowire.EndGroupType)), false}, // as protowire accepts inside a group
	} {
		var err error
		if runtime.GOOS == "js" {
			_, err = Unmarshal(c.in)
		} else {
			_, err = sameAsProto(t, c.in)
		}
		if (err != nil) != c.wantErr {
			t.Fatalf("input of %d bytes: error %v, want one: %t", len(c.in), err, c.wantErr)
		}
	}
}

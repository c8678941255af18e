package pbwire

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/pb"
)

// The Checkpoint and ExecutionTrace variants and what they contain, once
// left to proto.Unmarshal, whose recursion crashed the dashboard on deep
// unknown groups inside them.

func inCheckpoint(fields ...[]byte) []byte { return bytesField(5, fields...) }
func inTrace(fields ...[]byte) []byte      { return bytesField(9, fields...) }

// payloadMessages is every message the two variants hold, each with a
// function that wraps fields into a DashStreamMessage at its place, and
// its highest field number.
var payloadMessages = []struct {
	name string
	in   func(fields ...[]byte) []byte
	max  protowire.Number
}{
	{"Checkpoint", inCheckpoint, 8},
	{"Checkpoint.header", func(f ...[]byte) []byte { return inCheckpoint(inHeader(f...)) }, 9},
	{"CompressionInfo", func(f ...[]byte) []byte { return inCheckpoint(bytesField(7, f...)) }, 4},
	{"Checkpoint.metadata entry", func(f ...[]byte) []byte { return inCheckpoint(bytesField(8, f...)) }, 2},
	{"ExecutionTrace", inTrace, 12},
	{"ExecutionTrace.header", func(f ...[]byte) []byte { return inTrace(inHeader(f...)) }, 9},
	{"NodeExecutionRecord", func(f ...[]byte) []byte { return inTrace(bytesField(4, f...)) }, 11},
	{"NodeExecutionRecord.metadata entry", func(f ...[]byte) []byte { return inTrace(bytesField(4, bytesField(11, f...))) }, 2},
	{"ErrorRecord", func(f ...[]byte) []byte { return inTrace(bytesField(7, f...)) }, 6},
	{"ExecutionTrace.metadata entry", func(f ...[]byte) []byte { return inTrace(bytesField(12, f...)) }, 2},
}

// fieldValues returns, for field number n, one field of each wire type,
// each twice (the last wins, or they merge), and each malformed way a field
// can be: what the generated cases put in every field of every message.
func fieldValues(n protowire.Number) map[string][]byte {
	return map[string][]byte{
		"varint":                     varintField(n, 300),
		"varint twice":               cat(varintField(n, 1), varintField(n, 1<<40)),
		"fixed32":                    protowire.AppendFixed32(tag(n, protowire.Fixed32Type), 0x3f000000),
		"fixed32 twice":              cat(protowire.AppendFixed32(tag(n, protowire.Fixed32Type), 1), protowire.AppendFixed32(tag(n, protowire.Fixed32Type), 2)),
		"fixed64":                    protowire.AppendFixed64(tag(n, protowire.Fixed64Type), 7),
		"bytes":                      bytesField(n, []byte("ok")),
		"bytes twice":                cat(bytesField(n, varintField(2, 1)), bytesField(n, varintField(3, 2))),
		"empty bytes":                bytesField(n),
		"invalid UTF-8":              bytesField(n, badUTF8),
		"group":                      cat(tag(n, protowire.StartGroupType), varintField(1, 5), tag(n, protowire.EndGroupType)),
		"varint truncated":           cat(tag(n, protowire.VarintType), []byte{0x80}),
		"varint of 11 bytes":         cat(tag(n, protowire.VarintType), []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}),
		"length truncated":           cat(tag(n, protowire.BytesType), []byte{0x80}),
		"length beyond the end":      cat(tag(n, protowire.BytesType), []byte{0x05, 0x0a}),
		"length of 2^63":             cat(tag(n, protowire.BytesType), []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}),
		"fixed32 truncated":          cat(tag(n, protowire.Fixed32Type), []byte{1}),
		"fixed64 truncated":          cat(tag(n, protowire.Fixed64Type), []byte{1, 2, 3}),
		"group never closed":         cat(tag(n, protowire.StartGroupType), varintField(1, 5)),
		"group closed by another":    cat(tag(n, protowire.StartGroupType), tag(n+1, protowire.EndGroupType)),
		"end group":                  tag(n, protowire.EndGroupType),
		"wire type 6":                tag(n, 6),
		"message with field 0 in it": bytesField(n, []byte{0x00, 0x00}),
	}
}

// Every field of every message of the two variants (and one unknown field
// beyond them), with every wire type and every malformation: the same
// result as proto.Unmarshal. Known fields of the wrong wire type are kept
// unknown, strings refuse invalid UTF-8, anything truncated is an error.
func TestUnmarshalPayloads_EveryFieldAndWireTypeSameAsProto(t *testing.T) {
	failed, kept := 0, 0
	for _, pm := range payloadMessages {
		for n := protowire.Number(1); n <= pm.max+1; n++ {
			for name, v := range fieldValues(n) {
				in := pm.in(v)
				m, err := sameAsProto(t, in)
				if err != nil {
					failed++
					continue
				}
				kept++
				if m.GetCheckpoint() == nil && m.GetExecutionTrace() == nil {
					t.Fatalf("%s field %d %s: no payload decoded: %v", pm.name, n, name, prototext.Format(m))
				}
			}
		}
		if _, err := sameAsProto(t, pm.in([]byte{0x00})); err == nil {
			t.Fatalf("%s: field number 0 accepted", pm.name)
		}
	}
	if failed == 0 || kept == 0 {
		t.Fatalf("%d inputs failed, %d decoded: the cases test nothing", failed, kept)
	}
}

// Strings of the payloads are proto3 strings: invalid UTF-8 is an error in
// each of them (and in map keys and string values), never in bytes fields.
func TestUnmarshalPayloads_InvalidUTF8SameAsProto(t *testing.T) {
	strs := map[string][]protowire.Number{ // message: its string fields
		"Checkpoint":                         {4, 6},
		"Checkpoint.header":                  {3, 4},
		"Checkpoint.metadata entry":          {1, 2},
		"ExecutionTrace":                     {2, 3, 9, 10},
		"ExecutionTrace.header":              {3, 4},
		"NodeExecutionRecord":                {1, 7, 8},
		"NodeExecutionRecord.metadata entry": {1, 2},
		"ErrorRecord":                        {1, 2, 3, 4, 6},
		"ExecutionTrace.metadata entry":      {1},
	}
	byts := map[string][]protowire.Number{ // message: its bytes fields
		"Checkpoint":                    {2, 3, 5},
		"Checkpoint.header":             {1, 7},
		"ExecutionTrace":                {11},
		"NodeExecutionRecord":           {9, 10},
		"ExecutionTrace.metadata entry": {2},
	}
	for _, pm := range payloadMessages {
		for _, n := range strs[pm.name] {
			if _, err := sameAsProto(t, pm.in(bytesField(n, badUTF8))); !errors.Is(err, ErrInvalidUTF8) {
				t.Errorf("%s field %d: invalid UTF-8 gives %v", pm.name, n, err)
			}
		}
		for _, n := range byts[pm.name] {
			if _, err := sameAsProto(t, pm.in(bytesField(n, badUTF8))); err != nil {
				t.Errorf("%s bytes field %d: invalid UTF-8 gives %v", pm.name, n, err)
			}
		}
	}
}

// The merging rules of the two variants, each checked against
// proto.Unmarshal and against what the rule says.
func TestUnmarshalPayloads_MergeRulesSameAsProto(t *testing.T) {
	cases := []struct {
		name  string
		in    []byte
		check func(*pb.DashStreamMessage) bool
	}{
		{"a checkpoint twice is merged", cat(inCheckpoint(bytesField(4, []byte("json"))), inCheckpoint(bytesField(6, []byte("s3://x")))),
			func(m *pb.DashStreamMessage) bool {
				c := m.GetCheckpoint()
				return c.GetStateType() == "json" && c.GetStorageUri() == "s3://x"
			}},
		{"a trace replaces a checkpoint", cat(inCheckpoint(bytesField(4, []byte("json"))), inTrace(bytesField(2, []byte("t")))),
			func(m *pb.DashStreamMessage) bool {
				return m.GetCheckpoint() == nil && m.GetExecutionTrace().GetThreadId() == "t"
			}},
		{"a checkpoint replaces a token chunk and back", cat(inTokenChunk(bytesField(2, []byte("r"))), inCheckpoint(), inTokenChunk(bytesField(3, []byte("x")))),
			func(m *pb.DashStreamMessage) bool {
				c := m.GetTokenChunk()
				return c.GetRequestId() == "" && c.GetText() == "x"
			}},
		{"a trace back after an event starts afresh", cat(inTrace(bytesField(2, []byte("a"))), inEvent(), inTrace(bytesField(3, []byte("e")))),
			func(m *pb.DashStreamMessage) bool {
				x := m.GetExecutionTrace()
				return x.GetThreadId() == "" && x.GetExecutionId() == "e"
			}},
		{"compression info twice is merged", inCheckpoint(bytesField(7, varintField(2, 10)), bytesField(7, varintField(3, 20))),
			func(m *pb.DashStreamMessage) bool {
				c := m.GetCheckpoint().GetCompressionInfo()
				return c.GetCompressedSize() == 10 && c.GetUncompressedSize() == 20
			}},
		{"packed-looking bytes for a ratio: kept unknown", inCheckpoint(bytesField(7, bytesField(4, make([]byte, 4)))),
			func(m *pb.DashStreamMessage) bool {
				c := m.GetCheckpoint().GetCompressionInfo()
				return c.GetCompressionRatio() == 0 && len(c.ProtoReflect().GetUnknown()) == 6
			}},
		{"node records and error records append", inTrace(bytesField(4, bytesField(1, []byte("a"))), bytesField(7), bytesField(4, bytesField(1, []byte("b")))),
			func(m *pb.DashStreamMessage) bool {
				x := m.GetExecutionTrace()
				return len(x.GetNodesExecuted()) == 2 && x.GetNodesExecuted()[1].GetNode() == "b" && len(x.GetErrors()) == 1
			}},
		{"map entries without key or value", cat(inTrace(bytesField(12), bytesField(12, bytesField(1, []byte("k"))), bytesField(4, bytesField(11, bytesField(2, []byte("v")))))),
			func(m *pb.DashStreamMessage) bool {
				x := m.GetExecutionTrace()
				md := x.GetMetadata()
				v, ok := md[""]
				return ok && len(v) == 0 && len(md) == 2 && x.GetNodesExecuted()[0].GetMetadata()[""] == "v"
			}},
		{"a map's empty bytes value is kept", inTrace(bytesField(12, bytesField(1, []byte("k")), bytesField(2))),
			func(m *pb.DashStreamMessage) bool {
				v, ok := m.GetExecutionTrace().GetMetadata()["k"]
				return ok && v != nil && len(v) == 0
			}},
		{"a repeated key replaces; last key and value of an entry win", inCheckpoint(bytesField(8, bytesField(1, []byte("k")), bytesField(2, []byte("1"))),
			bytesField(8, bytesField(1, []byte("x")), bytesField(1, []byte("k")), bytesField(2, []byte("2")), bytesField(2, []byte("3")))),
			func(m *pb.DashStreamMessage) bool {
				md := m.GetCheckpoint().GetMetadata()
				return len(md) == 1 && md["k"] == "3"
			}},
		{"unknown fields kept at every level, dropped in map entries", inTrace(varintField(40, 1), bytesField(4, varintField(41, 2), bytesField(11, varintField(42, 3))), bytesField(7, varintField(43, 4))),
			func(m *pb.DashStreamMessage) bool {
				x := m.GetExecutionTrace()
				return string(x.ProtoReflect().GetUnknown()) == string(varintField(40, 1)) &&
					string(x.GetNodesExecuted()[0].ProtoReflect().GetUnknown()) == string(varintField(41, 2)) &&
					string(x.GetErrors()[0].ProtoReflect().GetUnknown()) == string(varintField(43, 4))
			}},
		{"unknown length-delimited fields nested 10,000 deep are kept as bytes", inCheckpoint(nest(repeat(30, 10000))),
			func(m *pb.DashStreamMessage) bool { return len(m.GetCheckpoint().ProtoReflect().GetUnknown()) > 10000 }},
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

func repeat(n protowire.Number, count int) []protowire.Number {
	out := make([]protowire.Number, count)
	for i := range out {
		out[i] = n
	}
	return out
}

// Unknown groups nested 10,000 deep (a 40 KB value) inside every message
// of the two variants: kept when protobuf-go keeps them, an error one level
// deeper, and in the browser no crash (proto.Unmarshal, which decoded
// these variants before, recursed once per group there and overflowed the
// JavaScript engine's stack). In the browser proto.Unmarshal is left out.
func TestUnmarshalPayloads_DeepUnknownGroups(t *testing.T) {
	limit := protowire.DefaultRecursionLimit
	for _, pm := range payloadMessages {
		for _, c := range []struct {
			levels  int
			wantErr bool
		}{{limit + 1, false}, {limit + 2, true}} {
			t.Run(fmt.Sprintf("%s/%d", pm.name, c.levels), func(t *testing.T) {
				in := pm.in(groups(c.levels, 20))
				var err error
				if runtime.GOOS == "js" {
					_, err = Unmarshal(in)
				} else {
					_, err = sameAsProto(t, in)
				}
				if (err != nil) != c.wantErr {
					t.Fatalf("%d bytes: error %v, want one: %t", len(in), err, c.wantErr)
				}
				if err != nil && !errors.Is(err, ErrTooDeep) {
					t.Fatalf("error of the wrong class: %v", err)
				}
			})
		}
	}
}

// fullPayloads returns a Checkpoint and an ExecutionTrace with every field
// set, repeated and map fields of several entries.
func fullPayloads() []*pb.DashStreamMessage {
	h := &pb.Header{MessageId: []byte("id"), TimestampUs: 5, TenantId: "t", ThreadId: "th", Sequence: 9,
		Type: pb.MessageType_MESSAGE_TYPE_EXECUTION_TRACE, ParentId: []byte{1}, Compression: 1, SchemaVersion: 1}
	return []*pb.DashStreamMessage{
		{Message: &pb.DashStreamMessage_Checkpoint{Checkpoint: &pb.Checkpoint{Header: h,
			CheckpointId: []byte{1, 2}, State: []byte(`{"a":[1,2]}`), StateType: "json", Checksum: make([]byte, 32), StorageUri: "s3://b/k",
			CompressionInfo: &pb.CompressionInfo{Type: pb.CompressionType_COMPRESSION_ZSTD, CompressedSize: 1 << 40, UncompressedSize: 3, CompressionRatio: -0.25},
			Metadata:        map[string]string{"k": "v", "": "", "é": "東京"}}}},
		{Message: &pb.DashStreamMessage_ExecutionTrace{ExecutionTrace: &pb.ExecutionTrace{Header: h,
			ThreadId: "t", ExecutionId: "e", TotalDurationMs: 1 << 63, TotalTokens: 7, Completed: true,
			StartedAt: "2026-01-01T00:00:00Z", EndedAt: "2026-01-01T00:00:01Z", FinalState: []byte(`{}`),
			NodesExecuted: []*pb.NodeExecutionRecord{
				{Node: "n", DurationMs: 1, PromptTokens: 2, CompletionTokens: 3, TotalTokens: 5, Succeeded: true,
					StartedAt: "a", EndedAt: "b", Input: []byte(`1`), Output: []byte(`2`), Metadata: map[string]string{"a": "b", "c": ""}},
				{}},
			Errors:   []*pb.ErrorRecord{{Node: "n", Message: "m", ErrorCode: "E", Timestamp: "ts", Recovered: true, StackTrace: "at"}, {}},
			Metadata: map[string][]byte{"m": []byte(`1`), "e": {}}}}},
	}
}

// FuzzUnmarshalPayloads_SameAsProto: any bytes as the content of a
// Checkpoint and of an ExecutionTrace decode as proto.Unmarshal decodes
// them. The seeds are full payloads and a case of each table above.
func FuzzUnmarshalPayloads_SameAsProto(f *testing.F) {
	for _, m := range fullPayloads() {
		b := marshal(f, m)
		_, _, n := protowire.ConsumeTag(b)
		v, _ := protowire.ConsumeBytes(b[n:])
		f.Add(v)
	}
	for _, pm := range payloadMessages {
		inner := pm.in(fieldValues(pm.max)["group"], fieldValues(1)["bytes twice"])
		_, _, n := protowire.ConsumeTag(inner)
		v, _ := protowire.ConsumeBytes(inner[n:])
		f.Add(v)
	}
	f.Add(groups(40, 20))
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsProto(t, inCheckpoint(b))
		sameAsProto(t, inTrace(b))
	})
}

// Full payloads decode as proto.Unmarshal decodes them, and share no
// memory with their input.
func TestUnmarshalPayloads_FullSameAsProto(t *testing.T) {
	for _, m := range fullPayloads() {
		b := marshal(t, m)
		in := append([]byte(nil), b...)
		got, err := sameAsProto(t, in)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, m) {
			t.Fatalf("decoded %v, want %v", prototext.Format(got), prototext.Format(m))
		}
		for i := range in {
			in[i] = 0xa5
		}
		if !proto.Equal(got, m) {
			t.Fatal("overwriting the input changed the decoded message")
		}
	}
}

package pbwire

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dashstream/dashstream/protocol/pb"
)

// The encoding side, for the producer: the same messages as Unmarshal,
// written field by field. Its output is proto.MarshalOptions{Deterministic:
// true}'s, byte for byte (TestMarshal_SameBytesAsProto): fields in number
// order but oneofs after the rest, proto3 zero values left out, set oneof members always written, a
// nil message in a oneof, list or map written as an empty one, map entries
// sorted by key, unknown fields last. Like proto.Marshal it refuses a string
// field that is not UTF-8.

// errEncodeUTF8: Marshal met a string field that is not UTF-8.
var errEncodeUTF8 = errors.New("string field contains invalid UTF-8")

// Marshal appends msg's protobuf to dst.
func Marshal(dst []byte, msg *pb.DashStreamMessage) ([]byte, error) {
	e := encoder{b: dst}
	if !e.dashStreamMessage(msg) {
		b, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(dst, msg)
		if err != nil {
			return nil, fmt.Errorf("pbwire: proto.Marshal: %w", err)
		}
		return b, nil
	}
	if e.err != nil {
		return nil, fmt.Errorf("pbwire: %w", e.err)
	}
	return e.b, nil
}

// Size returns the length of msg's protobuf (also when Marshal would refuse
// it, as proto.Size).
func Size(msg *pb.DashStreamMessage) int {
	bp := scratch.Get().(*[]byte)
	e := encoder{b: (*bp)[:0], sizeOnly: true}
	n := 0
	if e.dashStreamMessage(msg) {
		n = len(e.b)
	} else {
		n = proto.Size(msg)
	}
	if cap(e.b) <= maxScratch {
		*bp = e.b
		scratch.Put(bp)
	}
	return n
}

// scratch holds Size's buffers, up to maxScratch bytes each.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

const maxScratch = 1 << 20

// encoder appends fields to b; the first invalid string is kept in err and
// writing goes on (Size needs the length all the same).
type encoder struct {
	b   []byte
	err error
	// sizeOnly: the bytes are only counted, strings need no check.
	sizeOnly bool
}

func (e *encoder) tag(num protowire.Number, typ protowire.Type) {
	if num < 16 {
		e.b = append(e.b, byte(num)<<3|byte(typ))
		return
	}
	e.b = protowire.AppendTag(e.b, num, typ)
}

// uint writes a varint field unless it is zero.
func (e *encoder) uint(num protowire.Number, v uint64) {
	if v != 0 {
		e.tag(num, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, v)
	}
}

func (e *encoder) bool(num protowire.Number, v bool) {
	if v {
		e.tag(num, protowire.VarintType)
		e.b = append(e.b, 1)
	}
}

func (e *encoder) bytes(num protowire.Number, v []byte) {
	if len(v) > 0 {
		e.tag(num, protowire.BytesType)
		e.b = protowire.AppendBytes(e.b, v)
	}
}

// str writes a string field unless it is empty; an empty one is written
// when always (a oneof member).
func (e *encoder) str(num protowire.Number, v string, always bool) {
	if v == "" && !always {
		return
	}
	if e.err == nil && !e.sizeOnly && !utf8.ValidString(v) {
		e.err = fmt.Errorf("field %d: %w", num, errEncodeUTF8)
	}
	e.tag(num, protowire.BytesType)
	e.b = protowire.AppendString(e.b, v)
}

// begin starts a nested message field and returns where its length goes:
// one byte is kept for it, and end makes room for more if the message
// turns out longer than 127 bytes.
func (e *encoder) begin(num protowire.Number) int {
	e.tag(num, protowire.BytesType)
	e.b = append(e.b, 0)
	return len(e.b) - 1
}

func (e *encoder) end(at int) {
	n := len(e.b) - at - 1
	if n < 0x80 {
		e.b[at] = byte(n)
		return
	}
	extra := protowire.SizeVarint(uint64(n)) - 1
	e.b = append(e.b, make([]byte, extra)...)
	copy(e.b[at+1+extra:], e.b[at+1:len(e.b)-extra])
	protowire.AppendVarint(e.b[:at], uint64(n))
}

// unknown writes m's unknown fields, last, as protobuf-go does.
func (e *encoder) unknown(m protoreflect.ProtoMessage) {
	if u := m.ProtoReflect().GetUnknown(); len(u) > 0 {
		e.b = append(e.b, u...)
	}
}

// dashStreamMessage returns false, having written nothing, for a variant it
// leaves to proto.Marshal.
func (e *encoder) dashStreamMessage(m *pb.DashStreamMessage) bool {
	x := m.GetMessage()
	if isNilWrapper(x) {
		x = nil // a typed nil variant is no variant, as for proto.Marshal
	}
	switch v := x.(type) {
	case nil:
	case *pb.DashStreamMessage_Event:
		at := e.begin(1)
		e.event(v.Event)
		e.end(at)
	case *pb.DashStreamMessage_StateDiff:
		at := e.begin(2)
		e.stateDiff(v.StateDiff)
		e.end(at)
	case *pb.DashStreamMessage_TokenChunk:
		at := e.begin(3)
		e.tokenChunk(v.TokenChunk)
		e.end(at)
	case *pb.DashStreamMessage_ToolExecution:
		at := e.begin(4)
		e.toolExecution(v.ToolExecution)
		e.end(at)
	case *pb.DashStreamMessage_Metrics:
		at := e.begin(6)
		e.metrics(v.Metrics)
		e.end(at)
	case *pb.DashStreamMessage_Error:
		at := e.begin(7)
		e.errorMessage(v.Error)
		e.end(at)
	case *pb.DashStreamMessage_EventBatch:
		at := e.begin(8)
		e.eventBatch(v.EventBatch)
		e.end(at)
	default:
		return false
	}
	if m != nil {
		e.unknown(m)
	}
	return true
}

// header writes field 1, a header, if set. Each message function writes
// nothing for nil (an empty message).
func (e *encoder) header(h *pb.Header) {
	if h == nil {
		return
	}
	at := e.begin(1)
	e.bytes(1, h.MessageId)
	e.uint(2, uint64(h.TimestampUs))
	e.str(3, h.TenantId, false)
	e.str(4, h.ThreadId, false)
	e.uint(5, h.Sequence)
	e.uint(6, uint64(h.Type))
	e.bytes(7, h.ParentId)
	e.uint(8, uint64(h.Compression))
	e.uint(9, uint64(h.SchemaVersion))
	e.unknown(h)
	e.end(at)
}

func (e *encoder) event(m *pb.Event) {
	if m == nil {
		return
	}
	e.header(m.Header)
	e.uint(2, uint64(m.EventType))
	e.str(3, m.NodeId, false)
	e.attributes(4, m.Attributes)
	e.uint(5, uint64(m.DurationUs))
	e.str(6, m.LlmRequestId, false)
	e.unknown(m)
}

// sortedKeys returns a map's keys in the order deterministic marshalling
// writes them.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (e *encoder) attributes(num protowire.Number, m map[string]*pb.AttributeValue) {
	if len(m) == 0 {
		return
	}
	for _, k := range sortedKeys(m) {
		// Map entries always hold both key and value, even zero ones.
		at := e.begin(num)
		e.str(1, k, true)
		v := e.begin(2) // a nil value is written as an empty one
		e.attributeValue(m[k])
		e.end(v)
		e.end(at)
	}
}

func (e *encoder) attributeValue(m *pb.AttributeValue) {
	if m == nil {
		return
	}
	x := m.Value
	if isNilWrapper(x) {
		x = nil
	}
	switch v := x.(type) {
	case *pb.AttributeValue_StringValue:
		e.str(1, v.StringValue, true)
	case *pb.AttributeValue_IntValue:
		e.tag(2, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, uint64(v.IntValue))
	case *pb.AttributeValue_FloatValue:
		e.tag(3, protowire.Fixed64Type)
		e.b = protowire.AppendFixed64(e.b, math.Float64bits(v.FloatValue))
	case *pb.AttributeValue_BoolValue:
		e.tag(4, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, protowire.EncodeBool(v.BoolValue))
	case *pb.AttributeValue_BytesValue:
		e.tag(5, protowire.BytesType)
		e.b = protowire.AppendBytes(e.b, v.BytesValue)
	case *pb.AttributeValue_ArrayValue:
		at := e.begin(6)
		if a := v.ArrayValue; a != nil {
			for _, x := range a.Values {
				at := e.begin(1)
				e.attributeValue(x)
				e.end(at)
			}
			e.unknown(a)
		}
		e.end(at)
	case *pb.AttributeValue_MapValue:
		at := e.begin(7)
		if mv := v.MapValue; mv != nil {
			e.attributes(1, mv.Values)
			e.unknown(mv)
		}
		e.end(at)
	}
	e.unknown(m)
}

func (e *encoder) eventBatch(m *pb.EventBatch) {
	if m == nil {
		return
	}
	e.header(m.Header)
	for _, ev := range m.Events {
		at := e.begin(2)
		e.event(ev)
		e.end(at)
	}
	e.unknown(m)
}

func (e *encoder) stateDiff(m *pb.StateDiff) {
	if m == nil {
		return
	}
	e.header(m.Header)
	e.bytes(2, m.BaseCheckpointId)
	for _, op := range m.Operations {
		at := e.begin(3)
		if op != nil {
			e.uint(1, uint64(op.Op))
			e.str(2, op.Path, false)
			e.bytes(3, op.Value)
			e.str(4, op.From, false)
			e.uint(5, uint64(op.Encoding))
			e.unknown(op)
		}
		e.end(at)
	}
	e.bytes(4, m.StateHash)
	e.bytes(5, m.FullState)
	e.unknown(m)
}

func (e *encoder) tokenChunk(m *pb.TokenChunk) {
	if m == nil {
		return
	}
	e.header(m.Header)
	e.str(2, m.RequestId, false)
	e.str(3, m.Text, false)
	if len(m.TokenIds) > 0 {
		at := e.begin(4)
		for _, id := range m.TokenIds {
			e.b = protowire.AppendVarint(e.b, uint64(id))
		}
		e.end(at)
	}
	if len(m.Logprobs) > 0 {
		e.tag(5, protowire.BytesType)
		e.b = protowire.AppendVarint(e.b, uint64(4*len(m.Logprobs)))
		for _, p := range m.Logprobs {
			e.b = protowire.AppendFixed32(e.b, math.Float32bits(p))
		}
	}
	e.uint(6, uint64(m.ChunkIndex))
	e.bool(7, m.IsFinal)
	e.uint(8, uint64(m.FinishReason))
	e.str(9, m.Model, false)
	if s := m.Stats; s != nil {
		at := e.begin(10)
		e.uint(1, uint64(s.PromptTokens))
		e.uint(2, uint64(s.CompletionTokens))
		e.uint(3, uint64(s.TotalTokens))
		e.unknown(s)
		e.end(at)
	}
	e.unknown(m)
}

func (e *encoder) toolExecution(m *pb.ToolExecution) {
	if m == nil {
		return
	}
	e.header(m.Header)
	e.str(2, m.CallId, false)
	e.str(3, m.ToolName, false)
	e.uint(4, uint64(m.Stage))
	e.bytes(5, m.Arguments)
	e.bytes(6, m.Result)
	e.str(7, m.Error, false)
	if m.ErrorDetails != nil {
		at := e.begin(8)
		e.errorMessage(m.ErrorDetails)
		e.end(at)
	}
	e.uint(9, uint64(m.DurationUs))
	e.uint(10, uint64(m.RetryCount))
	e.unknown(m)
}

func (e *encoder) stringMap(num protowire.Number, m map[string]string) {
	if len(m) == 0 {
		return
	}
	for _, k := range sortedKeys(m) {
		at := e.begin(num)
		e.str(1, k, true)
		e.str(2, m[k], true)
		e.end(at)
	}
}

func (e *encoder) errorMessage(m *pb.Error) {
	if m == nil {
		return
	}
	e.header(m.Header)
	e.str(2, m.ErrorCode, false)
	e.str(3, m.Message, false)
	e.str(4, m.StackTrace, false)
	e.stringMap(5, m.Context)
	e.uint(6, uint64(m.Severity))
	e.str(7, m.ExceptionType, false)
	for _, s := range m.Suggestions {
		e.str(8, s, true)
	}
	e.unknown(m)
}

func (e *encoder) metrics(m *pb.Metrics) {
	if m == nil {
		return
	}
	e.header(m.Header)
	e.str(2, m.Scope, false)
	e.str(3, m.ScopeId, false)
	if len(m.Metrics) > 0 {
		for _, k := range sortedKeys(m.Metrics) {
			at := e.begin(4)
			e.str(1, k, true)
			v := e.begin(2)
			if mv := m.Metrics[k]; mv != nil {
				e.metricValue(mv)
			}
			e.end(v)
			e.end(at)
		}
	}
	e.stringMap(5, m.Tags)
	e.unknown(m)
}

// metricValue writes the oneof after the other fields: protobuf-go writes
// oneofs last, "to preserve compatibility with historic wire output".
func (e *encoder) metricValue(m *pb.MetricValue) {
	e.str(6, m.Unit, false)
	e.uint(7, uint64(m.Type))
	x := m.Value
	if isNilWrapper(x) {
		x = nil
	}
	switch v := x.(type) {
	case *pb.MetricValue_IntValue:
		e.tag(1, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, uint64(v.IntValue))
	case *pb.MetricValue_FloatValue:
		e.tag(2, protowire.Fixed64Type)
		e.b = protowire.AppendFixed64(e.b, math.Float64bits(v.FloatValue))
	case *pb.MetricValue_StringValue:
		e.str(3, v.StringValue, true)
	case *pb.MetricValue_BoolValue:
		e.tag(4, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, protowire.EncodeBool(v.BoolValue))
	case *pb.MetricValue_BytesValue:
		e.tag(5, protowire.BytesType)
		e.b = protowire.AppendBytes(e.b, v.BytesValue)
	}
	e.unknown(m)
}

// isNilWrapper reports whether a oneof holds a nil pointer of a member's
// wrapper type.
func isNilWrapper(x any) bool {
	switch v := x.(type) {
	case *pb.DashStreamMessage_Event:
		return v == nil
	case *pb.DashStreamMessage_StateDiff:
		return v == nil
	case *pb.DashStreamMessage_TokenChunk:
		return v == nil
	case *pb.DashStreamMessage_ToolExecution:
		return v == nil
	case *pb.DashStreamMessage_Checkpoint:
		return v == nil
	case *pb.DashStreamMessage_Metrics:
		return v == nil
	case *pb.DashStreamMessage_Error:
		return v == nil
	case *pb.DashStreamMessage_EventBatch:
		return v == nil
	case *pb.DashStreamMessage_ExecutionTrace:
		return v == nil
	case *pb.AttributeValue_StringValue:
		return v == nil
	case *pb.AttributeValue_IntValue:
		return v == nil
	case *pb.AttributeValue_FloatValue:
		return v == nil
	case *pb.AttributeValue_BoolValue:
		return v == nil
	case *pb.AttributeValue_BytesValue:
		return v == nil
	case *pb.AttributeValue_ArrayValue:
		return v == nil
	case *pb.AttributeValue_MapValue:
		return v == nil
	case *pb.MetricValue_IntValue:
		return v == nil
	case *pb.MetricValue_FloatValue:
		return v == nil
	case *pb.MetricValue_StringValue:
		return v == nil
	case *pb.MetricValue_BoolValue:
		return v == nil
	case *pb.MetricValue_BytesValue:
		return v == nil
	}
	return false
}

package pbwire

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/pb"
)

// One function per message of dashstream.proto that the hot variants
// reach. Each merges the wire data into m, as protobuf-go does for a
// message that appears more than once: scalars and oneof members are
// replaced by the last value, repeated fields and maps grow, nested
// messages merge. depth is what is left of the recursion limit.

// Unmarshal decodes a DashStreamMessage protobuf with exactly the result
// of proto.Unmarshal: the same message (proto.Equal), the same unknown
// fields, an error for the same inputs. Checkpoint and ExecutionTrace
// messages, which are rare, are decoded by proto.Unmarshal itself.
func Unmarshal(b []byte) (*pb.DashStreamMessage, error) {
	m, spare := alloc(b)
	var src source
	if len(b) <= sharedMax {
		src = source{str: string(b), end: cap(b)}
	}
	handled, err := dashStreamMessage(src, b, m, spare, recursionLimit)
	if err != nil {
		return nil, fmt.Errorf("pbwire: %w", err)
	}
	if !handled {
		m = new(pb.DashStreamMessage)
		if err := proto.Unmarshal(b, m); err != nil {
			return nil, fmt.Errorf("pbwire: proto.Unmarshal: %w", err)
		}
	}
	return m, nil
}

func tooDeep(msg string) error { return fmt.Errorf("%s: %w", msg, ErrTooDeep) }

// bundle is a message, its variant and the variant's header in one
// allocation, for the garbage collector's sake: fewer, larger objects.
type bundle[W, M any] struct {
	msg    pb.DashStreamMessage
	w      W
	m      M
	header pb.Header
}

// alloc returns the message to decode b into and, when b starts with a
// variant of the hot path (almost always: a producer writes nothing else),
// that variant already in place and a header for it. Setting the variant
// before decoding it is what decoding it first does anyway.
func alloc(b []byte) (*pb.DashStreamMessage, *pb.Header) {
	if len(b) == 0 {
		return new(pb.DashStreamMessage), nil
	}
	switch b[0] { // the first tag: variants are fields 1 to 9, length-delimited
	case 1<<3 | 2:
		x := &bundle[pb.DashStreamMessage_Event, pb.Event]{}
		x.w.Event, x.msg.Message = &x.m, &x.w
		return &x.msg, &x.header
	case 2<<3 | 2:
		x := &bundle[pb.DashStreamMessage_StateDiff, pb.StateDiff]{}
		x.w.StateDiff, x.msg.Message = &x.m, &x.w
		return &x.msg, &x.header
	case 3<<3 | 2:
		x := &bundle[pb.DashStreamMessage_TokenChunk, pb.TokenChunk]{}
		x.w.TokenChunk, x.msg.Message = &x.m, &x.w
		return &x.msg, &x.header
	case 4<<3 | 2:
		x := &bundle[pb.DashStreamMessage_ToolExecution, pb.ToolExecution]{}
		x.w.ToolExecution, x.msg.Message = &x.m, &x.w
		return &x.msg, &x.header
	case 6<<3 | 2:
		x := &bundle[pb.DashStreamMessage_Metrics, pb.Metrics]{}
		x.w.Metrics, x.msg.Message = &x.m, &x.w
		return &x.msg, &x.header
	}
	return new(pb.DashStreamMessage), nil
}

// dashStreamMessage returns handled false, without an error, at the first
// variant it leaves to proto.Unmarshal.
// spare, if not nil, is the header of the variant alloc put in place.
func dashStreamMessage(src source, b []byte, m *pb.DashStreamMessage, spare *pb.Header, depth int) (handled bool, err error) {
	if depth--; depth < 0 {
		return false, tooDeep("DashStreamMessage")
	}
	f := fields{b: b, src: src, msg: "DashStreamMessage"}
	for f.next() {
		if f.num == 5 || f.num == 9 { // Checkpoint, ExecutionTrace
			return false, nil
		}
		if f.num > 9 {
			f.skip()
			continue
		}
		v, ok := f.bytes()
		if !ok {
			continue
		}
		// A variant that follows one of another kind replaces it; one of
		// the same kind merges into it. spare belongs to the variant alloc
		// put in place: a new variant must not share (and merge into) it.
		switch f.num {
		case 1:
			w, ok := m.Message.(*pb.DashStreamMessage_Event)
			if !ok {
				w, spare = &pb.DashStreamMessage_Event{Event: new(pb.Event)}, nil
			}
			f.check(event(src, v, w.Event, spare, depth))
			m.Message = w
		case 2:
			w, ok := m.Message.(*pb.DashStreamMessage_StateDiff)
			if !ok {
				w, spare = &pb.DashStreamMessage_StateDiff{StateDiff: new(pb.StateDiff)}, nil
			}
			f.check(stateDiff(src, v, w.StateDiff, spare, depth))
			m.Message = w
		case 3:
			w, ok := m.Message.(*pb.DashStreamMessage_TokenChunk)
			if !ok {
				w, spare = &pb.DashStreamMessage_TokenChunk{TokenChunk: new(pb.TokenChunk)}, nil
			}
			f.check(tokenChunk(src, v, w.TokenChunk, spare, depth))
			m.Message = w
		case 4:
			w, ok := m.Message.(*pb.DashStreamMessage_ToolExecution)
			if !ok {
				w, spare = &pb.DashStreamMessage_ToolExecution{ToolExecution: new(pb.ToolExecution)}, nil
			}
			f.check(toolExecution(src, v, w.ToolExecution, spare, depth))
			m.Message = w
		case 6:
			w, ok := m.Message.(*pb.DashStreamMessage_Metrics)
			if !ok {
				w, spare = &pb.DashStreamMessage_Metrics{Metrics: new(pb.Metrics)}, nil
			}
			f.check(metrics(src, v, w.Metrics, spare, depth))
			m.Message = w
		case 7:
			w, ok := m.Message.(*pb.DashStreamMessage_Error)
			if !ok {
				w = &pb.DashStreamMessage_Error{Error: new(pb.Error)}
			}
			f.check(errorMessage(src, v, w.Error, depth))
			m.Message = w
		case 8:
			w, ok := m.Message.(*pb.DashStreamMessage_EventBatch)
			if !ok {
				w = &pb.DashStreamMessage_EventBatch{EventBatch: new(pb.EventBatch)}
			}
			f.check(eventBatch(src, v, w.EventBatch, depth))
			m.Message = w
		}
	}
	return true, f.end(m)
}

// header merges into *h; on first use, *h becomes spare or, if nil, a new
// Header.
func header(f *fields, h **pb.Header, spare *pb.Header, depth int) {
	v, ok := f.bytes()
	if !ok {
		return
	}
	if *h == nil {
		if spare == nil {
			spare = new(pb.Header)
		}
		*h = spare
	}
	f.check(headerFields(f.src, v, *h, depth))
}

func headerFields(src source, b []byte, m *pb.Header, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("Header")
	}
	f := fields{b: b, src: src, msg: "Header"}
	for f.next() {
		switch f.num {
		case 1:
			f.setBytes(&m.MessageId)
		case 2:
			f.setInt64(&m.TimestampUs)
		case 3:
			f.setStr(&m.TenantId)
		case 4:
			f.setStr(&m.ThreadId)
		case 5:
			f.setUint64(&m.Sequence)
		case 6:
			setEnum(&f, &m.Type)
		case 7:
			f.setBytes(&m.ParentId)
		case 8:
			setEnum(&f, &m.Compression)
		case 9:
			f.setUint32(&m.SchemaVersion)
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func event(src source, b []byte, m *pb.Event, spare *pb.Header, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("Event")
	}
	f := fields{b: b, src: src, msg: "Event"}
	for f.next() {
		switch f.num {
		case 1:
			header(&f, &m.Header, spare, depth)
		case 2:
			setEnum(&f, &m.EventType)
		case 3:
			f.setStr(&m.NodeId)
		case 4:
			if v, ok := f.entryBytes(depth); ok {
				if m.Attributes == nil {
					m.Attributes = map[string]*pb.AttributeValue{}
				}
				f.check(messageEntry(src, v, m.Attributes, depth-1, "attribute entry", attributeValue))
			}
		case 5:
			f.setInt64(&m.DurationUs)
		case 6:
			f.setStr(&m.LlmRequestId)
		default:
			f.skip()
		}
	}
	return f.end(m)
}

// messageEntry reads a map<string, M> entry into into: a missing key is
// "", a missing value an empty M; an entry replaces any earlier one of its
// key. value merges wire data into an M (attributeValue, metricValue).
func messageEntry[M any](src source, b []byte, into map[string]*M, depth int, msg string, value func(source, []byte, *M, int) error) error {
	var key string
	val := new(M)
	e := fields{b: b, src: src, msg: msg, entry: true}
	for e.next() {
		switch e.num {
		case 1:
			e.setStr(&key)
		case 2:
			if v, ok := e.bytes(); ok {
				e.check(value(src, v, val, depth))
			}
		default:
			e.skip()
		}
	}
	if e.err != nil {
		return e.err
	}
	into[key] = val
	return nil
}

func attributeValue(src source, b []byte, m *pb.AttributeValue, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("AttributeValue")
	}
	f := fields{b: b, src: src, msg: "AttributeValue"}
	for f.next() {
		switch f.num {
		case 1:
			if s, ok := f.str(); ok {
				m.Value = &pb.AttributeValue_StringValue{StringValue: s}
			}
		case 2:
			if v, ok := f.varint(); ok {
				m.Value = &pb.AttributeValue_IntValue{IntValue: int64(v)}
			}
		case 3:
			if v, ok := f.fixed64(); ok {
				m.Value = &pb.AttributeValue_FloatValue{FloatValue: math.Float64frombits(v)}
			}
		case 4:
			if v, ok := f.varint(); ok {
				m.Value = &pb.AttributeValue_BoolValue{BoolValue: v != 0}
			}
		case 5:
			if v, ok := f.bytes(); ok {
				// A oneof's bytes are never nil once set, as in protobuf-go.
				m.Value = &pb.AttributeValue_BytesValue{BytesValue: append([]byte{}, v...)}
			}
		case 6:
			if v, ok := f.bytes(); ok {
				w, ok := m.Value.(*pb.AttributeValue_ArrayValue)
				if !ok {
					w = &pb.AttributeValue_ArrayValue{ArrayValue: new(pb.AttributeArray)}
				}
				f.check(attributeArray(src, v, w.ArrayValue, depth))
				m.Value = w
			}
		case 7:
			if v, ok := f.bytes(); ok {
				w, ok := m.Value.(*pb.AttributeValue_MapValue)
				if !ok {
					w = &pb.AttributeValue_MapValue{MapValue: new(pb.AttributeMap)}
				}
				f.check(attributeMap(src, v, w.MapValue, depth))
				m.Value = w
			}
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func attributeArray(src source, b []byte, m *pb.AttributeArray, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("AttributeArray")
	}
	f := fields{b: b, src: src, msg: "AttributeArray"}
	for f.next() {
		switch f.num {
		case 1:
			if v, ok := f.bytes(); ok {
				e := new(pb.AttributeValue)
				f.check(attributeValue(src, v, e, depth))
				m.Values = append(m.Values, e)
			}
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func attributeMap(src source, b []byte, m *pb.AttributeMap, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("AttributeMap")
	}
	f := fields{b: b, src: src, msg: "AttributeMap"}
	for f.next() {
		switch f.num {
		case 1:
			if v, ok := f.entryBytes(depth); ok {
				if m.Values == nil {
					m.Values = map[string]*pb.AttributeValue{}
				}
				f.check(messageEntry(src, v, m.Values, depth-1, "attribute entry", attributeValue))
			}
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func eventBatch(src source, b []byte, m *pb.EventBatch, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("EventBatch")
	}
	f := fields{b: b, src: src, msg: "EventBatch"}
	for f.next() {
		switch f.num {
		case 1:
			header(&f, &m.Header, nil, depth)
		case 2:
			if v, ok := f.bytes(); ok {
				e := new(pb.Event)
				f.check(event(src, v, e, nil, depth))
				m.Events = append(m.Events, e)
			}
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func stateDiff(src source, b []byte, m *pb.StateDiff, spare *pb.Header, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("StateDiff")
	}
	f := fields{b: b, src: src, msg: "StateDiff"}
	for f.next() {
		switch f.num {
		case 1:
			header(&f, &m.Header, spare, depth)
		case 2:
			f.setBytes(&m.BaseCheckpointId)
		case 3:
			if v, ok := f.bytes(); ok {
				op := new(pb.DiffOperation)
				f.check(diffOperation(src, v, op, depth))
				m.Operations = append(m.Operations, op)
			}
		case 4:
			f.setBytes(&m.StateHash)
		case 5:
			f.setBytes(&m.FullState)
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func diffOperation(src source, b []byte, m *pb.DiffOperation, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("DiffOperation")
	}
	f := fields{b: b, src: src, msg: "DiffOperation"}
	for f.next() {
		switch f.num {
		case 1:
			setEnum(&f, &m.Op)
		case 2:
			f.setStr(&m.Path)
		case 3:
			f.setBytes(&m.Value)
		case 4:
			f.setStr(&m.From)
		case 5:
			setEnum(&f, &m.Encoding)
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func tokenChunk(src source, b []byte, m *pb.TokenChunk, spare *pb.Header, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("TokenChunk")
	}
	f := fields{b: b, src: src, msg: "TokenChunk"}
	for f.next() {
		switch f.num {
		case 1:
			header(&f, &m.Header, spare, depth)
		case 2:
			f.setStr(&m.RequestId)
		case 3:
			f.setStr(&m.Text)
		case 4:
			f.appendUint32s(&m.TokenIds)
		case 5:
			f.appendFloats(&m.Logprobs)
		case 6:
			f.setUint32(&m.ChunkIndex)
		case 7:
			f.setBool(&m.IsFinal)
		case 8:
			setEnum(&f, &m.FinishReason)
		case 9:
			f.setStr(&m.Model)
		case 10:
			if v, ok := f.bytes(); ok {
				if m.Stats == nil {
					m.Stats = new(pb.TokenStats)
				}
				f.check(tokenStats(src, v, m.Stats, depth))
			}
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func tokenStats(src source, b []byte, m *pb.TokenStats, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("TokenStats")
	}
	f := fields{b: b, src: src, msg: "TokenStats"}
	for f.next() {
		switch f.num {
		case 1:
			f.setUint32(&m.PromptTokens)
		case 2:
			f.setUint32(&m.CompletionTokens)
		case 3:
			f.setUint32(&m.TotalTokens)
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func toolExecution(src source, b []byte, m *pb.ToolExecution, spare *pb.Header, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("ToolExecution")
	}
	f := fields{b: b, src: src, msg: "ToolExecution"}
	for f.next() {
		switch f.num {
		case 1:
			header(&f, &m.Header, spare, depth)
		case 2:
			f.setStr(&m.CallId)
		case 3:
			f.setStr(&m.ToolName)
		case 4:
			setEnum(&f, &m.Stage)
		case 5:
			f.setBytes(&m.Arguments)
		case 6:
			f.setBytes(&m.Result)
		case 7:
			f.setStr(&m.Error)
		case 8:
			if v, ok := f.bytes(); ok {
				if m.ErrorDetails == nil {
					m.ErrorDetails = new(pb.Error)
				}
				f.check(errorMessage(src, v, m.ErrorDetails, depth))
			}
		case 9:
			f.setInt64(&m.DurationUs)
		case 10:
			f.setUint32(&m.RetryCount)
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func errorMessage(src source, b []byte, m *pb.Error, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("Error")
	}
	f := fields{b: b, src: src, msg: "Error"}
	for f.next() {
		switch f.num {
		case 1:
			header(&f, &m.Header, nil, depth)
		case 2:
			f.setStr(&m.ErrorCode)
		case 3:
			f.setStr(&m.Message)
		case 4:
			f.setStr(&m.StackTrace)
		case 5:
			if v, ok := f.entryBytes(depth); ok {
				k, s, err := stringEntry(src, v, "Error.context entry")
				if f.check(err); err == nil {
					if m.Context == nil {
						m.Context = map[string]string{}
					}
					m.Context[k] = s
				}
			}
		case 6:
			setEnum(&f, &m.Severity)
		case 7:
			f.setStr(&m.ExceptionType)
		case 8:
			if s, ok := f.str(); ok {
				m.Suggestions = append(m.Suggestions, s)
			}
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func metrics(src source, b []byte, m *pb.Metrics, spare *pb.Header, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("Metrics")
	}
	f := fields{b: b, src: src, msg: "Metrics"}
	for f.next() {
		switch f.num {
		case 1:
			header(&f, &m.Header, spare, depth)
		case 2:
			f.setStr(&m.Scope)
		case 3:
			f.setStr(&m.ScopeId)
		case 4:
			if v, ok := f.entryBytes(depth); ok {
				if m.Metrics == nil {
					m.Metrics = map[string]*pb.MetricValue{}
				}
				f.check(messageEntry(src, v, m.Metrics, depth-1, "metric entry", metricValue))
			}
		case 5:
			if v, ok := f.entryBytes(depth); ok {
				k, s, err := stringEntry(src, v, "Metrics.tags entry")
				if f.check(err); err == nil {
					if m.Tags == nil {
						m.Tags = map[string]string{}
					}
					m.Tags[k] = s
				}
			}
		default:
			f.skip()
		}
	}
	return f.end(m)
}

func metricValue(src source, b []byte, m *pb.MetricValue, depth int) error {
	if depth--; depth < 0 {
		return tooDeep("MetricValue")
	}
	f := fields{b: b, src: src, msg: "MetricValue"}
	for f.next() {
		switch f.num {
		case 1:
			if v, ok := f.varint(); ok {
				m.Value = &pb.MetricValue_IntValue{IntValue: int64(v)}
			}
		case 2:
			if v, ok := f.fixed64(); ok {
				m.Value = &pb.MetricValue_FloatValue{FloatValue: math.Float64frombits(v)}
			}
		case 3:
			if s, ok := f.str(); ok {
				m.Value = &pb.MetricValue_StringValue{StringValue: s}
			}
		case 4:
			if v, ok := f.varint(); ok {
				m.Value = &pb.MetricValue_BoolValue{BoolValue: v != 0}
			}
		case 5:
			if v, ok := f.bytes(); ok {
				m.Value = &pb.MetricValue_BytesValue{BytesValue: append([]byte{}, v...)}
			}
		case 6:
			f.setStr(&m.Unit)
		case 7:
			setEnum(&f, &m.Type)
		default:
			f.skip()
		}
	}
	return f.end(m)
}

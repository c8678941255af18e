// Package streamcheck reads DashStream records back as a consumer would and
// checks what a producer promises: per-thread sequences from 1 with no
// repeat (and no gap unless allowed), wire order equal to sequence order,
// one partition per thread, well-formed headers, every StateDiff applied to
// the previous state giving a state whose protocol/statehash equals the
// state_hash sent, a full state first and after every gap, checkpoints that
// parse and match their checksum, known base checkpoints, NODE_END linked to
// its NODE_START, and no forbidden text anywhere in any record.
//
// It is a test tool for the producer, the demo and end-to-end tests; it
// keeps every decoded message in memory.
package streamcheck

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// Options select what Check tolerates and looks for.
type Options struct {
	// AllowGaps accepts missing sequences (lost messages), as long as the
	// first StateDiff after a gap carries a full state.
	AllowGaps bool
	// Forbidden strings must not occur in any record value, neither in its
	// bytes nor in its decompressed protobuf (e.g. secrets that must have
	// been redacted).
	Forbidden []string
	// RequireEnd wants every thread to end with GRAPH_END or GRAPH_ERROR.
	RequireEnd bool
}

// Thread is what Check learned about one thread_id.
type Thread struct {
	ThreadID  string
	Partition int32
	// Messages are the decoded messages in offset order.
	Messages  []*pb.DashStreamMessage
	Sequences []uint64
	// Gaps are the missing sequence ranges [from, to].
	Gaps [][2]uint64
	// State is the state rebuilt from the StateDiffs.
	State *jsontree.Node
	// States are the states after each StateDiff, in order.
	States                           []*jsontree.Node
	FullStates, Patches, Checkpoints int
	// FullAfterGap counts gaps healed by a full state.
	FullAfterGap  int
	Ended, Failed bool
	GraphName     string
}

// Report is the result of Check.
type Report struct {
	Threads map[string]*Thread
	Records int
	// ZstdFramed counts values framed 0x01.
	ZstdFramed int
	// ByKind counts messages by oneof variant ("event", "state_diff", ...)
	// and events by type ("event:EVENT_TYPE_NODE_END", ...).
	ByKind map[string]int
	// Partitions are the partitions that held records.
	Partitions map[int32]int
	// Problems lists every violation found; empty means the stream is good.
	Problems []string
}

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < 200 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// Err returns the problems as one error, or nil.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return fmt.Errorf("%d problems:\n  %s", len(r.Problems), strings.Join(r.Problems, "\n  "))
}

type threadState struct {
	*Thread
	lastSeq     uint64
	pendingGap  bool
	sawDiff     bool
	checkpoints map[string]bool
	nodeStarts  map[string][]byte
	lastOffset  int64
}

// Check decodes records (in the order they were consumed, which must be
// offset order within each partition) and checks them.
func Check(records []*kgo.Record, opts Options) *Report {
	rep := &Report{Threads: map[string]*Thread{}, ByKind: map[string]int{}, Partitions: map[int32]int{}}
	dec := protocol.NewDecoder(protocol.Strict())
	threads := map[string]*threadState{}
	for _, rec := range records {
		rep.Records++
		rep.Partitions[rec.Partition]++
		where := fmt.Sprintf("p%d@%d", rec.Partition, rec.Offset)
		for _, f := range opts.Forbidden {
			if bytes.Contains(rec.Value, []byte(f)) {
				rep.problem("%s: value contains forbidden %q", where, f)
			}
		}
		raw, err := dec.Unframe(rec.Value)
		if err != nil {
			rep.problem("%s: unframe: %v", where, err)
			continue
		}
		for _, f := range opts.Forbidden {
			if bytes.Contains(raw, []byte(f)) {
				rep.problem("%s: protobuf contains forbidden %q", where, f)
			}
		}
		msg, err := dec.Decode(rec.Value)
		if err != nil {
			rep.problem("%s: decode: %v", where, err)
			continue
		}
		zstd := rec.Value[0] == protocol.FrameZstd
		if zstd {
			rep.ZstdFramed++
		}
		h, kind := headerOf(msg)
		rep.ByKind[kind]++
		if ev := msg.GetEvent(); ev != nil {
			rep.ByKind["event:"+ev.GetEventType().String()]++
		}
		if h == nil {
			rep.problem("%s: %s without header", where, kind)
			continue
		}
		checkHeader(rep, where, rec, h, msg, zstd)
		ts := threads[h.GetThreadId()]
		if ts == nil {
			ts = &threadState{
				Thread:      &Thread{ThreadID: h.GetThreadId(), Partition: rec.Partition},
				checkpoints: map[string]bool{}, nodeStarts: map[string][]byte{},
			}
			threads[h.GetThreadId()] = ts
			rep.Threads[h.GetThreadId()] = ts.Thread
		}
		if rec.Partition != ts.Partition {
			rep.problem("%s: thread %s on partition %d and %d", where, ts.ThreadID, ts.Partition, rec.Partition)
		}
		checkSequence(rep, where, ts, h.GetSequence(), opts.AllowGaps)
		ts.Messages = append(ts.Messages, msg)
		ts.Sequences = append(ts.Sequences, h.GetSequence())
		checkBody(rep, where, ts, msg)
	}
	for _, ts := range threads {
		if len(ts.Messages) > 0 {
			if ev := ts.Messages[0].GetEvent(); !opts.AllowGaps && (ev == nil || ev.GetEventType() != pb.EventType_EVENT_TYPE_GRAPH_START) {
				rep.problem("thread %s: first message is not GRAPH_START", ts.ThreadID)
			}
		}
		if opts.RequireEnd && !ts.Ended && !ts.Failed {
			rep.problem("thread %s: no GRAPH_END or GRAPH_ERROR", ts.ThreadID)
		}
	}
	return rep
}

func headerOf(msg *pb.DashStreamMessage) (*pb.Header, string) {
	switch m := msg.GetMessage().(type) {
	case *pb.DashStreamMessage_Event:
		return m.Event.GetHeader(), "event"
	case *pb.DashStreamMessage_StateDiff:
		return m.StateDiff.GetHeader(), "state_diff"
	case *pb.DashStreamMessage_TokenChunk:
		return m.TokenChunk.GetHeader(), "token_chunk"
	case *pb.DashStreamMessage_ToolExecution:
		return m.ToolExecution.GetHeader(), "tool_execution"
	case *pb.DashStreamMessage_Checkpoint:
		return m.Checkpoint.GetHeader(), "checkpoint"
	case *pb.DashStreamMessage_Metrics:
		return m.Metrics.GetHeader(), "metrics"
	case *pb.DashStreamMessage_Error:
		return m.Error.GetHeader(), "error"
	case *pb.DashStreamMessage_EventBatch:
		return m.EventBatch.GetHeader(), "event_batch"
	case *pb.DashStreamMessage_ExecutionTrace:
		return m.ExecutionTrace.GetHeader(), "execution_trace"
	}
	return nil, "empty"
}

var wantType = map[string]pb.MessageType{
	"event": pb.MessageType_MESSAGE_TYPE_EVENT, "state_diff": pb.MessageType_MESSAGE_TYPE_STATE_DIFF,
	"token_chunk": pb.MessageType_MESSAGE_TYPE_TOKEN_CHUNK, "tool_execution": pb.MessageType_MESSAGE_TYPE_TOOL_EXECUTION,
	"checkpoint": pb.MessageType_MESSAGE_TYPE_CHECKPOINT, "metrics": pb.MessageType_MESSAGE_TYPE_METRICS,
	"error": pb.MessageType_MESSAGE_TYPE_ERROR,
}

func checkHeader(rep *Report, where string, rec *kgo.Record, h *pb.Header, msg *pb.DashStreamMessage, zstd bool) {
	_, kind := headerOf(msg)
	if len(h.GetMessageId()) != 16 {
		rep.problem("%s: message_id of %d bytes", where, len(h.GetMessageId()))
	} else if h.GetMessageId()[6]>>4 != 4 {
		rep.problem("%s: message_id is not a UUIDv4", where)
	}
	if h.GetTimestampUs() <= 0 {
		rep.problem("%s: timestamp_us %d", where, h.GetTimestampUs())
	}
	if h.GetTenantId() == "" || h.GetThreadId() == "" {
		rep.problem("%s: empty tenant_id or thread_id", where)
	}
	if string(rec.Key) != h.GetThreadId() {
		rep.problem("%s: key %q is not thread_id %q", where, rec.Key, h.GetThreadId())
	}
	if h.GetSequence() == 0 {
		rep.problem("%s: sequence 0", where)
	}
	if t, ok := wantType[kind]; ok && h.GetType() != t {
		rep.problem("%s: header type %v for a %s", where, h.GetType(), kind)
	}
	if h.GetSchemaVersion() != protocol.SchemaVersion {
		rep.problem("%s: schema_version %d", where, h.GetSchemaVersion())
	}
	if want := zstd; (h.GetCompression() == pb.CompressionType_COMPRESSION_ZSTD) != want {
		rep.problem("%s: header compression %v with framing zstd=%v", where, h.GetCompression(), zstd)
	}
}

func checkSequence(rep *Report, where string, ts *threadState, seq uint64, allowGaps bool) {
	switch {
	case seq <= ts.lastSeq:
		rep.problem("%s: thread %s sequence %d after %d (repeat or reorder)", where, ts.ThreadID, seq, ts.lastSeq)
		return
	case seq != ts.lastSeq+1:
		ts.Gaps = append(ts.Gaps, [2]uint64{ts.lastSeq + 1, seq - 1})
		ts.pendingGap = true
		if !allowGaps {
			rep.problem("%s: thread %s sequence %d after %d (gap)", where, ts.ThreadID, seq, ts.lastSeq)
		}
	}
	ts.lastSeq = seq
}

func checkBody(rep *Report, where string, ts *threadState, msg *pb.DashStreamMessage) {
	switch m := msg.GetMessage().(type) {
	case *pb.DashStreamMessage_StateDiff:
		checkDiff(rep, where, ts, m.StateDiff)
	case *pb.DashStreamMessage_Checkpoint:
		cp := m.Checkpoint
		ts.Checkpoints++
		if cp.GetCompressionInfo() != nil {
			rep.problem("%s: checkpoint with compression_info", where)
		}
		if sum := sha256.Sum256(cp.GetState()); !bytes.Equal(sum[:], cp.GetChecksum()) {
			rep.problem("%s: checkpoint checksum does not match its state", where)
		}
		if _, err := jsontree.Parse(cp.GetState()); err != nil {
			rep.problem("%s: checkpoint state is not JSON: %v", where, err)
		}
		if len(cp.GetCheckpointId()) != 16 {
			rep.problem("%s: checkpoint_id of %d bytes", where, len(cp.GetCheckpointId()))
		}
		ts.checkpoints[string(cp.GetCheckpointId())] = true
	case *pb.DashStreamMessage_Event:
		ev := m.Event
		switch ev.GetEventType() {
		case pb.EventType_EVENT_TYPE_GRAPH_START:
			ts.GraphName = ev.GetAttributes()["graph_name"].GetStringValue()
		case pb.EventType_EVENT_TYPE_NODE_START:
			ts.nodeStarts[ev.GetNodeId()] = ev.GetHeader().GetMessageId()
		case pb.EventType_EVENT_TYPE_NODE_END:
			if _, ok := ev.GetAttributes()["duration_us"]; !ok {
				rep.problem("%s: NODE_END without a duration_us attribute", where)
			}
			if ev.GetAttributes()["duration_us"].GetIntValue() != ev.GetDurationUs() {
				rep.problem("%s: NODE_END duration_us attribute differs from the field", where)
			}
			if start, ok := ts.nodeStarts[ev.GetNodeId()]; ok && !bytes.Equal(start, ev.GetHeader().GetParentId()) {
				rep.problem("%s: NODE_END %s parent_id is not its NODE_START", where, ev.GetNodeId())
			}
			delete(ts.nodeStarts, ev.GetNodeId())
		case pb.EventType_EVENT_TYPE_NODE_ERROR:
			if start, ok := ts.nodeStarts[ev.GetNodeId()]; ok && !bytes.Equal(start, ev.GetHeader().GetParentId()) {
				rep.problem("%s: NODE_ERROR %s parent_id is not its NODE_START", where, ev.GetNodeId())
			}
			delete(ts.nodeStarts, ev.GetNodeId())
		case pb.EventType_EVENT_TYPE_EDGE_TRAVERSAL, pb.EventType_EVENT_TYPE_CONDITIONAL_BRANCH:
			if ev.GetAttributes()["to"].GetStringValue() == "" {
				rep.problem("%s: %v without a to attribute", where, ev.GetEventType())
			}
		case pb.EventType_EVENT_TYPE_GRAPH_END:
			ts.Ended = true
		case pb.EventType_EVENT_TYPE_GRAPH_ERROR:
			ts.Failed = true
			if ev.GetAttributes()["error"].GetStringValue() == "" {
				rep.problem("%s: GRAPH_ERROR without an error attribute", where)
			}
		}
	}
}

func checkDiff(rep *Report, where string, ts *threadState, sd *pb.StateDiff) {
	if base := sd.GetBaseCheckpointId(); len(base) > 0 && !ts.checkpoints[string(base)] {
		rep.problem("%s: base_checkpoint_id names no checkpoint of the thread", where)
	}
	full := len(sd.GetFullState()) > 0
	if !ts.sawDiff && !full {
		rep.problem("%s: thread %s first state update is not a full state", where, ts.ThreadID)
	}
	if ts.pendingGap {
		if !full {
			rep.problem("%s: thread %s state update after a gap is not a full state", where, ts.ThreadID)
		} else {
			ts.FullAfterGap++
		}
	}
	ts.sawDiff = true
	ts.pendingGap = false
	var next *jsontree.Node
	var err error
	if full {
		ts.FullStates++
		if len(sd.GetOperations()) > 0 {
			rep.problem("%s: full state with operations", where)
		}
		next, err = jsontree.Parse(sd.GetFullState())
		if err != nil {
			rep.problem("%s: full_state is not JSON: %v", where, err)
			ts.State = nil
			return
		}
	} else {
		ts.Patches++
		if ts.State == nil {
			rep.problem("%s: patch without a state to apply it to", where)
			return
		}
		p, err := jsonpatch.FromDiffOperations(sd.GetOperations())
		if err != nil {
			rep.problem("%s: operations: %v", where, err)
			ts.State = nil
			return
		}
		if next, err = p.Apply(ts.State); err != nil {
			rep.problem("%s: patch does not apply: %v", where, err)
			ts.State = nil
			return
		}
	}
	if len(sd.GetStateHash()) != statehash.Size {
		rep.problem("%s: state_hash of %d bytes", where, len(sd.GetStateHash()))
	} else if sum := statehash.SumTree(next); !bytes.Equal(sum[:], sd.GetStateHash()) {
		rep.problem("%s: thread %s state hash mismatch after %s", where, ts.ThreadID, map[bool]string{true: "full state", false: "patch"}[full])
	}
	ts.State = next
	ts.States = append(ts.States, next)
}

package runstate

import (
	"github.com/dashstream/dashstream/protocol/pb"
)

// item is one message to route: a top-level message, or one inner event of
// an EventBatch (which carries its own header).
type item struct {
	kind   Kind
	thread string
	tenant string
	seq    uint64
	id     string // message_id bytes (bounded)
	ts     int64  // producer microseconds
	msg    *pb.DashStreamMessage
	ev     *pb.Event // the event of a KindEvent item
	meta   Meta
}

// maxMessageIDBytes bounds a kept message_id (UUIDs are 16 bytes).
const maxMessageIDBytes = 64

// expand appends msg's items to dst: one per message, one per inner event
// of an EventBatch.
func expand(dst []item, msg *pb.DashStreamMessage, meta Meta) []item {
	if msg == nil {
		return dst
	}
	var hdr *pb.Header
	it := item{msg: msg, meta: meta}
	switch m := msg.GetMessage().(type) {
	case *pb.DashStreamMessage_Event:
		it.kind, it.ev, hdr = KindEvent, m.Event, m.Event.GetHeader()
	case *pb.DashStreamMessage_StateDiff:
		it.kind, hdr = KindStateDiff, m.StateDiff.GetHeader()
	case *pb.DashStreamMessage_TokenChunk:
		it.kind, hdr = KindTokenChunk, m.TokenChunk.GetHeader()
	case *pb.DashStreamMessage_ToolExecution:
		it.kind, hdr = KindToolExecution, m.ToolExecution.GetHeader()
	case *pb.DashStreamMessage_Checkpoint:
		it.kind, hdr = KindCheckpoint, m.Checkpoint.GetHeader()
	case *pb.DashStreamMessage_Metrics:
		it.kind, hdr = KindMetrics, m.Metrics.GetHeader()
	case *pb.DashStreamMessage_Error:
		it.kind, hdr = KindError, m.Error.GetHeader()
	case *pb.DashStreamMessage_ExecutionTrace:
		it.kind, hdr = KindExecutionTrace, m.ExecutionTrace.GetHeader()
		it.fill(hdr)
		if it.thread == "" {
			it.thread = m.ExecutionTrace.GetThreadId() // upstream's fallback
		}
		return append(dst, it)
	case *pb.DashStreamMessage_EventBatch:
		batch := m.EventBatch.GetHeader()
		for _, ev := range m.EventBatch.GetEvents() {
			if ev == nil {
				continue
			}
			inner := item{kind: KindEvent, ev: ev, msg: msg, meta: meta}
			inner.fill(ev.GetHeader())
			// The inner header decides; the batch's fills what it lacks.
			if inner.thread == "" {
				inner.thread = batch.GetThreadId()
			}
			if inner.tenant == "" {
				inner.tenant = batch.GetTenantId()
			}
			if inner.ts == 0 {
				inner.ts = batch.GetTimestampUs()
			}
			dst = append(dst, inner)
		}
		return dst
	default:
		return append(dst, item{kind: KindUnknown, msg: msg, meta: meta})
	}
	it.fill(hdr)
	return append(dst, it)
}

func (it *item) fill(h *pb.Header) {
	it.thread = h.GetThreadId()
	it.tenant = h.GetTenantId()
	it.seq = h.GetSequence()
	it.ts = max(h.GetTimestampUs(), 0)
	if id := h.GetMessageId(); len(id) > 0 && !allZero(id) {
		it.id = string(id[:min(len(id), maxMessageIDBytes)])
	}
}

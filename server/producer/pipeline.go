package producer

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/pbwire"
)

// Run is one graph execution: one thread_id, one sequence space, one ordered
// pipeline to Kafka. Its methods are safe to call from any goroutine; each
// takes the run's lock for the whole of "next sequence, build, size check,
// hand to Kafka", so the order messages reach Kafka is the order of their
// sequences. None of them blocks on Kafka. After End or Fail, calls do
// nothing.
type Run struct {
	p        *Producer
	threadID string
	tenantID string
	key      []byte
	started  time.Time

	mu    sync.Mutex
	seq   uint64
	ended bool
	// nodeStarts maps a running node to its NodeStart message_id, the
	// parent_id of its NodeEnd or NodeError.
	nodeStarts map[string][]byte
	st         stateTracker

	// ids makes message_ids: ChaCha8 (a cryptographic generator) seeded
	// from crypto/rand, so a UUID costs no system call.
	ids *rand.ChaCha8

	// Set from the Kafka client's promise goroutine.
	asyncLoss atomic.Bool
	base      atomic.Pointer[[]byte] // the acknowledged checkpoint id
}

// ThreadID returns the run's thread_id, also its Kafka key.
func (r *Run) ThreadID() string { return r.threadID }

// TenantID returns the run's tenant_id.
func (r *Run) TenantID() string { return r.tenantID }

// LastSequence returns the sequence of the run's latest message, 0 before the
// first. Dropped messages used theirs up too.
func (r *Run) LastSequence() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

// noteAsyncLoss marks that a message of the run failed after it was handed
// to Kafka: the next state update is a full state.
func (r *Run) noteAsyncLoss() { r.asyncLoss.Store(true) }

// adoptCheckpoint makes an acknowledged checkpoint the base of later diffs.
func (r *Run) adoptCheckpoint(id []byte) { r.base.Store(&id) }

// header returns the next header of the run: a fresh UUIDv4 message_id, the
// wall clock, and the next sequence, used up whatever happens to the message.
// Callers hold r.mu.
func (r *Run) header(t pb.MessageType) *pb.Header {
	r.seq++
	id := r.newUUID()
	ts := time.Now().UnixMicro()
	if ts < 0 {
		ts = 0
	}
	return &pb.Header{
		MessageId:     id,
		TimestampUs:   ts,
		TenantId:      r.tenantID,
		ThreadId:      r.threadID,
		Sequence:      r.seq,
		Type:          t,
		SchemaVersion: protocol.SchemaVersion,
	}
}

// newUUID returns a random (version 4, RFC 9562 variant) UUID. Callers hold
// r.mu.
func (r *Run) newUUID() []byte {
	if r.ids == nil {
		var seed [32]byte
		_, _ = crand.Read(seed[:]) // never fails (crypto/rand panics instead)
		r.ids = rand.NewChaCha8(seed)
	}
	id := make([]byte, 16)
	_, _ = r.ids.Read(id)
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// budget is the largest encoded protobuf a message of this run may have, so
// that its record, in a batch of its own, fits MaxMessageBytes.
func (r *Run) budget() int {
	return r.p.cfg.MaxMessageBytes - recordOverhead - len(r.key) - 1
}

func (r *Run) fits(msg *pb.DashStreamMessage) bool { return pbwire.Size(msg) <= r.budget() }

// sendLocked encodes a message whose header came from r.header and hands it
// to Kafka. It reports whether the message was handed over; when it was not
// (closed producer, over budget, full queue), the drop is counted and the
// run's next state update becomes a full state. Callers hold r.mu.
func (r *Run) sendLocked(msg *pb.DashStreamMessage, msgType string, checkpointID []byte) bool {
	reason := ""
	size := 0
	switch {
	case r.p.closed.Load():
		reason = dropClosed
	default:
		if size = pbwire.Size(msg); size > r.budget() {
			reason = dropOversized
		}
	}
	if reason == "" {
		value, err := encode(msg, size)
		switch {
		case errors.Is(err, protocol.ErrTooLarge):
			reason = dropOversized // over the protocol's own 10 MiB limit
		case err != nil:
			reason = dropInvalid
			if ok, _ := r.p.sink.failLog.allow(); ok {
				r.p.log.Error("telemetry message not encodable", "thread_id", r.threadID, "message_type", msgType, "err", err)
			}
		default:
			reason = r.p.sink.send(r.key, value, delivery{run: r, msgType: msgType, checkpointID: checkpointID})
		}
	}
	if reason != "" {
		r.p.m.drop(msgType, reason)
		r.p.sink.noteDrop(msgType, reason)
		r.st.lost = true
		return false
	}
	return true
}

// encode frames msg as protocol.Encode does. A message at most
// protocol.CompressionThreshold bytes long, which Encode would frame raw, is
// marshalled once into its framed buffer of the size pbwire.Size just gave
// (most messages are such small events); larger ones, which the run built
// and nobody else holds, go through protocol.EncodeOwned, which compresses
// without copying them first.
func encode(msg *pb.DashStreamMessage, size int) ([]byte, error) {
	if size > protocol.CompressionThreshold {
		return protocol.EncodeOwned(msg)
	}
	buf, err := pbwire.Marshal(append(make([]byte, 0, 1+size), protocol.FrameRaw), msg)
	if err != nil {
		return nil, fmt.Errorf("producer: encode: %w", err)
	}
	return buf, nil
}

// event builds and sends an Event. Callers hold r.mu.
func (r *Run) eventLocked(t pb.EventType, node string, attrs map[string]*pb.AttributeValue, durationUs int64, parent []byte) (messageID []byte, ok bool) {
	h := r.header(pb.MessageType_MESSAGE_TYPE_EVENT)
	h.ParentId = parent
	ev := &pb.Event{Header: h, EventType: t, NodeId: node, Attributes: attrs, DurationUs: durationUs}
	ok = r.sendLocked(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: ev}}, typeEvent, nil)
	return h.MessageId, ok
}

// emit runs f under the run's lock unless the run has ended.
func (r *Run) emit(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	f()
}

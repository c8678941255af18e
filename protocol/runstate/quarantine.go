package runstate

import (
	"time"

	"github.com/dashstream/dashstream/protocol/pb"
	"google.golang.org/protobuf/proto"
)

// UnboundMessage summarises a message that named no thread_id. Such
// telemetry is never merged into a run (there is no run to merge it into);
// the list keeps it visible.
type UnboundMessage struct {
	Kind      Kind
	Type      pb.EventType // for events
	Seq       uint64
	MessageID string // hex, at most 64 characters
	Partition int32
	Offset    int64
	Received  time.Time
	Timestamp int64
	Reason    string
	// AttrKeys lists up to 20 non-sensitive attribute keys, sorted.
	AttrKeys string
	// Size is the message's encoded size in bytes.
	Size int
}

func (s *Store) quarantine(it *item) {
	u := UnboundMessage{
		Kind:      it.kind,
		Seq:       it.seq,
		MessageID: hexID([]byte(it.id)),
		Partition: it.meta.Partition,
		Offset:    it.meta.Offset,
		Received:  it.meta.Received,
		Timestamp: it.ts,
		Reason:    "missing thread_id: unbound telemetry",
	}
	if it.ev != nil {
		u.Type = it.ev.GetEventType()
		u.AttrKeys = listKeys(it.ev.GetAttributes())
		u.Size = proto.Size(it.ev)
	} else if it.msg != nil {
		u.Size = proto.Size(it.msg)
	}
	s.unbound = appendBounded(s.unbound, u, s.cfg.MaxQuarantine)
	s.stats.Unbound++
}

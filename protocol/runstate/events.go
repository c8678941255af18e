package runstate

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/dashstream/dashstream/protocol/pb"
)

// Event is one entry of a run's event log: every message of every type
// (U13), with a bounded summary of its content.
type Event struct {
	// Seq is the message's sequence; 0 for an unsequenced message.
	Seq uint64
	// Order places the event in the log: Seq for a sequenced message; for an
	// unsequenced or colliding one, the thread's last processed sequence when
	// it arrived. The log is sorted by Order.
	Order uint64
	Kind  Kind
	// Type is the event type of a KindEvent message.
	Type pb.EventType
	// NodeID is the event's node, or the token chunk's/tool's/metric's
	// scope when it names one.
	NodeID string
	// MessageID holds the header's message_id bytes (at most 64).
	MessageID string
	// Timestamp is the producer's header timestamp in microseconds since
	// the epoch (0 when absent); Received is the local arrival time in
	// nanoseconds since the epoch.
	Timestamp int64
	Received  int64
	// Partition and Offset locate the Kafka record (Offset -1: unknown).
	Partition int32
	Offset    int64
	// DurationUs is the duration the message reports (Event.duration_us,
	// a NODE_END's resolved duration, a tool's duration), -1 when none.
	DurationUs int64
	// Detail is an error text (NODE_ERROR, GRAPH_ERROR, Error, failed
	// tool), bounded by Config.MaxErrorChars.
	Detail string
	// Summary lists the message's content as bounded key/value pairs, keys
	// sorted within each message type's own fields.
	Summary []Field
	// Changed lists the state paths a state change touched (at most 16;
	// "" is the whole state).
	Changed []string
	// Note says what happened to the message's state effect, if it had one:
	// "applied", "verified", "hash mismatch", "not applied: …", "sequence
	// collision", ….
	Note string
}

// Field is one bounded key/value pair of an event summary.
type Field struct {
	Key, Value string
}

// Name returns the event's type for display: "node_start" for an Event
// message, else the message kind ("state_diff", ...).
func (e *Event) Name() string {
	if e.Kind == KindEvent {
		return eventTypeName(e.Type)
	}
	return e.Kind.String()
}

// MessageIDHex returns the message_id in hex.
func (e *Event) MessageIDHex() string { return hex.EncodeToString([]byte(e.MessageID)) }

// Time returns the producer's timestamp, or the zero time.
func (e *Event) Time() time.Time { return microsToTime(e.Timestamp) }

// ReceivedAt returns the local arrival time.
func (e *Event) ReceivedAt() time.Time { return time.Unix(0, e.Received) }

// Get returns the summary value for key.
func (e *Event) Get(key string) (string, bool) {
	for _, f := range e.Summary {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

func microsToTime(us int64) time.Time {
	if us <= 0 {
		return time.Time{}
	}
	return time.UnixMicro(us)
}

func eventTypeName(t pb.EventType) string {
	name := t.String()
	if rest, ok := strings.CutPrefix(name, "EVENT_TYPE_"); ok {
		return strings.ToLower(rest)
	}
	return "event_type_" + name // an enum value this schema does not know
}

// maxChangedPaths bounds Event.Changed.
const maxChangedPaths = 16

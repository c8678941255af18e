package runstate

import "time"

// Meta is what the caller knows about a message besides its content.
type Meta struct {
	// Partition and Offset locate the Kafka record; Offset < 0 means unknown.
	Partition int32
	Offset    int64
	// Received is the local time the message arrived. It is the only clock
	// the Store reads: reorder ages, arrival times and eviction order all
	// come from it, so tests are deterministic.
	Received time.Time
}

// Disposition says what Apply did with one message (or one inner event of an
// EventBatch).
type Disposition uint8

// The dispositions.
const (
	// Applied: processed now (recorded, and its effects on the run made).
	Applied Disposition = iota
	// Duplicate: already processed or already waiting; nothing changed.
	Duplicate
	// Stale: older than its thread's last processed sequence but never seen
	// (it fell in a declared hole, or predates the thread's baseline);
	// nothing changed.
	Stale
	// Buffered: ahead of its turn; waiting in the thread's reorder window.
	Buffered
	// Collision: a different message (another message_id) with a sequence
	// already used by its thread. It is recorded as an event only and never
	// touches state (the upstream producer had colliding counters).
	Collision
	// Unbound: no thread_id; kept in the bounded quarantine list, never in a
	// run.
	Unbound
	// Invalid: no message body at all (nil, or no oneof member set).
	Invalid
)

var dispositionNames = [...]string{"applied", "duplicate", "stale", "buffered", "collision", "unbound", "invalid"}

// String returns the disposition's name ("applied", ...).
func (d Disposition) String() string {
	if int(d) < len(dispositionNames) {
		return dispositionNames[d]
	}
	return "invalid"
}

// Outcome is the result of Apply, Tick and the marking methods.
type Outcome struct {
	// Disposition is the message's own disposition. For an EventBatch it is
	// Buffered if any inner event is waiting, else Applied if any was
	// applied, else the disposition of its first inner event.
	Disposition Disposition
	// Counts holds how many messages (inner events count one each) ended in
	// each disposition during this call, including messages released from a
	// reorder window by it.
	Counts [Invalid + 1]int
	// Changed lists the threads whose runs changed, each once, in the order
	// they first changed. Runs evicted by this call are not listed.
	Changed []string
	// Evicted lists threads whose runs were evicted to make room.
	Evicted []string
}

// Committable reports whether the message is fully processed: nothing of it
// waits in a reorder window. A caller commits the message's Kafka offset only
// when this is true, and never at or above Store.PendingFloor for the
// partition.
func (o Outcome) Committable() bool { return o.Disposition != Buffered }

// Kind is the type of a DashStream message body.
type Kind uint8

// The message kinds (an EventBatch is expanded into KindEvent messages).
const (
	KindUnknown Kind = iota
	KindEvent
	KindStateDiff
	KindTokenChunk
	KindToolExecution
	KindCheckpoint
	KindMetrics
	KindError
	KindExecutionTrace
	KindEventBatch
)

var kindNames = [...]string{"unknown", "event", "state_diff", "token_chunk", "tool_execution", "checkpoint", "metrics", "error", "execution_trace", "event_batch"}

// String returns the kind's wire name ("state_diff", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

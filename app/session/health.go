package session

import "time"

// State is the connection state the status bar shows.
type State uint8

// The connection states. Stalled means the socket is open but no frame has
// arrived for a while although the server reports traffic (M-1030).
const (
	Connecting State = iota
	Connected
	Replaying
	Reconnecting
	Stalled
)

// String names the state as the dashboard shows it.
func (s State) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	case Replaying:
		return "replaying"
	case Reconnecting:
		return "reconnecting"
	case Stalled:
		return "stalled"
	}
	return "unknown"
}

// Health is a snapshot of the session that views show and the debug object
// exposes. It is a value: changing it changes nothing in the session.
type Health struct {
	State State
	// Since is when State was entered.
	Since time.Time
	// Epoch counts connections; it grows by one per (re)connection.
	Epoch uint64
	// Attempt is the number of failed connection attempts since the last
	// success, NextRetry when the next one starts, LastError why the last
	// one ended (empty after a clean connection).
	Attempt   int
	NextRetry time.Time
	LastError string
	// Unreachable: the last attempt could not reach the server at all
	// (its /version or the WebSocket handshake failed), as opposed to a
	// connection that was made and then ended.
	Unreachable bool

	// From the server's /version.
	ServerVersion string
	Namespace     string
	SchemaVersion uint32
	// SchemaMismatch is a sentence when the server's schema version differs
	// from the one this dashboard was built for.
	SchemaMismatch string

	// LastFrame is when the last WebSocket frame arrived.
	LastFrame time.Time
	// Frames counts binary frames received; Applied, messages applied to
	// the run store; HashesVerified, state hashes checked and matching;
	// CursorsCommitted, cursor commits to the cursor store.
	Frames, Applied, HashesVerified, CursorsCommitted uint64
	// DecodeErrors counts frames that failed to decode, by class
	// (protocol.ErrorClass, plus "timeout").
	DecodeErrors map[string]uint64
	// QueueDepth is frames waiting for decode or apply; ApplyLag, how long
	// the oldest of them has waited.
	QueueDepth int
	ApplyLag   time.Duration

	// Runs is the number of runs in the store, Quarantined of them are
	// quarantined or corrupted, ReplayingThreads are being healed or loaded
	// by a thread replay.
	Runs             int
	Quarantined      int
	ReplayingThreads []string

	// ServerRate is the messages per second the server reported at its
	// last /health poll (what Stalled compares against).
	ServerRate float64

	// Duplicates counts messages the store recognised as already applied
	// (a replay re-sending them); Stale frames, those that arrived from a
	// retired epoch and were dropped unapplied.
	Duplicates, StaleFrames uint64
	// Reconnects counts connections that ended; Connections those opened.
	Reconnects, Connections uint64
	// Flow records, per partition, what this page received in offset
	// order since it started: with ResumedAfter it proves that nothing
	// was skipped (First == ResumedAfter+1) and nothing received twice
	// (Frames == Last-ResumedAfter on a contiguous partition).
	Flow map[int32]PartitionFlow
}

// PartitionFlow is what a page received on one partition.
type PartitionFlow struct {
	// ResumedAfter is the committed offset the page's first resume sent
	// for this partition, -1 when it had none.
	ResumedAfter int64
	// First and Last are the first and highest offsets received (-1
	// before any); Frames counts frames above the previous Last;
	// Repeats frames at or below it (a replay re-sending).
	First, Last     int64
	Frames, Repeats uint64
	// Committed is the offset committed to the cursor store (-1: none).
	Committed int64
}

// DecodeErrorTotal is the number of frames that failed to decode, all
// classes together.
func (h Health) DecodeErrorTotal() uint64 {
	var n uint64
	for _, v := range h.DecodeErrors {
		n += v
	}
	return n
}

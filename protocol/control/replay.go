package control

import (
	"slices"
	"strconv"
)

// ReplayComplete ends the server's answer to a resume request.
//
// Upstream writes "lastOffsetsByPartition" and "capped" in partition modes
// ("cursor", "earliest", "latest") and omits both in mode "thread";
// AppendJSON does the same, except that in thread mode a non-empty map or a
// true Capped is still written so that nothing is lost.
type ReplayComplete struct {
	// TotalReplayed is the number of records replayed (a JSON number).
	TotalReplayed int64
	// LastOffsetsByPartition maps each partition that replayed something to
	// the highest offset sent (for mode "latest": to the latest retained
	// offset of every known partition). Parse returns nil for an empty object.
	LastOffsetsByPartition map[int32]int64
	// Capped tells that the replay stopped at the server's limit
	// (REPLAY_MAX_TOTAL, which bounds one burst). Unless Continuing is set,
	// the client should resume again from the offsets above.
	Capped bool
	// Continuing (our addition, "continuing", written only when true) tells
	// that a capped replay goes on without another request: the server
	// sends the rest of every unfinished partition at the pace the client
	// reads, then a final replay_complete with Live set. A new partition
	// resume from the client replaces that continuation.
	Continuing bool
	// Live (our addition, "live", written only when true) tells that every
	// partition now flows live to this connection: the replay, and any
	// continuation of it, is over. The totals of a final replay_complete
	// that ends a continuation cover the whole resume.
	Live bool
	// Mode is FromCursor, FromEarliest, FromLatest or ModeThread.
	Mode string
	// Reason optionally explains the outcome, e.g. why the replay was capped
	// ("reason", omitted when empty). This member is our addition.
	Reason string
}

// Type returns TypeReplayComplete.
func (*ReplayComplete) Type() string { return TypeReplayComplete }

// AppendJSON appends the replay summary; see the type documentation for
// which members are written.
func (m *ReplayComplete) AppendJSON(dst []byte) []byte {
	thread := m.Mode == ModeThread
	dst = beginObject(dst, TypeReplayComplete)
	dst = appendMember(dst, nameTotalReplayed)
	dst = appendInt(dst, m.TotalReplayed)
	if !thread || len(m.LastOffsetsByPartition) > 0 {
		dst = appendMember(dst, nameLastOffsetsByPartition)
		dst = appendOffsetMap(dst, m.LastOffsetsByPartition)
	}
	if !thread || m.Capped {
		dst = appendMember(dst, nameCapped)
		dst = appendBool(dst, m.Capped)
	}
	dst = appendMember(dst, nameMode)
	dst = appendString(dst, m.Mode)
	if m.Reason != "" {
		dst = appendMember(dst, nameReason)
		dst = appendString(dst, m.Reason)
	}
	if m.Continuing {
		dst = appendMember(dst, nameContinuing)
		dst = appendBool(dst, true)
	}
	if m.Live {
		dst = appendMember(dst, nameLive)
		dst = appendBool(dst, true)
	}
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (m *ReplayComplete) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// decodeReplayComplete reads a replay_complete; "totalReplayed" is required.
func decodeReplayComplete(d *decoder) *ReplayComplete {
	return &ReplayComplete{
		TotalReplayed:          d.int64(fTotalReplayed, true),
		LastOffsetsByPartition: d.offsetMap(fLastOffsetsByPartition, false),
		Capped:                 d.boolean(fCapped),
		Mode:                   d.str(fMode, false),
		Reason:                 d.str(fReason, false),
		Continuing:             d.boolean(fContinuing),
		Live:                   d.boolean(fLive),
	}
}

// CursorReset asks the server for the latest offsets of every partition and
// a reset of replay state. Upstream sends no members and the reset is global;
// in this implementation it affects only the caller unless AdminToken is
// accepted by the server.
type CursorReset struct {
	// AdminToken optionally authorises a global reset ("adminToken",
	// omitted when empty). This member is our addition.
	AdminToken string
}

// Type returns TypeCursorReset.
func (*CursorReset) Type() string { return TypeCursorReset }

// AppendJSON appends {"type":"cursor_reset"}, with "adminToken" when set.
func (m *CursorReset) AppendJSON(dst []byte) []byte {
	dst = beginObject(dst, TypeCursorReset)
	if m.AdminToken != "" {
		dst = appendMember(dst, nameAdminToken)
		dst = appendString(dst, m.AdminToken)
	}
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (m *CursorReset) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// decodeCursorReset reads a cursor_reset.
func decodeCursorReset(d *decoder) *CursorReset {
	return &CursorReset{AdminToken: d.str(fAdminToken, false)}
}

// MaxResetPartitions is the largest number of partitions listed in a
// cursor_reset_complete, as upstream.
const MaxResetPartitions = 100

// CursorResetComplete answers a CursorReset with the offsets the client
// should adopt as its new cursors.
type CursorResetComplete struct {
	// LatestOffsetsByPartition maps partitions to their latest retained
	// offset, at most MaxResetPartitions entries. Parse returns nil for an
	// empty object.
	LatestOffsetsByPartition map[int32]int64
	// BufferCleared tells whether the shared replay buffer was cleared.
	BufferCleared bool
	// Truncated tells that more partitions exist than are listed.
	Truncated bool
	// TotalPartitions is the number of known partitions.
	TotalPartitions int
	// Message is human-readable text.
	Message string
}

// NewCursorResetComplete builds the reply to a cursor reset from the latest
// offsets of all known partitions. It lists the MaxResetPartitions lowest
// partitions (upstream picks arbitrary ones), sets Truncated when it drops
// some, and writes the upstream text, which reports clearedKeys when the
// shared buffer was cleared.
func NewCursorResetComplete(latest map[int32]int64, cleared bool, clearedKeys int64) *CursorResetComplete {
	partitions := make([]int32, 0, len(latest))
	for p := range latest {
		partitions = append(partitions, p)
	}
	slices.Sort(partitions)
	truncated := len(partitions) > MaxResetPartitions
	if truncated {
		partitions = partitions[:MaxResetPartitions]
	}
	var listed map[int32]int64
	if len(partitions) > 0 {
		listed = make(map[int32]int64, len(partitions))
		for _, p := range partitions {
			listed[p] = latest[p]
		}
	}
	text := "Cursor reset complete. " + strconv.Itoa(len(latest)) + " partition(s) available"
	if truncated {
		text += " (showing first " + strconv.Itoa(MaxResetPartitions) + ", truncated)"
	}
	if cleared {
		text += ". Replay buffer cleared (" + strconv.FormatInt(clearedKeys, 10) + " keys)."
	} else {
		text += ". Replay buffer kept: the reset applies to this connection only."
	}
	text += " Use these offsets for 'from:cursor' resume."
	return &CursorResetComplete{
		LatestOffsetsByPartition: listed,
		BufferCleared:            cleared,
		Truncated:                truncated,
		TotalPartitions:          len(latest),
		Message:                  text,
	}
}

// Type returns TypeCursorResetComplete.
func (*CursorResetComplete) Type() string { return TypeCursorResetComplete }

// AppendJSON appends the reply with all its members.
func (m *CursorResetComplete) AppendJSON(dst []byte) []byte {
	dst = beginObject(dst, TypeCursorResetComplete)
	dst = appendMember(dst, nameLatestOffsetsByPartition)
	dst = appendOffsetMap(dst, m.LatestOffsetsByPartition)
	dst = appendMember(dst, nameBufferCleared)
	dst = appendBool(dst, m.BufferCleared)
	dst = appendMember(dst, nameTruncated)
	dst = appendBool(dst, m.Truncated)
	dst = appendMember(dst, nameTotalPartitions)
	dst = appendInt(dst, int64(m.TotalPartitions))
	dst = appendMember(dst, nameMessage)
	dst = appendString(dst, m.Message)
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (m *CursorResetComplete) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// decodeCursorResetComplete reads a cursor_reset_complete;
// "latestOffsetsByPartition" is required.
func decodeCursorResetComplete(d *decoder) *CursorResetComplete {
	m := &CursorResetComplete{
		LatestOffsetsByPartition: d.offsetMap(fLatestOffsetsByPartition, true),
		BufferCleared:            d.boolean(fBufferCleared),
		Truncated:                d.boolean(fTruncated),
		Message:                  d.str(fMessage, false),
	}
	n, _ := d.integer(fTotalPartitions, maxInt, false)
	m.TotalPartitions = int(n)
	return m
}

// maxInt is the largest int, the bound of TotalPartitions.
const maxInt = uint64(^uint(0) >> 1)

package control

import "strconv"

// Cursor precedes every binary frame and names the Kafka record it carries:
// {"type":"cursor","partition":0,"offset":"42"}. Once the client has applied
// that record, (Partition, Offset) is its exclusive resume cursor for the
// partition.
type Cursor struct {
	// Partition is the Kafka partition (≥ 0), a JSON number on the wire.
	Partition int32
	// Offset is the Kafka offset (≥ 0), a decimal string on the wire.
	Offset int64
}

// Type returns TypeCursor.
func (*Cursor) Type() string { return TypeCursor }

// AppendJSON appends {"type":"cursor","partition":P,"offset":"O"}.
func (m *Cursor) AppendJSON(dst []byte) []byte {
	dst = beginObject(dst, TypeCursor)
	dst = appendMember(dst, namePartition)
	dst = appendInt(dst, int64(m.Partition))
	dst = appendMember(dst, nameOffset)
	dst = appendQuotedInt(dst, m.Offset)
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (m *Cursor) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// decodeCursor reads a cursor; both members are required.
func decodeCursor(d *decoder) *Cursor {
	return &Cursor{
		Partition: d.int32(fPartition, true),
		Offset:    d.int64(fOffset, true),
	}
}

// Gap severities.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// ReplayGapMessage is the upstream text of partition and thread replay gaps.
const ReplayGapMessage = "Replay gap detected; some messages may be lost"

// Gap tells the client that messages were lost. Upstream sends three kinds:
// a live-lag gap (the connection fell behind; no partition, see LiveLagGap),
// a partition replay gap (Partition set, see PartitionGap) and a thread
// replay gap (ThreadID set, see ThreadGap).
//
// FromOffset/ToOffset and FromSequence/ToSequence are additions of this
// implementation that give the exact hole; upstream clients ignore them.
type Gap struct {
	// Count is the number of missing messages.
	Count int64
	// Severity is SeverityInfo, SeverityWarning or SeverityCritical.
	Severity string
	// Message is human-readable text.
	Message string
	// Partition is set for a partition replay gap ("partition").
	Partition *int32
	// ThreadID is set for a thread replay gap ("threadId"); empty otherwise.
	ThreadID string
	// FromOffset and ToOffset, when set, are the inclusive range of missing
	// offsets on Partition ("fromOffset", "toOffset", decimal strings). They
	// are set together, with FromOffset ≤ ToOffset.
	FromOffset, ToOffset *int64
	// FromSequence and ToSequence, when set, are the inclusive range of
	// missing sequences of ThreadID ("fromSequence", "toSequence", decimal
	// strings). They are set together, with FromSequence ≤ ToSequence.
	FromSequence, ToSequence *uint64
}

// LiveLagGap returns the gap sent when a connection's live queue overflowed
// and count messages were skipped: severity "info" below 10, "warning" below
// 100 and "critical" from 100 on, with the upstream text, e.g.
// "[WARNING] 12 messages missed due to slow connection".
func LiveLagGap(count int64) *Gap {
	severity, prefix := SeverityInfo, "[INFO] "
	switch {
	case count >= 100:
		severity, prefix = SeverityCritical, "[CRITICAL] "
	case count >= 10:
		severity, prefix = SeverityWarning, "[WARNING] "
	}
	return &Gap{
		Count:    count,
		Severity: severity,
		Message:  prefix + strconv.FormatInt(count, 10) + " messages missed due to slow connection",
	}
}

// PartitionGap returns the gap for the missing offsets from..to (inclusive,
// from ≤ to) of a partition during replay: count to-from+1, severity
// "warning", the upstream text, and the exact range.
func PartitionGap(partition int32, from, to int64) *Gap {
	count := int64(0)
	if to >= from {
		count = saturatingCount(uint64(to) - uint64(from))
	}
	return &Gap{
		Count:      count,
		Severity:   SeverityWarning,
		Message:    ReplayGapMessage,
		Partition:  &partition,
		FromOffset: &from,
		ToOffset:   &to,
	}
}

// ThreadGap returns the gap for the missing sequences from..to (inclusive,
// from ≤ to) of a thread during replay: count to-from+1 (capped at the int64
// maximum), severity "warning", the upstream text, and the exact range.
func ThreadGap(threadID string, from, to uint64) *Gap {
	count := int64(0)
	if to >= from {
		count = saturatingCount(to - from)
	}
	return &Gap{
		Count:        count,
		Severity:     SeverityWarning,
		Message:      ReplayGapMessage,
		ThreadID:     threadID,
		FromSequence: &from,
		ToSequence:   &to,
	}
}

// saturatingCount returns span+1 as an int64, capped at its maximum.
func saturatingCount(span uint64) int64 {
	if span >= maxOffset {
		return maxOffset
	}
	return int64(span) + 1
}

// Type returns TypeGap.
func (*Gap) Type() string { return TypeGap }

// AppendJSON appends the gap. "count", "severity" and "message" are always
// written; the optional members only when set.
func (m *Gap) AppendJSON(dst []byte) []byte {
	dst = beginObject(dst, TypeGap)
	dst = appendMember(dst, nameCount)
	dst = appendInt(dst, m.Count)
	dst = appendMember(dst, nameSeverity)
	dst = appendString(dst, m.Severity)
	dst = appendMember(dst, nameMessage)
	dst = appendString(dst, m.Message)
	if m.Partition != nil {
		dst = appendMember(dst, namePartition)
		dst = appendInt(dst, int64(*m.Partition))
	}
	if m.ThreadID != "" {
		dst = appendMember(dst, nameThreadID)
		dst = appendString(dst, m.ThreadID)
	}
	if m.FromOffset != nil {
		dst = appendMember(dst, nameFromOffset)
		dst = appendQuotedInt(dst, *m.FromOffset)
	}
	if m.ToOffset != nil {
		dst = appendMember(dst, nameToOffset)
		dst = appendQuotedInt(dst, *m.ToOffset)
	}
	if m.FromSequence != nil {
		dst = appendMember(dst, nameFromSequence)
		dst = appendQuotedUint(dst, *m.FromSequence)
	}
	if m.ToSequence != nil {
		dst = appendMember(dst, nameToSequence)
		dst = appendQuotedUint(dst, *m.ToSequence)
	}
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (m *Gap) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// decodeGap reads a gap; "count" is required, and each range must be
// complete and ordered.
func decodeGap(d *decoder) *Gap {
	m := &Gap{
		Count:        d.int64(fCount, true),
		Severity:     d.str(fSeverity, false),
		Message:      d.str(fMessage, false),
		Partition:    d.optInt32(fPartition),
		ThreadID:     d.str(fThreadID, false),
		FromOffset:   d.optInt64(fFromOffset),
		ToOffset:     d.optInt64(fToOffset),
		FromSequence: d.optUint64(fFromSequence),
		ToSequence:   d.optUint64(fToSequence),
	}
	if d.err != nil {
		return m
	}
	checkRange(d, fFromOffset, fToOffset, m.FromOffset != nil, m.ToOffset != nil,
		m.FromOffset != nil && m.ToOffset != nil && *m.FromOffset > *m.ToOffset)
	checkRange(d, fFromSequence, fToSequence, m.FromSequence != nil, m.ToSequence != nil,
		m.FromSequence != nil && m.ToSequence != nil && *m.FromSequence > *m.ToSequence)
	return m
}

// checkRange records an error when only one end of a range is present or
// when the range is reversed.
func checkRange(d *decoder, from, to fieldID, hasFrom, hasTo, reversed bool) {
	switch {
	case hasFrom && !hasTo:
		d.fail(from, "set without "+strconv.Quote(fieldNames[to]), ErrInconsistent)
	case hasTo && !hasFrom:
		d.fail(to, "set without "+strconv.Quote(fieldNames[from]), ErrInconsistent)
	case reversed:
		d.fail(from, "above "+strconv.Quote(fieldNames[to]), ErrInconsistent)
	}
}

// DefaultCursorStaleMessage is the upstream text of cursor_stale.
const DefaultCursorStaleMessage = "Cursor is stale; data may have been evicted. State may be incomplete."

// Reasons of a cursor_stale ("reason", our addition; absent upstream, where
// the only cause is eviction).
const (
	// StaleEvicted: the records after the cursor are gone (retention).
	StaleEvicted = "evicted"
	// StalePastEnd: the cursor is at or beyond the partition's end, so it
	// cannot name a record of this log: the log was recreated or damaged.
	StalePastEnd = "past_end"
	// StaleOtherNamespace: the resume carried a resume_namespace other than
	// the server's, so its offsets belong to another log.
	StaleOtherNamespace = "other_namespace"
)

// CursorStale tells the client that a partition cursor it sent cannot be
// continued: history between it and Oldest is gone (Reason StaleEvicted or
// empty, the upstream case, Requested < Oldest), or the cursor names no
// record of this log at all (StalePastEnd, StaleOtherNamespace; then
// Requested may be ≥ Oldest). Either way the records that follow start at
// Oldest, and state the client built from that partition may be wrong.
type CursorStale struct {
	// Partition is the partition of the stale cursor.
	Partition int32
	// Requested is the offset the client asked to resume after.
	Requested int64
	// Oldest is the oldest offset still retained: where the replay of the
	// partition goes on.
	Oldest int64
	// Message is human-readable text, DefaultCursorStaleMessage upstream.
	Message string
	// Reason is StaleEvicted, StalePastEnd or StaleOtherNamespace
	// ("reason", omitted when empty).
	Reason string
}

// StaleCursor returns a CursorStale with DefaultCursorStaleMessage.
func StaleCursor(partition int32, requested, oldest int64) *CursorStale {
	return &CursorStale{Partition: partition, Requested: requested, Oldest: oldest, Message: DefaultCursorStaleMessage}
}

// CursorPastEnd returns the cursor_stale for a cursor at or beyond the end
// of its partition (Reason StalePastEnd); the replay goes on from oldest.
func CursorPastEnd(partition int32, requested, oldest int64) *CursorStale {
	return &CursorStale{Partition: partition, Requested: requested, Oldest: oldest, Reason: StalePastEnd,
		Message: "Cursor is past the end of the partition: the log was recreated or damaged, so it names no record of this log. Replaying the partition from its oldest record; state built from it may be wrong."}
}

// CursorOtherNamespace returns the cursor_stale for a cursor stored under
// another resume_namespace (Reason StaleOtherNamespace); the replay goes on
// from oldest.
func CursorOtherNamespace(partition int32, requested, oldest int64) *CursorStale {
	return &CursorStale{Partition: partition, Requested: requested, Oldest: oldest, Reason: StaleOtherNamespace,
		Message: "Cursor belongs to another resume_namespace (the log was recreated, or another topic or cluster). Replaying the partition from its oldest record; state built from it may be wrong."}
}

// Type returns TypeCursorStale.
func (*CursorStale) Type() string { return TypeCursorStale }

// AppendJSON appends
// {"type":"cursor_stale","partition":P,"requested":"R","oldest":"O","message":"…"},
// with "reason" when set.
func (m *CursorStale) AppendJSON(dst []byte) []byte {
	dst = beginObject(dst, TypeCursorStale)
	dst = appendMember(dst, namePartition)
	dst = appendInt(dst, int64(m.Partition))
	dst = appendMember(dst, nameRequested)
	dst = appendQuotedInt(dst, m.Requested)
	dst = appendMember(dst, nameOldest)
	dst = appendQuotedInt(dst, m.Oldest)
	dst = appendMember(dst, nameMessage)
	dst = appendString(dst, m.Message)
	if m.Reason != "" {
		dst = appendMember(dst, nameReason)
		dst = appendString(dst, m.Reason)
	}
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (m *CursorStale) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// decodeCursorStale reads a cursor_stale; all members but "message" and
// "reason" are required.
func decodeCursorStale(d *decoder) *CursorStale {
	return &CursorStale{
		Partition: d.int32(fPartition, true),
		Requested: d.int64(fRequested, true),
		Oldest:    d.int64(fOldest, true),
		Message:   d.str(fMessage, false),
		Reason:    d.str(fReason, false),
	}
}

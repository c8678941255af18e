package control

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Resume modes ("mode") and starting points ("from").
const (
	// ModePartition resumes per Kafka partition from LastOffsetsByPartition.
	ModePartition = "partition"
	// ModeThread resumes per thread from sequences (the legacy mode). It is
	// also the ReplayComplete mode of a thread replay.
	ModeThread = "thread"
	// ModeAuto picks ModePartition when "lastOffsetsByPartition" is present
	// (with any JSON type) and ModeThread otherwise. An absent or unknown
	// mode is treated as auto.
	ModeAuto = "auto"

	// FromCursor replays after the client's offsets (the default).
	FromCursor = "cursor"
	// FromEarliest replays every retained record, ignoring client offsets.
	FromEarliest = "earliest"
	// FromLatest replays nothing and reports the latest offsets.
	FromLatest = "latest"
)

// Limits of a resume request, as upstream.
const (
	// MaxResumePartitions is the most keys "lastOffsetsByPartition" may have.
	MaxResumePartitions = 1024
	// MaxResumeThreads is the most keys "lastSequencesByThread" may have.
	MaxResumeThreads = 10000
	// MaxSafeInteger is 2^53−1, the largest integer a JavaScript number holds
	// exactly; the legacy "lastSequence" is only written up to it.
	MaxSafeInteger = 1<<53 - 1
)

// Resume is the client's request to replay what it missed. All members are
// optional; see the upstream specification §3.5 for their semantics, which
// Parse follows with one difference: problems are reported, not only logged.
// Invalid members and entries are skipped and described in Rejected, so a
// Resume is returned even for a partly invalid request. Only a key count
// above MaxResumePartitions or MaxResumeThreads in the map the mode uses
// fails the whole request.
type Resume struct {
	// Mode is the resolved mode: ModePartition or ModeThread. "partition" and
	// "thread" on the wire are taken as is; "auto", an absent mode and
	// anything else (recorded in Rejected) resolve to ModePartition when
	// HasOffsets, else ModeThread.
	Mode string
	// From is FromCursor, FromEarliest or FromLatest; absent means FromCursor
	// and an unknown value becomes FromCursor (recorded in Rejected). It only
	// matters in partition mode.
	From string

	// HasOffsets tells whether the member "lastOffsetsByPartition" was
	// present at all, whatever its JSON type. It drives the auto mode, and
	// AppendJSON writes the member when it is set.
	HasOffsets bool
	// LastOffsetsByPartition maps partitions to the last offset the client
	// fully processed (exclusive cursors). Keys on the wire are decimal
	// strings of an int32 ≥ 0; values are int64 ≥ 0 as a number or a decimal
	// string. Nil when there are no valid entries.
	LastOffsetsByPartition map[int32]int64

	// HasSequences tells whether "lastSequencesByThread" was a JSON object
	// (even an empty one). While it is set the legacy ThreadID/LastSequence
	// pair is ignored, as upstream.
	HasSequences bool
	// LastSequencesByThread maps thread ids to the last sequence the client
	// processed (0 is valid). Nil when there are no valid entries.
	LastSequencesByThread map[string]uint64

	// ThreadID is the legacy single-thread "threadId"; empty when absent.
	ThreadID string
	// LastSequence is the legacy "lastSequence", when present and valid.
	// Upstream uses it only together with ThreadID (see ThreadCursors), but
	// it is kept either way so that callers can see it.
	LastSequence *uint64

	// Namespace is the optional "resume_namespace" (our addition): the
	// resume_namespace of /version under which the client stored its
	// cursors. A server whose current namespace differs answers every
	// partition of LastOffsetsByPartition with cursor_stale, since the
	// offsets name records of another log. Empty when absent; a non-string
	// value is rejected and ignored.
	Namespace string

	// Rejected lists the problems found in the request, each a *FieldError
	// naming the member or the entry, e.g. lastOffsetsByPartition["-1"]. The
	// order is fixed: mode, oversized maps ignored by the mode, from,
	// lastOffsetsByPartition, lastSequencesByThread, threadId, lastSequence,
	// resume_namespace, and within a map the frame order. AppendJSON ignores
	// it.
	Rejected []error
}

// NewPartitionResume returns a partition-mode request that resumes after the
// given offsets from the given starting point (FromCursor, FromEarliest or
// FromLatest).
func NewPartitionResume(from string, offsets map[int32]int64) *Resume {
	return &Resume{Mode: ModePartition, From: from, HasOffsets: true, LastOffsetsByPartition: offsets}
}

// NewThreadResume returns a thread-mode request that resumes after the given
// sequences.
func NewThreadResume(sequences map[string]uint64) *Resume {
	return &Resume{Mode: ModeThread, From: FromCursor, HasSequences: true, LastSequencesByThread: sequences}
}

// ThreadCursors returns the thread cursors a thread-mode replay uses:
// LastSequencesByThread when "lastSequencesByThread" was an object, otherwise
// the legacy pair {ThreadID: LastSequence} when both are set, otherwise nil.
// The caller must not modify the returned map.
func (m *Resume) ThreadCursors() map[string]uint64 {
	if m.HasSequences || len(m.LastSequencesByThread) > 0 {
		return m.LastSequencesByThread
	}
	if m.ThreadID != "" && m.LastSequence != nil {
		return map[string]uint64{m.ThreadID: *m.LastSequence}
	}
	return nil
}

// Type returns TypeResume.
func (*Resume) Type() string { return TypeResume }

// AppendJSON appends the request. Offsets and sequences in the maps are
// written as decimal strings; "mode" and "from" only when non-empty; each
// map when its Has flag is set or it has entries; "threadId" and
// "resume_namespace" when non-empty.
//
// The legacy "lastSequence" is meant for old servers that read it as a
// number, so it is written as a JSON number, and only when it is at most
// MaxSafeInteger: above that a JavaScript reader would round it, so it is
// omitted (upstream audit fix M-716).
func (m *Resume) AppendJSON(dst []byte) []byte {
	dst = beginObject(dst, TypeResume)
	if m.Mode != "" {
		dst = appendMember(dst, nameMode)
		dst = appendString(dst, m.Mode)
	}
	if m.From != "" {
		dst = appendMember(dst, nameFrom)
		dst = appendString(dst, m.From)
	}
	if m.HasOffsets || len(m.LastOffsetsByPartition) > 0 {
		dst = appendMember(dst, nameLastOffsetsByPartition)
		dst = appendOffsetMap(dst, m.LastOffsetsByPartition)
	}
	if m.HasSequences || len(m.LastSequencesByThread) > 0 {
		dst = appendMember(dst, nameLastSequencesByThread)
		dst = appendSequenceMap(dst, m.LastSequencesByThread)
	}
	if m.ThreadID != "" {
		dst = appendMember(dst, nameThreadID)
		dst = appendString(dst, m.ThreadID)
	}
	if m.LastSequence != nil && *m.LastSequence <= MaxSafeInteger {
		dst = appendMember(dst, nameLastSequence)
		dst = appendInt(dst, int64(*m.LastSequence))
	}
	if m.Namespace != "" {
		dst = appendMember(dst, nameResumeNamespace)
		dst = appendString(dst, m.Namespace)
	}
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (m *Resume) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// decodeResume reads a resume request leniently: only an oversized map in the
// resolved mode is an error; every other problem goes to Rejected.
func decodeResume(d *decoder) (*Resume, error) {
	m := &Resume{}
	reject := func(fe *FieldError) bool {
		m.Rejected = append(m.Rejected, fe)
		return true
	}
	rejectMember := func(id fieldID, reason string, class error) {
		reject(&FieldError{Field: fieldNames[id], Reason: reason, Err: class})
	}

	// Mode first: it decides which oversized map is fatal.
	offsets := d.vals[fLastOffsetsByPartition]
	m.HasOffsets = offsets.Exists()
	explicit := ""
	if v := d.vals[fMode]; v.Exists() {
		switch {
		case v.Type != gjson.String:
			rejectMember(fMode, "expected a string, got "+jsonKind(v)+"; using auto", ErrWrongType)
		case v.Str == ModePartition || v.Str == ModeThread:
			explicit = v.Str
		case v.Str == ModeAuto:
		default:
			rejectMember(fMode, "unknown mode "+quoteForError(v.Str)+"; using auto", ErrUnknownValue)
		}
	}
	switch {
	case explicit != "":
		m.Mode = explicit
	case m.HasOffsets:
		m.Mode = ModePartition
	default:
		m.Mode = ModeThread
	}

	// Key counts before any value is read.
	sequences := d.vals[fLastSequencesByThread]
	skipOffsets, skipSequences := false, false
	if offsets.IsObject() {
		if n := countKeys(offsets); n > MaxResumePartitions {
			if m.Mode == ModePartition {
				return nil, &LimitError{Field: nameLastOffsetsByPartition, Count: n,
					Limit: MaxResumePartitions, Err: ErrTooManyPartitions}
			}
			skipOffsets = true
			rejectMember(fLastOffsetsByPartition, strconv.Itoa(n)+" keys exceed the maximum ("+
				strconv.Itoa(MaxResumePartitions)+"); ignored in thread mode", ErrTooManyPartitions)
		}
	}
	if sequences.IsObject() {
		if n := countKeys(sequences); n > MaxResumeThreads {
			if m.Mode == ModeThread {
				return nil, &LimitError{Field: nameLastSequencesByThread, Count: n,
					Limit: MaxResumeThreads, Err: ErrTooManyThreads}
			}
			skipSequences = true
			rejectMember(fLastSequencesByThread, strconv.Itoa(n)+" keys exceed the maximum ("+
				strconv.Itoa(MaxResumeThreads)+"); ignored in partition mode", ErrTooManyThreads)
		}
	}

	m.From = FromCursor
	if v := d.vals[fFrom]; v.Exists() {
		switch {
		case v.Type != gjson.String:
			rejectMember(fFrom, "expected a string, got "+jsonKind(v)+"; using \"cursor\"", ErrWrongType)
		case v.Str == FromCursor || v.Str == FromEarliest || v.Str == FromLatest:
			m.From = v.Str
		default:
			rejectMember(fFrom, "unknown value "+quoteForError(v.Str)+"; using \"cursor\"", ErrUnknownValue)
		}
	}

	switch {
	case !m.HasOffsets || skipOffsets:
	case offsets.IsObject():
		m.LastOffsetsByPartition = readOffsetMap(offsets, nameLastOffsetsByPartition, reject)
	default:
		rejectMember(fLastOffsetsByPartition, "expected an object, got "+jsonKind(offsets), ErrWrongType)
	}

	switch {
	case !sequences.Exists():
	case sequences.IsObject():
		m.HasSequences = true
		if !skipSequences {
			m.LastSequencesByThread = readSequenceMap(sequences, nameLastSequencesByThread, reject)
		}
	default:
		rejectMember(fLastSequencesByThread, "expected an object, got "+jsonKind(sequences), ErrWrongType)
	}

	if v := d.vals[fThreadID]; v.Exists() {
		if v.Type == gjson.String {
			m.ThreadID = strings.Clone(v.Str)
		} else {
			rejectMember(fThreadID, "expected a string, got "+jsonKind(v), ErrWrongType)
		}
	}
	if v := d.vals[fLastSequence]; v.Exists() {
		if n, nerr := readInteger(v, maxSequence); nerr != nil {
			rejectMember(fLastSequence, nerr.reason, nerr.class)
		} else {
			m.LastSequence = &n
		}
	}
	if v := d.vals[fResumeNamespace]; v.Exists() {
		if v.Type == gjson.String {
			m.Namespace = strings.Clone(v.Str)
		} else {
			rejectMember(fResumeNamespace, "expected a string, got "+jsonKind(v), ErrWrongType)
		}
	}
	return m, nil
}

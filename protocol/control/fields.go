package control

import (
	"strings"

	"github.com/tidwall/gjson"
)

// Wire names of every member the package reads or writes.
const (
	nameType                     = "type"
	namePartition                = "partition"
	nameOffset                   = "offset"
	nameCount                    = "count"
	nameSeverity                 = "severity"
	nameMessage                  = "message"
	nameThreadID                 = "threadId"
	nameFromOffset               = "fromOffset"
	nameToOffset                 = "toOffset"
	nameFromSequence             = "fromSequence"
	nameToSequence               = "toSequence"
	nameRequested                = "requested"
	nameOldest                   = "oldest"
	nameTotalReplayed            = "totalReplayed"
	nameLastOffsetsByPartition   = "lastOffsetsByPartition"
	nameCapped                   = "capped"
	nameMode                     = "mode"
	nameReason                   = "reason"
	nameLatestOffsetsByPartition = "latestOffsetsByPartition"
	nameBufferCleared            = "bufferCleared"
	nameTruncated                = "truncated"
	nameTotalPartitions          = "totalPartitions"
	nameLagInWindow              = "lag_in_window"
	nameCumulativeLag            = "cumulative_lag"
	nameThreshold                = "threshold"
	nameWindowSecs               = "window_secs"
	nameCode                     = "code"
	nameAdminToken               = "adminToken"
	nameFrom                     = "from"
	nameLastSequencesByThread    = "lastSequencesByThread"
	nameLastSequence             = "lastSequence"
	nameResumeNamespace          = "resume_namespace"
	nameContinuing               = "continuing"
	nameLive                     = "live"
)

// fieldID indexes the members collected from a frame's top-level object.
type fieldID int

const (
	fType fieldID = iota
	fPartition
	fOffset
	fCount
	fSeverity
	fMessage
	fThreadID
	fFromOffset
	fToOffset
	fFromSequence
	fToSequence
	fRequested
	fOldest
	fTotalReplayed
	fLastOffsetsByPartition
	fCapped
	fMode
	fReason
	fLatestOffsetsByPartition
	fBufferCleared
	fTruncated
	fTotalPartitions
	fLagInWindow
	fCumulativeLag
	fThreshold
	fWindowSecs
	fCode
	fAdminToken
	fFrom
	fLastSequencesByThread
	fLastSequence
	fResumeNamespace
	fContinuing
	fLive
	numFields
)

// fieldNames maps a fieldID to its wire name.
var fieldNames = [numFields]string{
	fType:                     nameType,
	fPartition:                namePartition,
	fOffset:                   nameOffset,
	fCount:                    nameCount,
	fSeverity:                 nameSeverity,
	fMessage:                  nameMessage,
	fThreadID:                 nameThreadID,
	fFromOffset:               nameFromOffset,
	fToOffset:                 nameToOffset,
	fFromSequence:             nameFromSequence,
	fToSequence:               nameToSequence,
	fRequested:                nameRequested,
	fOldest:                   nameOldest,
	fTotalReplayed:            nameTotalReplayed,
	fLastOffsetsByPartition:   nameLastOffsetsByPartition,
	fCapped:                   nameCapped,
	fMode:                     nameMode,
	fReason:                   nameReason,
	fLatestOffsetsByPartition: nameLatestOffsetsByPartition,
	fBufferCleared:            nameBufferCleared,
	fTruncated:                nameTruncated,
	fTotalPartitions:          nameTotalPartitions,
	fLagInWindow:              nameLagInWindow,
	fCumulativeLag:            nameCumulativeLag,
	fThreshold:                nameThreshold,
	fWindowSecs:               nameWindowSecs,
	fCode:                     nameCode,
	fAdminToken:               nameAdminToken,
	fFrom:                     nameFrom,
	fLastSequencesByThread:    nameLastSequencesByThread,
	fLastSequence:             nameLastSequence,
	fResumeNamespace:          nameResumeNamespace,
	fContinuing:               nameContinuing,
	fLive:                     nameLive,
}

// fieldIndex maps a wire name to its fieldID, built once from fieldNames.
var fieldIndex = func() map[string]fieldID {
	m := make(map[string]fieldID, numFields)
	for id, name := range fieldNames {
		m[name] = fieldID(id)
	}
	return m
}()

// decoder holds the known top-level members of one frame and the first error
// met while converting them. Its methods do nothing once err is set, so a
// message decoder reads all its members and checks err once at the end.
type decoder struct {
	vals [numFields]gjson.Result
	err  error
}

// collect records the known members of the top-level object obj. For a
// repeated member the last occurrence wins.
func (d *decoder) collect(obj gjson.Result) {
	obj.ForEach(func(key, value gjson.Result) bool {
		if id, ok := fieldIndex[key.Str]; ok {
			d.vals[id] = value
		}
		return true
	})
}

// has reports whether member id was present (with any JSON type).
func (d *decoder) has(id fieldID) bool { return d.vals[id].Exists() }

// fail records a problem with member id unless an error is already recorded.
func (d *decoder) fail(id fieldID, reason string, class error) {
	if d.err == nil {
		d.err = &FieldError{Field: fieldNames[id], Reason: reason, Err: class}
	}
}

// integer reads member id as an integer in [0, max]. A missing member yields
// ok=false, and an error too when required.
func (d *decoder) integer(id fieldID, max uint64, required bool) (n uint64, ok bool) {
	if d.err != nil {
		return 0, false
	}
	v := d.vals[id]
	if !v.Exists() {
		if required {
			d.fail(id, "missing required field", ErrMissingField)
		}
		return 0, false
	}
	n, nerr := readInteger(v, max)
	if nerr != nil {
		d.fail(id, nerr.reason, nerr.class)
		return 0, false
	}
	return n, true
}

// int64 reads a required (or optional, yielding 0) int64 member.
func (d *decoder) int64(id fieldID, required bool) int64 {
	n, _ := d.integer(id, maxOffset, required)
	return int64(n)
}

// optInt64 reads an optional int64 member; nil when absent or invalid.
func (d *decoder) optInt64(id fieldID) *int64 {
	n, ok := d.integer(id, maxOffset, false)
	if !ok {
		return nil
	}
	v := int64(n)
	return &v
}

// optUint64 reads an optional uint64 member; nil when absent or invalid.
func (d *decoder) optUint64(id fieldID) *uint64 {
	n, ok := d.integer(id, maxSequence, false)
	if !ok {
		return nil
	}
	return &n
}

// int32 reads a required (or optional, yielding 0) partition member.
func (d *decoder) int32(id fieldID, required bool) int32 {
	n, _ := d.integer(id, maxPartition, required)
	return int32(n)
}

// optInt32 reads an optional partition member; nil when absent or invalid.
func (d *decoder) optInt32(id fieldID) *int32 {
	n, ok := d.integer(id, maxPartition, false)
	if !ok {
		return nil
	}
	v := int32(n)
	return &v
}

// str reads a string member. An absent optional member yields "". The result
// is a copy that does not keep the frame alive.
func (d *decoder) str(id fieldID, required bool) string {
	if d.err != nil {
		return ""
	}
	v := d.vals[id]
	switch {
	case !v.Exists():
		if required {
			d.fail(id, "missing required field", ErrMissingField)
		}
		return ""
	case v.Type != gjson.String:
		d.fail(id, "expected a string, got "+jsonKind(v), ErrWrongType)
		return ""
	}
	return strings.Clone(v.Str)
}

// boolean reads an optional boolean member; false when absent.
func (d *decoder) boolean(id fieldID) bool {
	if d.err != nil {
		return false
	}
	v := d.vals[id]
	switch {
	case !v.Exists():
		return false
	case !v.IsBool():
		d.fail(id, "expected a boolean, got "+jsonKind(v), ErrWrongType)
		return false
	}
	return v.Type == gjson.True
}

// offsetMap reads an object member {"<partition>": <offset>} strictly: any
// invalid entry is an error. An absent optional member and an empty object
// both yield nil.
func (d *decoder) offsetMap(id fieldID, required bool) map[int32]int64 {
	if d.err != nil {
		return nil
	}
	v := d.vals[id]
	switch {
	case !v.Exists():
		if required {
			d.fail(id, "missing required field", ErrMissingField)
		}
		return nil
	case !v.IsObject():
		d.fail(id, "expected an object, got "+jsonKind(v), ErrWrongType)
		return nil
	}
	m := readOffsetMap(v, fieldNames[id], func(fe *FieldError) bool {
		d.err = fe
		return false
	})
	if d.err != nil {
		return nil
	}
	return m
}

// readOffsetMap reads the object obj as {"<partition>": <offset>} entries.
// Each invalid entry is passed to reject as a *FieldError naming field and
// the key; reading stops when reject returns false. For a repeated key the
// last occurrence wins, and an invalid last occurrence removes the key. An
// object without valid entries yields nil.
func readOffsetMap(obj gjson.Result, field string, reject func(*FieldError) bool) map[int32]int64 {
	var m map[int32]int64
	obj.ForEach(func(key, value gjson.Result) bool {
		p, kerr := readDecimalString(key.Str, maxPartition)
		if kerr != nil {
			return reject(&FieldError{
				Field: field, Key: strings.Clone(key.Str), HasKey: true,
				Reason: "invalid partition key: " + kerr.reason, Err: kerr.class,
			})
		}
		off, verr := readInteger(value, maxOffset)
		if verr != nil {
			delete(m, int32(p))
			return reject(&FieldError{
				Field: field, Key: strings.Clone(key.Str), HasKey: true,
				Reason: verr.reason, Err: verr.class,
			})
		}
		if m == nil {
			m = make(map[int32]int64)
		}
		m[int32(p)] = int64(off)
		return true
	})
	if len(m) == 0 {
		return nil
	}
	return m
}

// readSequenceMap reads the object obj as {"<thread id>": <sequence>}
// entries, with the same rules as readOffsetMap. Any string is a valid key.
func readSequenceMap(obj gjson.Result, field string, reject func(*FieldError) bool) map[string]uint64 {
	var m map[string]uint64
	obj.ForEach(func(key, value gjson.Result) bool {
		seq, verr := readInteger(value, maxSequence)
		if verr != nil {
			delete(m, key.Str)
			return reject(&FieldError{
				Field: field, Key: strings.Clone(key.Str), HasKey: true,
				Reason: verr.reason, Err: verr.class,
			})
		}
		if m == nil {
			m = make(map[string]uint64)
		}
		m[strings.Clone(key.Str)] = seq
		return true
	})
	if len(m) == 0 {
		return nil
	}
	return m
}

// countKeys returns the number of keys of the object obj, counting repeated
// keys each time, without converting any value.
func countKeys(obj gjson.Result) int {
	n := 0
	obj.ForEach(func(_, _ gjson.Result) bool {
		n++
		return true
	})
	return n
}

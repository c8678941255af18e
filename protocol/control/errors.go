package control

import (
	"errors"
	"strconv"
)

// Errors returned by [Parse] for frames that cannot be read at all. Test for
// them with [errors.Is]; the returned errors wrap them with details.
var (
	// ErrFrameTooLarge reports a frame longer than MaxControlFrameBytes. It is
	// returned inside a *LimitError before any parsing happens.
	ErrFrameTooLarge = errors.New("control: frame too large")
	// ErrInvalidJSON reports an empty frame, malformed JSON, JSON nested deeper
	// than MaxNestingDepth, a frame that is not valid UTF-8, or a JSON value
	// that is not an object.
	ErrInvalidJSON = errors.New("control: invalid JSON")
	// ErrMissingType reports a JSON object without a string "type" member.
	ErrMissingType = errors.New("control: missing or non-string \"type\"")
	// ErrUnknownType reports a "type" that is none of the eleven message types.
	ErrUnknownType = errors.New("control: unknown message type")
	// ErrUnexpectedType is returned by ParseAs and ParseResume when the frame
	// is a valid message of another type.
	ErrUnexpectedType = errors.New("control: unexpected message type")
	// ErrTooManyPartitions reports a resume request whose
	// "lastOffsetsByPartition" object has more than MaxResumePartitions keys.
	// It is returned inside a *LimitError; the server answers with the error
	// code CodeResumeTooManyPartitions.
	ErrTooManyPartitions = errors.New("control: too many partitions in resume request")
	// ErrTooManyThreads reports a resume request whose "lastSequencesByThread"
	// object has more than MaxResumeThreads keys. It is returned inside a
	// *LimitError; the server answers with CodeResumeTooManyThreads.
	ErrTooManyThreads = errors.New("control: too many threads in resume request")
)

// Classes of field problems, wrapped by *FieldError (see FieldError.Err).
var (
	// ErrMissingField reports an absent required member.
	ErrMissingField = errors.New("missing required field")
	// ErrWrongType reports a member of the wrong JSON type, e.g. a boolean
	// where an integer is expected.
	ErrWrongType = errors.New("wrong JSON type")
	// ErrNegative reports a negative integer where only non-negative ones are
	// allowed (every integer of the protocol).
	ErrNegative = errors.New("negative value")
	// ErrNotInteger reports a number with a fraction or an exponent.
	ErrNotInteger = errors.New("not an integer")
	// ErrOutOfRange reports an integer above the maximum of its Go type.
	ErrOutOfRange = errors.New("value out of range")
	// ErrMalformedNumber reports a string that is not a plain decimal integer:
	// empty, signed with '+', padded, hexadecimal, with leading zeros, etc.
	ErrMalformedNumber = errors.New("malformed decimal integer")
	// ErrUnknownValue reports a string outside the allowed set, e.g. a resume
	// "mode" other than "partition", "thread" or "auto".
	ErrUnknownValue = errors.New("unknown value")
	// ErrInconsistent reports members that contradict each other, e.g. a gap
	// whose "fromOffset" is above its "toOffset".
	ErrInconsistent = errors.New("inconsistent fields")
)

// FieldError describes a problem with one member of a control message, or
// with one entry of an object member such as lastOffsetsByPartition.
//
// Its message names the field, for example
//
//	control: field "offset": negative value -5
//	control: lastOffsetsByPartition["3"]: fraction 1.5 is not an integer
type FieldError struct {
	// Field is the wire name of the member, e.g. "offset" or
	// "lastOffsetsByPartition".
	Field string
	// Key is the key of the offending entry when HasKey is true.
	Key string
	// HasKey tells whether the problem concerns the entry Key of the object
	// member Field rather than the member as a whole.
	HasKey bool
	// Reason is a human-readable description, including the offending value
	// (shortened when long).
	Reason string
	// Err is the class of the problem: ErrMissingField, ErrWrongType,
	// ErrNegative, ErrNotInteger, ErrOutOfRange, ErrMalformedNumber,
	// ErrUnknownValue, ErrInconsistent, ErrTooManyPartitions or
	// ErrTooManyThreads.
	Err error
}

// Path returns the field, followed by the quoted key for entry problems:
// `offset` or `lastOffsetsByPartition["3"]`.
func (e *FieldError) Path() string {
	if !e.HasKey {
		return e.Field
	}
	return e.Field + "[" + quoteForError(e.Key) + "]"
}

// Error implements error.
func (e *FieldError) Error() string {
	if e.HasKey {
		return "control: " + e.Path() + ": " + e.Reason
	}
	return "control: field " + strconv.Quote(e.Field) + ": " + e.Reason
}

// Unwrap returns the class of the problem, so errors.Is(err, ErrNegative)
// and similar tests work.
func (e *FieldError) Unwrap() error { return e.Err }

// LimitError reports input that exceeds one of the package's size limits:
// the frame size (Err is ErrFrameTooLarge) or the number of keys of a resume
// request (ErrTooManyPartitions, ErrTooManyThreads).
type LimitError struct {
	// Field is the wire name of the member that is too large, or "" for the
	// frame itself.
	Field string
	// Count is the actual size: bytes for a frame, keys for a member.
	Count int
	// Limit is the maximum allowed.
	Limit int
	// Err is ErrFrameTooLarge, ErrTooManyPartitions or ErrTooManyThreads.
	Err error
}

// Error implements error.
func (e *LimitError) Error() string {
	if e.Field == "" {
		return "control: frame of " + strconv.Itoa(e.Count) + " bytes exceeds maximum (" +
			strconv.Itoa(e.Limit) + " bytes)"
	}
	return "control: field " + strconv.Quote(e.Field) + ": " + strconv.Itoa(e.Count) +
		" keys exceed maximum (" + strconv.Itoa(e.Limit) + ")"
}

// Unwrap returns the sentinel error of the limit.
func (e *LimitError) Unwrap() error { return e.Err }

// maxShown bounds how much of a hostile value is echoed in an error message.
const maxShown = 40

// quoteForError quotes s as a Go string literal, shortened when long. The
// result is printable ASCII-safe text even for invalid UTF-8.
func quoteForError(s string) string {
	if len(s) <= maxShown {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxShown]) + "...(" + strconv.Itoa(len(s)) + " bytes)"
}

// shortLiteral returns a number literal, shortened when long.
func shortLiteral(s string) string {
	if len(s) <= maxShown {
		return s
	}
	return s[:maxShown] + "...(" + strconv.Itoa(len(s)) + " digits)"
}

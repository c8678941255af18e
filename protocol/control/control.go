package control

import (
	"fmt"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// Wire values of the "type" member, one per message type.
const (
	TypeResume              = "resume"                // client → server, Resume
	TypePing                = "ping"                  // client → server, Ping
	TypeCursorReset         = "cursor_reset"          // client → server, CursorReset
	TypeCursor              = "cursor"                // server → client, Cursor
	TypeGap                 = "gap"                   // server → client, Gap
	TypeCursorStale         = "cursor_stale"          // server → client, CursorStale
	TypeReplayComplete      = "replay_complete"       // server → client, ReplayComplete
	TypeDisconnect          = "disconnect"            // server → client, Disconnect
	TypeError               = "error"                 // server → client, Error
	TypePong                = "pong"                  // server → client, Pong
	TypeCursorResetComplete = "cursor_reset_complete" // server → client, CursorResetComplete
)

// Limits applied by Parse.
const (
	// MaxControlFrameBytes is the largest control frame accepted, 1 MiB as
	// upstream. Parse rejects larger input with ErrFrameTooLarge before
	// looking at it; the server answers with CodeControlFrameTooLarge.
	MaxControlFrameBytes = 1 << 20
	// MaxNestingDepth is the deepest nesting of objects and arrays accepted
	// in a frame (the top-level object counts as 1). It matches serde_json's
	// default recursion limit upstream and keeps hostile frames from driving
	// the JSON validator into deep recursion.
	MaxNestingDepth = 128
)

// Message is implemented by the pointer types of all eleven control
// messages: *Resume, *Ping, *CursorReset, *Cursor, *Gap, *CursorStale,
// *ReplayComplete, *Disconnect, *Error, *Pong and *CursorResetComplete.
type Message interface {
	// Type returns the wire value of the "type" member, e.g. "cursor".
	Type() string
	// AppendJSON appends the message as one JSON object to dst and returns
	// the extended buffer. The output is deterministic valid JSON.
	AppendJSON(dst []byte) []byte
}

// Parse reads one control frame of any of the eleven message types.
//
// It fails, in this order, with ErrFrameTooLarge (in a *LimitError) for more
// than MaxControlFrameBytes, ErrInvalidJSON for empty input, nesting deeper
// than MaxNestingDepth, malformed JSON, invalid UTF-8 or a non-object,
// ErrMissingType when "type" is absent or not a string, ErrUnknownType for an
// unknown type, and then with a *FieldError for the first invalid member of a
// server → client message or a *LimitError for an oversized resume request.
//
// A Resume is lenient like upstream: its invalid members and entries are
// skipped and listed in Resume.Rejected instead of failing the frame.
//
// Parse never panics, and the returned message never aliases frame.
func Parse(frame []byte) (Message, error) {
	if len(frame) > MaxControlFrameBytes {
		return nil, &LimitError{Count: len(frame), Limit: MaxControlFrameBytes, Err: ErrFrameTooLarge}
	}
	if err := checkSyntax(frame); err != nil {
		return nil, err
	}
	top := gjson.Parse(string(frame))
	if !top.IsObject() {
		return nil, fmt.Errorf("%w: frame is a JSON %s, not an object", ErrInvalidJSON, jsonKind(top))
	}
	d := new(decoder)
	d.collect(top)
	typ := d.vals[fType]
	if typ.Type != gjson.String {
		if typ.Exists() {
			return nil, fmt.Errorf("%w: got %s", ErrMissingType, jsonKind(typ))
		}
		return nil, ErrMissingType
	}
	var m Message
	switch typ.Str {
	case TypeResume:
		r, err := decodeResume(d)
		if err != nil {
			return nil, err
		}
		return r, nil
	case TypePing:
		m = &Ping{}
	case TypeCursorReset:
		m = decodeCursorReset(d)
	case TypeCursor:
		m = decodeCursor(d)
	case TypeGap:
		m = decodeGap(d)
	case TypeCursorStale:
		m = decodeCursorStale(d)
	case TypeReplayComplete:
		m = decodeReplayComplete(d)
	case TypeDisconnect:
		m = decodeDisconnect(d)
	case TypeError:
		m = decodeError(d)
	case TypePong:
		m = &Pong{}
	case TypeCursorResetComplete:
		m = decodeCursorResetComplete(d)
	default:
		return nil, fmt.Errorf("%w %s", ErrUnknownType, quoteForError(typ.Str))
	}
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}

// ParseAs parses frame like Parse and requires the message to be of type T,
// e.g. ParseAs[*Cursor](frame). A valid message of another type yields an
// error wrapping ErrUnexpectedType.
func ParseAs[T Message](frame []byte) (T, error) {
	var zero T
	m, err := Parse(frame)
	if err != nil {
		return zero, err
	}
	t, ok := m.(T)
	if !ok {
		return zero, fmt.Errorf("%w: got %q, want %T", ErrUnexpectedType, m.Type(), zero)
	}
	return t, nil
}

// ParseResume parses a client's resume request: ParseAs[*Resume](frame).
func ParseResume(frame []byte) (*Resume, error) { return ParseAs[*Resume](frame) }

// checkSyntax rejects frames that are empty, nested deeper than
// MaxNestingDepth, not valid JSON, or not valid UTF-8. The depth check runs
// first, with a flat loop, because the JSON validator recurses once per
// nesting level.
func checkSyntax(frame []byte) error {
	if len(frame) == 0 {
		return fmt.Errorf("%w: empty frame", ErrInvalidJSON)
	}
	depth, inString := 0, false
	for i := 0; i < len(frame); i++ {
		c := frame[i]
		if inString {
			switch c {
			case '\\':
				i++ // skip the escaped byte, which may be '"'
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > MaxNestingDepth {
				return fmt.Errorf("%w: nested deeper than %d levels", ErrInvalidJSON, MaxNestingDepth)
			}
		case '}', ']':
			depth--
		}
	}
	if !gjson.ValidBytes(frame) {
		return fmt.Errorf("%w: malformed JSON", ErrInvalidJSON)
	}
	if !utf8.Valid(frame) {
		return fmt.Errorf("%w: frame is not valid UTF-8", ErrInvalidJSON)
	}
	return nil
}

package jsonpatch

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/dashstream/dashstream/protocol/pb"
)

// Causes of a failed parse or apply; test with errors.Is. Apply errors come
// wrapped in an *OpError that names the operation.
var (
	// ErrInvalidPatch: the patch is not an array of operation objects, or an
	// operation lacks a member it needs or has one of the wrong type.
	ErrInvalidPatch = errors.New("invalid patch")
	// ErrInvalidPointer: a path or from is not an RFC 6901 pointer.
	ErrInvalidPointer = errors.New("invalid JSON pointer")
	// ErrForbiddenSegment: a pointer names __proto__, constructor or
	// prototype (rejected for every consumer's safety, M-710).
	ErrForbiddenSegment = errors.New("forbidden path segment")
	// ErrPathTooLong: a pointer is longer than MaxPathChars.
	ErrPathTooLong = errors.New("path too long")
	// ErrTooManyOps: a patch has more than MaxOps operations.
	ErrTooManyOps = errors.New("too many operations")
	// ErrNotFound: the target (or its parent, or from) does not exist.
	ErrNotFound = errors.New("path not found")
	// ErrInvalidIndex: an array index is not strict decimal, or '-' is used
	// where no element can be appended.
	ErrInvalidIndex = errors.New("invalid array index")
	// ErrIndexOutOfRange: a valid index beyond the array.
	ErrIndexOutOfRange = errors.New("array index out of range")
	// ErrNotContainer: the path goes through a scalar.
	ErrNotContainer = errors.New("path goes through a scalar")
	// ErrMoveIntoChild: move from a location into one of its own children.
	ErrMoveIntoChild = errors.New("cannot move a value into its own child")
	// ErrRemoveRoot: remove of the whole document.
	ErrRemoveRoot = errors.New("cannot remove the document root")
	// ErrTestFailed: a test operation found a different value.
	ErrTestFailed = errors.New("test failed")
	// ErrTooDeep: the result would nest deeper than jsontree.MaxDepth.
	ErrTooDeep = errors.New("result nests too deep")
	// ErrInvalidValue: an operation's value is missing, not valid JSON, or
	// (RAW) not valid UTF-8.
	ErrInvalidValue = errors.New("invalid value")
	// ErrUnsupportedEncoding: a DiffOperation value encoding other than JSON
	// or RAW.
	ErrUnsupportedEncoding = errors.New("unsupported value encoding")
)

// OpError says which operation of a patch failed and why. Unwrap gives the
// cause, one of the Err values above (or a jsontree.SyntaxError for a value
// that is not JSON).
type OpError struct {
	// Index is the operation's position in the patch.
	Index int
	// Op is the operation name ("add", ...), or "" if it was not readable.
	Op   string
	Path string
	Err  error
}

func (e *OpError) Error() string {
	s := "jsonpatch: operation " + strconv.Itoa(e.Index)
	if e.Op != "" {
		s += " (" + e.Op + " " + strconv.Quote(truncate(e.Path)) + ")"
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// UnsupportedEncodingError is the cause when a DiffOperation carries a value
// encoding this engine does not decode (MSGPACK, PROTOBUF or unknown).
// errors.Is(err, ErrUnsupportedEncoding) is true for it.
type UnsupportedEncodingError struct {
	Encoding pb.DiffOperation_ValueEncoding
}

func (e *UnsupportedEncodingError) Error() string {
	return fmt.Sprintf("%v: %s (%d); only JSON and RAW are supported", ErrUnsupportedEncoding, e.Encoding, int32(e.Encoding))
}

// Is makes errors.Is(err, ErrUnsupportedEncoding) match.
func (e *UnsupportedEncodingError) Is(target error) bool { return target == ErrUnsupportedEncoding }

// detail wraps a sentinel with a description.
func detail(err error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{err}, args...)...)
}

// truncate keeps error messages short however long the hostile input.
func truncate(s string) string {
	const max = 120
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

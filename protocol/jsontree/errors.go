package jsontree

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel causes of a SyntaxError; test with errors.Is.
var (
	ErrSyntax           = errors.New("invalid JSON")
	ErrUnexpectedEnd    = errors.New("unexpected end of input")
	ErrTrailingData     = errors.New("trailing data after the value")
	ErrDuplicateKey     = errors.New("duplicate object key")
	ErrInvalidUTF8      = errors.New("invalid UTF-8")
	ErrLoneSurrogate    = errors.New("lone UTF-16 surrogate in escape")
	ErrInvalidEscape    = errors.New("invalid escape sequence")
	ErrControlCharacter = errors.New("unescaped control character in string")
	ErrInvalidNumber    = errors.New("invalid number")
	ErrTooDeep          = errors.New("nesting exceeds jsontree.MaxDepth")
)

// SyntaxError reports why and where Parse rejected its input.
type SyntaxError struct {
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Err is one of the sentinel errors above.
	Err error
	// Detail names the offending token, key or character, if any.
	Detail string
}

func (e *SyntaxError) Error() string {
	msg := "jsontree: " + e.Err.Error()
	if e.Detail != "" {
		msg += " " + e.Detail
	}
	return msg + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns the sentinel cause.
func (e *SyntaxError) Unwrap() error { return e.Err }

// quoteDetail quotes s for an error message, shortened so that hostile input
// cannot make error messages huge.
func quoteDetail(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

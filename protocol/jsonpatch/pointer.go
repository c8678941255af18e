package jsonpatch

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxPathChars is the longest pointer accepted, in characters (Unicode code
// points), as the upstream UI enforces (M-1101).
const MaxPathChars = 1000

// forbiddenSegments are rejected anywhere in a path or from: harmless to this
// Go engine, but fatal to JavaScript consumers of the same patches (M-710).
var forbiddenSegments = []string{"__proto__", "constructor", "prototype"}

// Pointer is a parsed RFC 6901 JSON pointer. The zero Pointer is the whole
// document ("").
type Pointer struct {
	text   string
	tokens []string
}

// ParsePointer parses an RFC 6901 pointer: "" or a sequence of "/token",
// where "~0" stands for "~" and "~1" for "/" and any other "~" is an error.
// Pointers longer than MaxPathChars, that are not valid UTF-8, or that
// contain a forbidden segment are rejected.
func ParsePointer(s string) (Pointer, error) {
	if len(s) > MaxPathChars*utf8.UTFMax || utf8.RuneCountInString(s) > MaxPathChars {
		return Pointer{}, detail(ErrPathTooLong, "%d characters, limit %d", utf8.RuneCountInString(s), MaxPathChars)
	}
	if !utf8.ValidString(s) {
		return Pointer{}, detail(ErrInvalidPointer, "not valid UTF-8")
	}
	if s == "" {
		return Pointer{}, nil
	}
	if s[0] != '/' {
		return Pointer{}, detail(ErrInvalidPointer, "%q does not start with '/'", truncate(s))
	}
	tokens := strings.Split(s[1:], "/")
	for i, tok := range tokens {
		if strings.IndexByte(tok, '~') >= 0 {
			unescaped, ok := unescapeToken(tok)
			if !ok {
				return Pointer{}, detail(ErrInvalidPointer, "bad '~' escape in %q", truncate(tok))
			}
			tokens[i] = unescaped
		}
		if slices.Contains(forbiddenSegments, tokens[i]) {
			return Pointer{}, detail(ErrForbiddenSegment, "%q", tokens[i])
		}
	}
	return Pointer{text: s, tokens: tokens}, nil
}

func unescapeToken(tok string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c != '~' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(tok) {
			return "", false
		}
		switch tok[i+1] {
		case '0':
			b.WriteByte('~')
		case '1':
			b.WriteByte('/')
		default:
			return "", false
		}
		i++
	}
	return b.String(), true
}

// String returns the pointer as it was written.
func (p Pointer) String() string { return p.text }

// Tokens returns the unescaped reference tokens; none for the root.
func (p Pointer) Tokens() []string { return slices.Clone(p.tokens) }

// IsRoot reports whether p names the whole document.
func (p Pointer) IsRoot() bool { return len(p.tokens) == 0 }

// isProperPrefixOf reports whether p names a strict ancestor of q.
func (p Pointer) isProperPrefixOf(q Pointer) bool {
	return len(p.tokens) < len(q.tokens) && slices.Equal(p.tokens, q.tokens[:len(p.tokens)])
}

func (p Pointer) equal(q Pointer) bool { return slices.Equal(p.tokens, q.tokens) }

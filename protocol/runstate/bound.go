package runstate

import (
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Everything a run keeps is bounded: strings from the wire are cut to a
// number of characters and copied, so a kept prefix never pins the whole
// (possibly megabytes long) decoded string.

const truncatedMark = "… [truncated]"

// boundString returns s cut to at most n characters (code points), with a
// mark when cut. Invalid UTF-8 becomes U+FFFD. The result never shares
// memory with a longer s.
func boundString(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s // n bytes hold at least n characters
	}
	count := 0
	for i := range s {
		if count == n {
			return strings.Clone(s[:i]) + truncatedMark
		}
		count++
	}
	return s
}

// boundBytes is boundString for a byte payload, e.g. tool arguments: valid
// UTF-8 is shown as text, anything else as a byte count.
func boundBytes(b []byte, n int) string {
	if len(b) == 0 {
		return ""
	}
	total, cut := len(b), false
	if len(b) > 4*n { // 4n bytes hold at least n characters
		b, cut = b[:4*n], true
		for i := 0; i < utf8.UTFMax-1 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1] // a character split by the cut
		}
	}
	if !utf8.Valid(b) {
		return "<" + strconv.Itoa(total) + " bytes, not UTF-8>"
	}
	s := boundString(string(b), n)
	if cut && !strings.HasSuffix(s, truncatedMark) {
		s += truncatedMark
	}
	return s
}

// hexID renders an id for display: up to 32 bytes in hex, longer ids as their
// first 16 bytes in hex plus the length (upstream's rule, bounded output).
func hexID(id []byte) string {
	if len(id) <= 32 {
		return hex.EncodeToString(id)
	}
	return hex.EncodeToString(id[:16]) + "...(" + strconv.Itoa(len(id)) + "b)"
}

// shortHex renders a hash for a reason text: the first 8 bytes.
func shortHex(b []byte) string {
	if len(b) > 8 {
		return hex.EncodeToString(b[:8]) + "…"
	}
	return hex.EncodeToString(b)
}

// allZero reports whether an id carries no information (empty or all zero
// bytes), which upstream treats as "no checkpoint".
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// sensitiveKey reports whether a tag, context or metadata key names a secret;
// such keys are not stored at all (U13). Keys are compared lowercase with '-'
// read as '_'.
func sensitiveKey(k string) bool {
	k = strings.ToLower(strings.ReplaceAll(k, "-", "_"))
	for _, s := range sensitiveParts {
		if strings.Contains(k, s) {
			return true
		}
	}
	// "token" alone or as a word ("auth_token", "x_token"), but not
	// "tokens" or "prompt_tokens", which are counts.
	for _, w := range strings.Split(k, "_") {
		if w == "token" || w == "jwt" || w == "bearer" {
			return true
		}
	}
	return false
}

var sensitiveParts = []string{"password", "passwd", "secret", "authorization", "cookie", "credential", "api_key", "apikey", "access_key", "private_key", "session_id", "signature"}

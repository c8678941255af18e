package replay

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// MaxThreadIDBytes bounds a thread id in the replay indexes.
const MaxThreadIDBytes = 256

// NormalizeThreadID trims whitespace and bounds a thread id to
// MaxThreadIDBytes: a longer id keeps its first bytes, cut on a character
// boundary (the upstream server panicked when the cut fell inside one), then
// "..." and 16 hex digits of its SHA-256, so distinct long ids stay distinct.
// An empty result means "no thread".
func NormalizeThreadID(id string) string {
	id = strings.TrimSpace(id)
	if len(id) <= MaxThreadIDBytes {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	cut := MaxThreadIDBytes - 3 - 16 - 1
	for cut > 0 && !utf8.RuneStart(id[cut]) {
		cut--
	}
	return id[:cut] + "..." + hex.EncodeToString(sum[:8])
}

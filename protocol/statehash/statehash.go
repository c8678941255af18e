// Package statehash computes DashStream's state_hash: SHA-256 over the
// canonical JSON of a run's state.
//
// Canonical JSON (DESIGN §3) is compact (no whitespace), writes object members
// sorted by the UTF-8 bytes of their names, escapes strings as serde_json and
// JSON.stringify do (jsontree.AppendQuoted), and writes every number exactly
// as its literal arrived. The last rule is stricter than either upstream form
// and is what makes hashes agree across languages: a Rust producer's 1.0
// stays 1.0 and 12345678901234567890 keeps every digit, so the consumer
// hashes the text the producer hashed.
//
// Input that has no single meaning is an error, never a silent hash:
// invalid JSON, trailing data, duplicate keys, lone surrogate escapes and
// invalid UTF-8 (see jsontree.Parse).
package statehash

import (
	"crypto/sha256"
	"fmt"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Size is the length of a state hash in bytes.
const Size = sha256.Size

// Canonicalize returns the canonical JSON of the document doc.
func Canonicalize(doc []byte) ([]byte, error) {
	n, err := jsontree.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("statehash: %w", err)
	}
	return AppendCanonical(make([]byte, 0, len(doc)), n), nil
}

// Sum returns the SHA-256 of the canonical JSON of doc.
func Sum(doc []byte) ([32]byte, error) {
	n, err := jsontree.Parse(doc)
	if err != nil {
		return [32]byte{}, fmt.Errorf("statehash: %w", err)
	}
	// The canonical text is about the document's size: one buffer of that
	// size instead of growing one by doubling (half the allocations).
	h := Hasher{buf: make([]byte, 0, len(doc)+len(doc)/16+64)}
	return h.Sum(nil, n), nil
}

// CanonicalizeTree returns the canonical JSON of a parsed document.
func CanonicalizeTree(n *jsontree.Node) []byte { return AppendCanonical(nil, n) }

// SumTree returns the SHA-256 of the canonical JSON of a parsed document.
// (To hash successive versions of one document, use a Hasher and a Chain.)
func SumTree(n *jsontree.Node) [32]byte {
	var h Hasher
	return h.Sum(nil, n)
}

// AppendCanonical appends the canonical JSON of n to dst.
func AppendCanonical(dst []byte, n *jsontree.Node) []byte {
	h := Hasher{buf: dst, c: &Chain{NoSubtreeCache: true}, firstDiff: 0}
	h.value(n)
	return h.buf
}

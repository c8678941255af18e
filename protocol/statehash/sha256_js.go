//go:build js

package statehash

import "hash"

// newSHA256 returns the SHA-256 the hashing uses: in WebAssembly, digest
// (see sha256.go), about twice the standard library's portable speed.
func newSHA256() hash.Hash { return newDigest() }

//go:build !js

package statehash

import (
	"crypto/sha256"
	"hash"
)

// newSHA256 returns the SHA-256 the hashing uses: crypto/sha256, which
// uses the processor's SHA instructions where it has them.
func newSHA256() hash.Hash { return sha256.New() }

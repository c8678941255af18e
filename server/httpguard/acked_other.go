//go:build !linux

package httpguard

import "net"

// ackedBytes is unknown here: each WriteChunk gets its own WriteStall.
func ackedBytes(net.Conn) func() (uint64, bool) { return nil }

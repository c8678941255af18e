package hub

import (
	"encoding/binary"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/replay"
)

// WebSocket opcodes of the frames appendPair writes (RFC 6455 §5.2).
const (
	opText   = 0x1
	opBinary = 0x2
	finBit   = 0x80
)

// appendFrame appends one final, unmasked server frame.
func appendFrame(b []byte, opcode byte, payload []byte) []byte {
	b = append(b, finBit|opcode)
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// appendPair appends a record's two frames, its cursor and its value, as
// they go on the wire.
//
// Records are framed here rather than by coder/websocket's Write, which
// every other message still uses: Write takes two lock channels and sets up
// its context for every frame, a fifth of the gateway's CPU with 1,000
// clients following a live stream (issue 13 §3, measured with perf), and the
// same two frames go to every client, so Publish frames a record once for
// all of them. The frames go through the connection's corkConn, where the
// library's own writes (pongs, the close frame) also go, each in one piece;
// so frames never interleave.
func appendPair(b []byte, rec replay.Record) []byte {
	var cursor [96]byte
	b = appendFrame(b, opText, (&control.Cursor{Partition: rec.Partition, Offset: rec.Offset}).AppendJSON(cursor[:0]))
	return appendFrame(b, opBinary, rec.Value)
}

// pairSize is the length of appendPair's output, at most.
func pairSize(rec replay.Record) int { return 2*10 + 96 + len(rec.Value) }

package redisstore

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// threadHeaderLen is the size of the header of a thread value (§5.3): the
// partition as int32 little-endian, then the offset as int64 little-endian,
// then the raw Kafka value.
const threadHeaderLen = 12

// encodeThreadValue builds a thread value.
func encodeThreadValue(p int32, o int64, value []byte) []byte {
	b := make([]byte, threadHeaderLen+len(value))
	binary.LittleEndian.PutUint32(b[0:4], uint32(p))
	binary.LittleEndian.PutUint64(b[4:12], uint64(o))
	copy(b[threadHeaderLen:], value)
	return b
}

var errShortThreadValue = errors.New("thread value shorter than its 12-byte header")

// decodeThreadValue splits a thread value; value aliases b.
//
// Upstream read a value shorter than 12 bytes as a legacy payload at cursor
// (0, 0), a fake position that corrupts client cursors (§15 item 5); such a
// value is an error here, and the read scripts skip it.
func decodeThreadValue(b []byte) (p int32, o int64, value []byte, err error) {
	if len(b) < threadHeaderLen {
		return 0, 0, nil, fmt.Errorf("%w: %d bytes", errShortThreadValue, len(b))
	}
	p = int32(binary.LittleEndian.Uint32(b[0:4]))
	o = int64(binary.LittleEndian.Uint64(b[4:12]))
	return p, o, b[threadHeaderLen:], nil
}

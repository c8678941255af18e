package cursors

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// The stored format: one JSON object, members in least-recently-updated
// order, each value a decimal string. Reading also takes the integer
// numbers older versions wrote.

// maxStoredBytes bounds a stored value read back: 100 partitions or 500
// threads take a few tens of kilobytes; anything far larger is not ours.
const maxStoredBytes = 1 << 20

// maxThreadIDBytes bounds a thread id kept as a key.
const maxThreadIDBytes = 1024

// member is one stored entry, in stored order.
type member struct {
	key    string
	digits string // the value's decimal digits
}

var errNotObject = errors.New("not a JSON object")

// decodeObject reads a stored value. A value that is not a JSON object of
// the expected shape is an error (the caller starts empty); an entry whose
// value is not a non-negative integer is dropped and reported in bad.
func decodeObject(raw string) (members []member, bad []string, err error) {
	if len(raw) > maxStoredBytes {
		return nil, nil, fmt.Errorf("%d bytes, larger than %d", len(raw), maxStoredBytes)
	}
	if !utf8.ValidString(raw) {
		return nil, nil, errors.New("not valid UTF-8")
	}
	doc, err := jsontree.Parse([]byte(raw))
	if err != nil {
		return nil, nil, err
	}
	if doc.Kind() != jsontree.Object {
		return nil, nil, fmt.Errorf("%w: a JSON %s", errNotObject, doc.Kind())
	}
	for i := range doc.Len() {
		k, v := doc.Member(i)
		if (v.Kind() == jsontree.String || v.Kind() == jsontree.Number) && allDigits(v.Literal()) {
			members = append(members, member{key: k, digits: v.Literal()})
			continue
		}
		bad = append(bad, k)
	}
	return members, bad, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parsePartition reads a partition key: a canonical decimal int32 ≥ 0.
func parsePartition(k string) (int32, bool) {
	if !allDigits(k) || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseInt(k, 10, 32)
	return int32(n), err == nil
}

// parseOffset reads an offset's digits: 0 ≤ offset ≤ MaxInt64 (leading
// zeros allowed, as upstream accepted them).
func parseOffset(d string) (int64, bool) {
	n, err := strconv.ParseInt(d, 10, 64)
	return n, err == nil
}

// parseSequence reads a sequence's digits: 0 ≤ seq ≤ MaxUint64.
func parseSequence(d string) (uint64, bool) {
	n, err := strconv.ParseUint(d, 10, 64)
	return n, err == nil
}

func validThread(k string) bool {
	return k != "" && len(k) <= maxThreadIDBytes && utf8.ValidString(k)
}

// appendEntry appends "key":"value" to a JSON object being written.
func appendEntry(dst []byte, key, value string) []byte {
	if len(dst) > 1 {
		dst = append(dst, ',')
	}
	dst = jsontree.AppendQuoted(dst, key)
	dst = append(dst, ':', '"')
	dst = append(dst, value...)
	return append(dst, '"')
}

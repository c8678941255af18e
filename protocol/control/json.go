package control

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// This file holds the hand-written JSON writer. Every message starts its
// frame with beginObject, which writes the "type" member, so each further
// member is preceded by a comma (appendMember).

// beginObject appends `{"type":"<typ>"`. typ is one of the package's type
// constants, which need no escaping.
func beginObject(dst []byte, typ string) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	return append(dst, '"')
}

// appendMember appends `,"<name>":`. name is one of the package's member
// names, which need no escaping.
func appendMember(dst []byte, name string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

// appendInt appends n as a JSON number.
func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// appendQuotedInt appends n as a JSON string holding its decimal form, the
// wire form of offsets.
func appendQuotedInt(dst []byte, n int64) []byte {
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '"')
}

// appendQuotedUint appends n as a JSON string holding its decimal form, the
// wire form of sequences.
func appendQuotedUint(dst []byte, n uint64) []byte {
	dst = append(dst, '"')
	dst = strconv.AppendUint(dst, n, 10)
	return append(dst, '"')
}

// appendBool appends a JSON boolean.
func appendBool(dst []byte, b bool) []byte { return strconv.AppendBool(dst, b) }

// formatUint returns the decimal form of n.
func formatUint(n uint64) string { return strconv.FormatUint(n, 10) }

// appendString appends s as a JSON string with the escaping of the rest of
// the protocol (jsontree.AppendQuoted). Invalid UTF-8 is replaced by U+FFFD
// first, so the output is always valid JSON in valid UTF-8.
func appendString(dst []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return jsontree.AppendQuoted(dst, s)
}

// appendOffsetMap appends m as a JSON object {"<partition>":"<offset>"} with
// keys in ascending numeric order. A nil map is written as {}.
func appendOffsetMap(dst []byte, m map[int32]int64) []byte {
	dst = append(dst, '{')
	keys := make([]int32, 0, len(m))
	for p := range m {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	for i, p := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, int64(p), 10)
		dst = append(dst, '"', ':')
		dst = appendQuotedInt(dst, m[p])
	}
	return append(dst, '}')
}

// appendSequenceMap appends m as a JSON object {"<thread id>":"<sequence>"}
// with keys in ascending bytewise order. A nil map is written as {}.
func appendSequenceMap(dst []byte, m map[string]uint64) []byte {
	dst = append(dst, '{')
	keys := make([]string, 0, len(m))
	for t := range m {
		keys = append(keys, t)
	}
	slices.Sort(keys)
	for i, t := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, t)
		dst = append(dst, ':')
		dst = appendQuotedUint(dst, m[t])
	}
	return append(dst, '}')
}

package redisstore

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// KeyPrefixBase is the first segment of every key; the resume namespace
// follows it (upstream §5.2).
const KeyPrefixBase = "dashstream-replay"

// KeyPrefix is the prefix of every key of a namespace:
// "dashstream-replay:{namespace}".
func KeyPrefix(namespace string) string { return KeyPrefixBase + ":" + namespace }

// keys builds the upstream key layout (§5.3) under one prefix.
type keys struct{ prefix string }

// offset is the value key of one partition record.
func (k keys) offset(p int32, o int64) string {
	return k.prefix + ":partition:" + strconv.FormatInt(int64(p), 10) + ":offset:" + strconv.FormatInt(o, 10)
}

// offsets is the ZSET of a partition's offset keys, scored by offset.
func (k keys) offsets(p int32) string {
	return k.prefix + ":partition:" + strconv.FormatInt(int64(p), 10) + ":offsets"
}

// threadSeq is the value key of one thread entry; tid is already sanitised.
func (k keys) threadSeq(tid string, seq uint64) string {
	return k.prefix + ":thread:" + tid + ":seq:" + strconv.FormatUint(seq, 10)
}

// sequences is the ZSET of a thread's keys, scored by sequence.
func (k keys) sequences(tid string) string { return k.prefix + ":thread:" + tid + ":sequences" }

// partitions is our addition to the layout: the SET of partition ids that
// hold records, so listing partitions needs no keyspace SCAN (upstream
// §15 item 19). Its name does not match upstream's SCAN pattern
// "{prefix}:partition:*:offsets", and upstream's Clear pattern
// "{prefix}:*" removes it with the rest.
func (k keys) partitions() string { return k.prefix + ":partitions" }

// offsetsPattern is the SCAN pattern upstream uses to find partitions.
func (k keys) offsetsPattern() string { return escapeGlob(k.prefix) + ":partition:*:offsets" }

// all is the SCAN pattern of every key of the namespace.
func (k keys) all() string { return escapeGlob(k.prefix) + ":*" }

// escapeGlob quotes the characters Redis's MATCH treats as special, so a
// namespace can never widen a SCAN to another namespace's keys.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\^`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '^':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// maxRawThreadID is the longest thread id kept as is in keys (§5.6).
const maxRawThreadID = 128

// encodedPrefix marks a base64url-encoded thread id in keys.
const encodedPrefix = "b64_"

// sanitizeThreadID maps a thread id to its key segment (upstream §5.6 and
// M-1032): unchanged when it is at most 128 bytes of [A-Za-z0-9_-], else
// "b64_" + base64url without padding of its bytes.
//
// One deviation makes the mapping injective: an id that itself starts with
// "b64_" is always encoded. Upstream keeps such an id raw, so "b64_OjE" and
// ":1" (which encodes to "b64_OjE") share keys there.
func sanitizeThreadID(id string) string {
	if len(id) <= maxRawThreadID && !strings.HasPrefix(id, encodedPrefix) && safeKeySegment(id) {
		return id
	}
	return encodedPrefix + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// safeKeySegment reports whether s is non-empty and only [A-Za-z0-9_-].
func safeKeySegment(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

var errBadThreadSegment = errors.New("not a thread key segment")

// parseThreadSegment inverts sanitizeThreadID. It accepts both forms a
// reader meets: a raw id, and "b64_" + canonical base64url (which also
// decodes segments upstream wrote). A raw segment that sanitizeThreadID
// would have encoded is refused, so parse∘sanitize is the identity and
// sanitize∘parse is too on everything parse accepts.
func parseThreadSegment(seg string) (string, error) {
	if rest, ok := strings.CutPrefix(seg, encodedPrefix); ok {
		raw, err := base64.RawURLEncoding.Strict().DecodeString(rest)
		if err != nil {
			return "", fmt.Errorf("%w: %q: %w", errBadThreadSegment, seg, err)
		}
		id := string(raw)
		if sanitizeThreadID(id) != seg {
			// Upstream's raw form of a short safe id: valid data, but
			// ambiguous, so a reader cannot attribute it.
			return "", fmt.Errorf("%w: %q encodes %q, which is written raw", errBadThreadSegment, seg, id)
		}
		return id, nil
	}
	if len(seg) > maxRawThreadID || !safeKeySegment(seg) {
		return "", fmt.Errorf("%w: %q", errBadThreadSegment, seg)
	}
	return seg, nil
}

var errBadMember = errors.New("not a replay key")

// memberNumber returns the decimal after the last ':' of a key: the offset
// of "{prefix}:partition:{p}:offset:{o}" and the sequence of
// "{prefix}:thread:{tid}:seq:{s}". Upstream reads offsets after the last
// ":offset:"; both agree on every key either side writes, since a
// sanitised thread id never contains ':'.
func memberNumber(member string) (string, error) {
	i := strings.LastIndexByte(member, ':')
	digits := member[i+1:]
	if i < 0 || !canonicalDecimal(digits) {
		return "", fmt.Errorf("%w: %q has no decimal after its last ':'", errBadMember, member)
	}
	return digits, nil
}

// canonicalDecimal reports whether s is a non-negative decimal without a
// sign or leading zeros (what strconv.Format* writes).
func canonicalDecimal(s string) bool {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseOffsetMember returns the offset of an offsets-ZSET member.
func parseOffsetMember(member string) (int64, error) {
	i := strings.LastIndex(member, ":offset:")
	if i < 0 {
		return 0, fmt.Errorf("%w: %q has no :offset:", errBadMember, member)
	}
	digits := member[i+len(":offset:"):]
	if !canonicalDecimal(digits) {
		return 0, fmt.Errorf("%w: %q: offset %q is not a decimal", errBadMember, member, digits)
	}
	o, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %w", errBadMember, member, err)
	}
	return o, nil
}

// parseSeqMember returns the sequence of a sequences-ZSET member.
func parseSeqMember(member string) (uint64, error) {
	digits, err := memberNumber(member)
	if err != nil {
		return 0, err
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %w", errBadMember, member, err)
	}
	return seq, nil
}

// parseOffsetsKey returns the partition of "{prefix}:partition:{p}:offsets"
// (upstream: segment[-3] == "partition", segment[-1] == "offsets").
func parseOffsetsKey(key string) (int32, bool) {
	seg := strings.Split(key, ":")
	if len(seg) < 4 || seg[len(seg)-3] != "partition" || seg[len(seg)-1] != "offsets" {
		return 0, false
	}
	digits := seg[len(seg)-2]
	if !canonicalDecimal(digits) {
		return 0, false
	}
	p, err := strconv.ParseInt(digits, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(p), true
}

package producer

import (
	"github.com/dashstream/dashstream/protocol/jsontree"
)

// canonWriter writes the canonical JSON of successive versions of one run's
// state, byte for byte the text protocol/statehash hashes (members sorted by
// the bytes of their names, strings escaped by jsontree.AppendQuoted,
// numbers as their literals, no white space), and remembers the text of the
// containers it wrote. A version that shares a container with an earlier
// one (the same *jsontree.Node, as versions made with jsontree's update
// methods do) copies its text instead of writing it again, so each update
// costs the size of the change plus a copy of the rest, not a full
// serialization. The hash itself still covers every byte.
//
// TestCanonWriter_MatchesStatehash and the state-stream fuzz target hold it
// to statehash's output.
type canonWriter struct {
	cache    map[*jsontree.Node][]byte
	bytes    int
	versions int
	lastLen  int
}

const (
	// Containers whose text is shorter than canonMinCache are rewritten:
	// copying them saves less than remembering them costs. Longer than
	// canonMaxCache, they are rarely unchanged (a change anywhere inside
	// makes them new) and their children are remembered anyway.
	canonMinCache = 48
	canonMaxCache = 8 << 10
	// The cache is rebuilt every canonRebuildEvery versions, and when it
	// holds more than canonMaxRatio times the state's size, dropping the
	// text of containers no longer in the state.
	canonRebuildEvery = 64
	canonMaxRatio     = 4
)

// append appends the canonical JSON of root to dst. Without reuse (a state
// parsed afresh shares nothing with the previous one) nothing is cached.
func (c *canonWriter) append(dst []byte, root *jsontree.Node, reuse bool) []byte {
	if !reuse {
		c.cache, c.bytes = nil, 0
		return c.value(dst, root, true)
	}
	c.versions++
	if c.cache == nil || c.versions%canonRebuildEvery == 0 || c.bytes > canonMaxRatio*c.lastLen+canonMaxCache {
		c.cache = make(map[*jsontree.Node][]byte, len(c.cache))
		c.bytes = 0
	}
	start := len(dst)
	dst = c.value(dst, root, true)
	c.lastLen = len(dst) - start
	return dst
}

func (c *canonWriter) value(dst []byte, n *jsontree.Node, root bool) []byte {
	switch n.Kind() {
	case jsontree.String:
		return jsontree.AppendQuoted(dst, n.Literal())
	case jsontree.Array, jsontree.Object:
	default:
		return append(dst, n.Literal()...)
	}
	if text, ok := c.cache[n]; ok {
		return append(dst, text...)
	}
	// (A nil cache is never read from or written to: lookups miss and the
	// store below is skipped.)
	start := len(dst)
	if n.Kind() == jsontree.Array {
		dst = append(dst, '[')
		for i := range n.Len() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = c.value(dst, n.Index(i), false)
		}
		dst = append(dst, ']')
	} else {
		dst = append(dst, '{')
		for i := range n.Len() {
			if i > 0 {
				dst = append(dst, ',')
			}
			name, v := n.SortedMember(i)
			dst = jsontree.AppendQuoted(dst, name)
			dst = append(dst, ':')
			dst = c.value(dst, v, false)
		}
		dst = append(dst, '}')
	}
	if size := len(dst) - start; c.cache != nil && !root && size >= canonMinCache && size <= canonMaxCache {
		c.cache[n] = append([]byte(nil), dst[start:]...)
		c.bytes += size
	}
	return dst
}

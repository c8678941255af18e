package runstate

import (
	"crypto/sha256"
	"hash"
	"slices"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Hashing a state after every change costs a canonical serialization and a
// SHA-256 of the whole state; in the browser (no SHA instructions, no SIMD)
// that is most of the apply loop. Trees are immutable, so a subtree that is
// the same pointer as in the previous version has the same canonical text:
// each run caches the text of its stable subtrees and copies it instead of
// serializing again. Only the path a diff changed is written afresh; the
// SHA-256 over the whole text remains.
//
// A subtree is cached the second time in a row it is seen (so the nodes a
// diff replaces every time, like the root, are never copied into the
// cache), only when its text is at least minCachedText bytes, and while the
// store's total stays within Config.MaxHashCacheBytes. Entries not used by
// a pass are dropped, so a run's cache holds about one copy of its state.
//
// The canonical form written here is statehash's (sorted members,
// jsontree.AppendQuoted strings, number literals as received); a test and
// the fuzz target check that both always agree.

const (
	// minCachedText: smaller subtrees are cheaper to write than to look up.
	minCachedText = 64
	// flushText: the pending text is fed to the hash beyond this size; a
	// subtree whose text was flushed midway is not cached.
	flushText = 64 << 10
)

type canonCache struct {
	text  map[*jsontree.Node]*cachedText
	seen  map[*jsontree.Node]uint32 // candidates: pass they were last written in
	gen   uint32
	bytes int
	hits  int
}

type cachedText struct {
	b   []byte
	gen uint32 // last pass that used it
}

// stateHasher is the store's reusable hashing state.
type stateHasher struct {
	d       hash.Hash
	buf     []byte
	flushes int
}

// hashRun returns the state_hash of root, a state of run r, using and
// updating r's cache.
func (s *Store) hashRun(r *Run, root *jsontree.Node) [32]byte {
	h := &s.hasher
	if h.d == nil {
		h.d = sha256.New()
	}
	h.d.Reset()
	h.buf = h.buf[:0]
	c := &r.canon
	c.gen++
	s.canonValue(c, root)
	h.d.Write(h.buf)
	var sum [32]byte
	h.d.Sum(sum[:0])
	if cap(h.buf) > 2*flushText {
		h.buf = nil
	}
	s.sweepCanon(c)
	return sum
}

func (s *Store) canonValue(c *canonCache, n *jsontree.Node) {
	h := &s.hasher
	switch n.Kind() {
	case jsontree.String:
		h.buf = jsontree.AppendQuoted(h.buf, n.Literal())
	case jsontree.Array, jsontree.Object:
		if e, ok := c.text[n]; ok {
			e.gen = c.gen
			c.hits++
			h.buf = append(h.buf, e.b...)
			break
		}
		start, flushes := len(h.buf), h.flushes
		if n.Kind() == jsontree.Array {
			h.buf = append(h.buf, '[')
			for i := range n.Len() {
				if i > 0 {
					h.buf = append(h.buf, ',')
				}
				s.canonValue(c, n.Index(i))
			}
			h.buf = append(h.buf, ']')
		} else {
			h.buf = append(h.buf, '{')
			for i := range n.Len() {
				if i > 0 {
					h.buf = append(h.buf, ',')
				}
				name, v := n.SortedMember(i)
				h.buf = jsontree.AppendQuoted(h.buf, name)
				h.buf = append(h.buf, ':')
				s.canonValue(c, v)
			}
			h.buf = append(h.buf, '}')
		}
		if size := len(h.buf) - start; size >= minCachedText && h.flushes == flushes {
			s.remember(c, n, h.buf[start:])
		}
	default:
		h.buf = append(h.buf, n.Literal()...)
	}
	if len(h.buf) >= flushText {
		h.d.Write(h.buf)
		h.buf = h.buf[:0]
		h.flushes++
	}
}

// remember caches text for n if n was also written in the previous pass
// (it is stable), else marks it as a candidate.
func (s *Store) remember(c *canonCache, n *jsontree.Node, text []byte) {
	if g, ok := c.seen[n]; ok && g == c.gen-1 {
		if s.canonBytes+len(text) > s.cfg.MaxHashCacheBytes {
			return
		}
		if c.text == nil {
			c.text = make(map[*jsontree.Node]*cachedText)
		}
		c.text[n] = &cachedText{b: slices.Clone(text), gen: c.gen}
		c.bytes += len(text)
		s.canonBytes += len(text)
		delete(c.seen, n)
		return
	}
	if c.seen == nil {
		c.seen = make(map[*jsontree.Node]uint32)
	}
	c.seen[n] = c.gen
}

// sweepCanon drops what the last pass did not use: cached texts of subtrees
// no longer in the state (or now inside a cached parent) and stale
// candidates.
func (s *Store) sweepCanon(c *canonCache) {
	for n, e := range c.text {
		if e.gen != c.gen {
			c.bytes -= len(e.b)
			s.canonBytes -= len(e.b)
			delete(c.text, n)
		}
	}
	for n, g := range c.seen {
		if g != c.gen {
			delete(c.seen, n)
		}
	}
}

// dropCanon releases a run's cache (the run is evicted or reset).
func (s *Store) dropCanon(r *Run) {
	s.canonBytes -= r.canon.bytes
	r.canon = canonCache{}
}

package runstate

import (
	"crypto/sha256"
	"encoding"
	"hash"
	"slices"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Hashing a state after every change costs a canonical serialization and a
// SHA-256 of the whole state; in the browser (no SHA instructions, no SIMD)
// that is most of the apply loop. Trees are immutable, so a subtree that is
// the same pointer as in the previous version has the same canonical text:
// each run caches the text of its stable subtrees and copies it instead of
// serializing again. Only the path a diff changed is written afresh.
//
// The SHA-256 itself resumes too: SHA-256 reads its input in order, so the
// state it reaches after a prefix of the text depends on that prefix only.
// Each run keeps its last text and the hash states after every midEvery
// bytes of it; the next text, compared byte by byte, is hashed from the
// last saved state inside the prefix both share. Canonical members are
// sorted, so a change to one member leaves the text before it unchanged:
// in the browser this halves the cost of a small diff on a 1 KB state and
// divides it by three on 10 KB.
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
	// midEvery is the distance between saved SHA-256 states: a multiple of
	// the block size, small enough that a change costs little of the
	// hash, large enough that saving states costs less than it saves.
	midEvery = 256
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

	// prev is the last canonical text hashed in one piece, and mids the
	// SHA-256 states after each midEvery bytes of it (midSize bytes each):
	// the next hash resumes from the last state inside the prefix the two
	// texts share. Their bytes count in bytes, within the same budget.
	prev, mids []byte
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

	// app and unm save and restore d's state, midSize bytes long (0: the
	// hash cannot, and every text is hashed from its start).
	app     encoding.BinaryAppender
	unm     encoding.BinaryUnmarshaler
	midSize int
	// resumed counts the bytes not hashed again thanks to a saved state.
	resumed int
}

// hashRun returns the state_hash of root, a state of run r, using and
// updating r's cache.
func (s *Store) hashRun(r *Run, root *jsontree.Node) [32]byte {
	h := &s.hasher
	if h.d == nil {
		h.init()
	}
	h.d.Reset()
	h.buf = h.buf[:0]
	c := &r.canon
	c.gen++
	flushes := h.flushes
	s.canonValue(c, root)
	if h.flushes == flushes {
		s.resumeHash(c, h.buf)
	} else { // written in pieces: no single text to resume from
		h.d.Write(h.buf)
		s.forgetText(c)
	}
	var sum [32]byte
	h.d.Sum(sum[:0])
	if cap(h.buf) > 2*flushText {
		h.buf = nil
	}
	s.sweepCanon(c)
	return sum
}

// resumeHash writes text into the reset hasher, starting from the saved
// state at the last midEvery boundary inside the prefix text shares with
// the previous text (a diff usually leaves most of the canonical text as
// it was), and saves the states and text for the next pass.
func (s *Store) resumeHash(c *canonCache, text []byte) {
	h := &s.hasher
	before := cap(c.prev) + cap(c.mids)
	k := 0
	if h.midSize > 0 {
		k = min(commonPrefix(c.prev, text)/midEvery, len(c.mids)/h.midSize)
		if k > 0 && h.unm.UnmarshalBinary(c.mids[(k-1)*h.midSize:k*h.midSize]) != nil {
			h.d.Reset()
			k = 0
		}
	}
	// The text and its states cost about 1.5 times the text, within the
	// budget of the subtree cache.
	keep := h.midSize > 0 && s.canonBytes-before+len(text)*3/2 <= s.cfg.MaxHashCacheBytes
	if keep {
		c.mids = c.mids[:k*h.midSize]
	}
	pos := k * midEvery
	h.resumed += pos
	for ; pos+midEvery <= len(text); pos += midEvery {
		h.d.Write(text[pos : pos+midEvery])
		if keep {
			c.mids, _ = h.app.AppendBinary(c.mids)
		}
	}
	h.d.Write(text[pos:])
	if !keep {
		s.forgetText(c)
		return
	}
	c.prev = append(c.prev[:0], text...)
	grown := cap(c.prev) + cap(c.mids) - before
	c.bytes += grown
	s.canonBytes += grown
}

// forgetText drops the saved text and states of c.
func (s *Store) forgetText(c *canonCache) {
	n := cap(c.prev) + cap(c.mids)
	c.bytes -= n
	s.canonBytes -= n
	c.prev, c.mids = nil, nil
}

// init makes the store's SHA-256, and finds whether its state can be
// saved and restored (crypto/sha256's can).
func (h *stateHasher) init() {
	h.d = sha256.New()
	app, ok1 := h.d.(encoding.BinaryAppender)
	unm, ok2 := h.d.(encoding.BinaryUnmarshaler)
	if !ok1 || !ok2 {
		return
	}
	b, err := app.AppendBinary(nil)
	if err != nil {
		return
	}
	h.app, h.unm, h.midSize = app, unm, len(b)
}

// commonPrefix is the length of the prefix a and b share.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
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

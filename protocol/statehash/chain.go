package statehash

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
	"sync"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Hashing a state after every change costs a canonical serialization and a
// SHA-256 of the whole state: in the browser (no SHA instructions, no SIMD)
// most of the apply loop, in the producer most of an update. A Chain makes
// each version of a document cheaper to hash than the last, in two ways.
//
// The text of stable subtrees is copied, not written. Trees are immutable,
// so a container that is the same *jsontree.Node as in the previous version
// has the same canonical text: the chain keeps the previous text and, for
// each container of at least minCachedText bytes, where its text lies in
// it. Only the path a change made new is written afresh.
//
// The SHA-256 resumes from the shared prefix. SHA-256 reads its input in
// order, so its state after a prefix depends on that prefix only. The chain
// keeps the hash states after every midEvery bytes of the previous text; the
// next text is hashed from the last saved state inside the prefix both
// share. Canonical members are sorted, so a change to one member leaves the
// text before it as it was. Where that prefix ends is found while writing:
// a stable subtree copied to the very offset it had before extends it
// without a comparison, so only freshly written bytes are compared.
//
// The result is always SumTree's: tests and FuzzChain hold the two to the
// same bytes over random version histories.

const (
	// midEvery is the distance between saved SHA-256 states: a multiple of
	// the block size, small enough that a change costs little of the hash
	// (in the browser a 64-byte block costs about a microsecond), large
	// enough that saving states costs less than it saves. A state is kept
	// in 32 bytes (see compactState), a quarter of the text it covers.
	midEvery = 128
	// minCachedText: smaller subtrees are cheaper to write than to look up.
	minCachedText = 64
	// spanCost is what one remembered subtree costs in memory (map entry),
	// counted against MaxBytes.
	spanCost = 48
	// maxIdleBuf: a larger working buffer is not reused.
	maxIdleBuf = 1 << 20
)

// Chain is what the hash of one version of a document leaves for the next:
// the previous canonical text, where its stable subtrees lie in it, and the
// SHA-256 states along it. The zero Chain is ready; it is used with one
// Hasher. Each run of DashStream (a sequence of versions of one state)
// keeps one.
type Chain struct {
	// NoSubtreeCache, when set, stops the chain remembering subtrees, for
	// versions that share no nodes (each parsed afresh from text), where
	// remembering them costs and never pays. The SHA-256 still resumes.
	NoSubtreeCache bool

	// index locates each remembered subtree's span in spans (one map
	// lookup per subtree; a hit updates the span in place).
	index map[*jsontree.Node]int32
	spans []span
	gen   uint32
	prev  []byte // the previous canonical text
	mids  []byte // SHA-256 states after each midEvery bytes of prev
	bytes int    // memory held, counted in the Hasher's total
	hits  int    // subtrees copied (tests)
}

// span locates the canonical text of node: prev[off:off+n] when gen is the
// chain's previous pass, the working buffer's when it is the current one,
// stale otherwise.
type span struct {
	node   *jsontree.Node
	off, n int
	gen    uint32
}

// Bytes returns the memory the chain holds between versions.
func (c *Chain) Bytes() int { return c.bytes }

// Hasher hashes versions of documents along their Chains, reusing one
// buffer and one SHA-256 between calls. The zero Hasher is ready. It is not
// safe for concurrent use: share one among the chains one goroutine (or one
// lock) hashes, like a store's runs.
type Hasher struct {
	// MaxBytes bounds the memory all chains hashed with h keep between
	// versions (0: no bound). A chain that would exceed it keeps nothing
	// and its next version is hashed from scratch.
	MaxBytes int

	d       hash.Hash
	app     encoding.BinaryAppender
	unm     encoding.BinaryUnmarshaler
	midSize int // 0: the hash state cannot be saved; nothing resumes
	// compact: states are kept as their 32 bytes of chaining value only
	// (template is a whole saved state to rebuild them in, tmp scratch).
	compact            bool
	template, tmp, sum []byte
	used               int

	// The pass in progress: the text being written, the chain, how far
	// the text is known equal to c.prev, and where they first differ
	// (-1 while unknown).
	buf       []byte
	c         *Chain
	checked   int
	firstDiff int
	live      int

	// resumed counts the bytes not hashed again thanks to a saved state
	// (tests).
	resumed int
}

// Bytes returns the memory held by all chains hashed with h.
func (h *Hasher) Bytes() int { return h.used }

// Text returns the canonical text of the document of the last Sum. It is
// valid until the next call of Sum.
func (h *Hasher) Text() []byte { return h.buf }

// Release drops what c keeps (its document is gone or starts over).
func (h *Hasher) Release(c *Chain) {
	h.used -= c.bytes
	*c = Chain{NoSubtreeCache: c.NoSubtreeCache}
}

// Forget sets the memory count to zero, when every chain hashed with h has
// been dropped at once.
func (h *Hasher) Forget() { h.used = 0 }

func (h *Hasher) init() {
	h.d = newSHA256()
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
	if compactWorks() {
		h.compact, h.template, h.midSize = true, b, compactSize
	}
}

// A saved SHA-256 state (crypto/sha256's binary form) is a 4-byte magic,
// the 32-byte chaining value, the 64-byte block buffer and the 8-byte
// length. At a block boundary the buffer is empty and the length is where
// the state was taken, so the chaining value alone is enough: a chain
// keeps 32 bytes per state instead of 108. compactWorks checks that form
// once, by resuming a hash from a rebuilt state; if crypto/sha256 ever
// changes it, states are kept whole.
const (
	compactSize = 32
	compactOff  = 4
	stateSize   = compactOff + compactSize + 64 + 8
)

var compactWorks = sync.OnceValue(func() bool {
	var h Hasher
	h.d = newSHA256()
	app, ok1 := h.d.(encoding.BinaryAppender)
	unm, ok2 := h.d.(encoding.BinaryUnmarshaler)
	if !ok1 || !ok2 {
		return false
	}
	h.app, h.unm = app, unm
	fresh, err := app.AppendBinary(nil)
	if err != nil || len(fresh) != stateSize {
		return false
	}
	text := make([]byte, 3*midEvery/2)
	for i := range text {
		text[i] = byte(i * 7)
	}
	want := sha256.Sum256(text)
	h.d.Reset()
	h.d.Write(text[:midEvery])
	saved, err := h.app.AppendBinary(nil)
	if err != nil || len(saved) != stateSize {
		return false
	}
	h.template = fresh
	if h.restore(saved[compactOff:compactOff+compactSize], midEvery, true) != nil {
		return false
	}
	h.d.Write(text[midEvery:])
	return [32]byte(h.d.Sum(nil)) == want
})

// save appends the hash's state, taken after a multiple of midEvery bytes,
// to mids.
func (h *Hasher) save(mids []byte) []byte {
	if !h.compact {
		mids, _ = h.app.AppendBinary(mids)
		return mids
	}
	h.tmp, _ = h.app.AppendBinary(h.tmp[:0])
	return append(mids, h.tmp[compactOff:compactOff+compactSize]...)
}

// restore sets the hash to a state save kept after pos bytes.
func (h *Hasher) restore(state []byte, pos int, compact bool) error {
	if !compact {
		return h.unm.UnmarshalBinary(state)
	}
	b := append(h.tmp[:0], h.template...)
	copy(b[compactOff:], state)
	binary.BigEndian.PutUint64(b[stateSize-8:], uint64(pos))
	h.tmp = b
	return h.unm.UnmarshalBinary(b)
}

// Sum returns the state_hash of root, a version of c's document: SHA-256
// over its canonical JSON, as SumTree. It reuses what c kept of the previous
// version and keeps what the next one can use. A nil c hashes root alone.
func (h *Hasher) Sum(c *Chain, root *jsontree.Node) [32]byte {
	if h.d == nil {
		h.init()
	}
	alone := c == nil
	if alone {
		c = &Chain{NoSubtreeCache: true}
	}
	c.gen++
	if c.gen == 0 || c.NoSubtreeCache { // (wrapped: no span may look current)
		c.index, c.spans = nil, nil
		c.gen = max(c.gen, 1)
	}
	if cap(h.buf) > maxIdleBuf {
		h.buf = nil // one huge state does not pin its size for good
	}
	h.c, h.buf, h.checked, h.firstDiff, h.live = c, h.buf[:0], 0, -1, 0
	h.value(root)
	text := h.buf
	if h.firstDiff < 0 {
		h.firstDiff = h.checked + commonPrefix(text[h.checked:], c.prev[min(h.checked, len(c.prev)):])
	}

	// Resume from the last saved state inside the shared prefix.
	h.d.Reset()
	k := 0
	if h.midSize > 0 {
		k = min(h.firstDiff/midEvery, len(c.mids)/h.midSize)
		if k > 0 && h.restore(c.mids[(k-1)*h.midSize:k*h.midSize], k*midEvery, h.compact) != nil {
			h.d.Reset()
			k = 0
		}
	}
	// What keeping this version would cost: its text, its hash states,
	// its spans.
	before := c.bytes
	need := len(text) + len(text)/midEvery*h.midSize + len(c.spans)*spanCost
	keep := !alone && h.midSize > 0 && (h.MaxBytes == 0 || h.used-before+need <= h.MaxBytes)
	if keep {
		c.mids = grow(c.mids[:k*h.midSize], len(text)/midEvery*h.midSize)
	}
	pos := k * midEvery
	h.resumed += pos
	for ; keep && pos+midEvery <= len(text); pos += midEvery {
		h.d.Write(text[pos : pos+midEvery])
		c.mids = h.save(c.mids)
	}
	h.d.Write(text[pos:])      // the rest, or all of it in one write when no state is kept
	h.sum = h.d.Sum(h.sum[:0]) // (into a reused slice: an array would escape)
	sum := [32]byte(h.sum)

	if keep {
		if cap(c.prev) > 2*len(text)+4096 {
			c.prev = nil // the state shrank a lot: do not pin the old size
		}
		c.prev = append(grow(c.prev[:0], len(text)), text...)
		// Spans not used by this pass are stale; drop them once they
		// outnumber the live ones.
		if len(c.spans) > 2*h.live+32 {
			c.sweep()
		}
		c.bytes = cap(c.prev) + cap(c.mids) + len(c.spans)*spanCost
		keep = h.MaxBytes == 0 || h.used-before+c.bytes <= h.MaxBytes
	}
	if !keep {
		c.prev, c.mids, c.index, c.spans, c.bytes = nil, nil, nil, nil, 0
	}
	h.used += c.bytes - before
	h.c = nil
	return sum
}

// value appends the canonical JSON of n to h.buf.
func (h *Hasher) value(n *jsontree.Node) {
	switch n.Kind() {
	case jsontree.String:
		h.buf = jsontree.AppendQuoted(h.buf, n.Literal())
		return
	case jsontree.Array, jsontree.Object:
	default:
		h.buf = append(h.buf, n.Literal()...)
		return
	}
	c := h.c
	i, found := c.index[n] // (a nil map misses)
	if found {
		s := &c.spans[i]
		pos := len(h.buf)
		switch s.gen {
		case c.gen - 1: // its text is in the previous version
			if h.firstDiff < 0 && s.off == pos {
				// At the offset it had: the prefix extends over it
				// once the bytes written since the last check match.
				h.check(pos)
				if h.firstDiff < 0 {
					h.checked = pos + s.n
				}
			}
			h.buf = append(h.buf, c.prev[s.off:s.off+s.n]...)
			s.off, s.gen = pos, c.gen
			c.hits++
			h.live++
			return
		case c.gen: // written earlier in this pass (a shared subtree)
			h.buf = append(h.buf, h.buf[s.off:s.off+s.n]...)
			c.hits++
			return
		}
	}
	start := len(h.buf)
	if n.Kind() == jsontree.Array {
		h.buf = append(h.buf, '[')
		for i := range n.Len() {
			if i > 0 {
				h.buf = append(h.buf, ',')
			}
			h.value(n.Index(i))
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
			h.value(v)
		}
		h.buf = append(h.buf, '}')
	}
	if size := len(h.buf) - start; size >= minCachedText && !c.NoSubtreeCache {
		if c.index == nil {
			c.index = make(map[*jsontree.Node]int32)
		}
		s := span{node: n, off: start, n: size, gen: c.gen}
		if found { // a stale span of the same node
			c.spans[i] = s
		} else {
			c.index[n] = int32(len(c.spans))
			c.spans = append(c.spans, s)
		}
		h.live++
	}
}

// sweep drops the spans the last pass did not use.
func (c *Chain) sweep() {
	kept := c.spans[:0]
	for _, s := range c.spans {
		if s.gen == c.gen {
			c.index[s.node] = int32(len(kept))
			kept = append(kept, s)
		} else {
			delete(c.index, s.node)
		}
	}
	clear(c.spans[len(kept):]) // let go of the dropped nodes
	c.spans = kept
}

// grow returns b with room for n bytes, allocating (when it must) a
// little more than n, not append's doubling: the capacity counts against
// MaxBytes.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b
	}
	out := make([]byte, len(b), n+n/8)
	copy(out, b)
	return out
}

// check compares the bytes written since the last check, up to end, with
// the previous text, and records where they first differ.
func (h *Hasher) check(end int) {
	prev := h.c.prev
	if end > len(prev) {
		end = len(prev)
	}
	if h.checked >= end {
		return
	}
	if n := commonPrefix(h.buf[h.checked:end], prev[h.checked:end]); n < end-h.checked {
		h.firstDiff = h.checked + n
		return
	}
	h.checked = end
}

// commonPrefix is the length of the prefix a and b share. It compares eight
// bytes at a time: in WebAssembly a byte loop costs more than the hash of
// what it saves.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if binary.LittleEndian.Uint64(a[i:]) != binary.LittleEndian.Uint64(b[i:]) {
			break
		}
	}
	for ; i < n && a[i] == b[i]; i++ {
	}
	return i
}

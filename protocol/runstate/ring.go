package runstate

// ring is a bounded FIFO: pushing onto a full ring drops the oldest element.
// It backs the event log, where a slice trimmed from the front would copy
// thousands of events per message. Its storage is chunks of ringChunk
// elements, added as it grows: a growing slice would allocate and copy
// about twice what it holds (a fifth of the browser's allocations on the
// demo stream went to growing event logs).
type ring[T any] struct {
	chunks [][]T // each of ringChunk elements; the last may be shorter until the ring is full
	start  int   // position of the oldest element
	n      int
	limit  int
}

// ringChunk: 32 events are about 6 KB.
const ringChunk = 32

func newRing[T any](limit int) ring[T] { return ring[T]{limit: limit} }

// slot returns the storage of position p, 0 ≤ p < limit.
func (r *ring[T]) slot(p int) *T { return &r.chunks[p/ringChunk][p%ringChunk] }

// push appends v and reports whether the oldest element was dropped (and
// which one).
func (r *ring[T]) push(v T) (dropped T, ok bool) {
	if r.n < r.limit {
		// Nothing is removed before the ring is full, so until then the
		// positions are 0, 1, 2, ….
		if r.n%ringChunk == 0 {
			r.chunks = append(r.chunks, make([]T, 0, min(ringChunk, r.limit-r.n)))
		}
		last := &r.chunks[len(r.chunks)-1]
		*last = append(*last, v)
		r.n++
		return dropped, false
	}
	s := r.slot(r.start)
	dropped, *s = *s, v
	r.start = (r.start + 1) % r.limit
	return dropped, true
}

// len returns the number of elements.
func (r *ring[T]) len() int { return r.n }

// at returns element i, 0 being the oldest.
func (r *ring[T]) at(i int) *T { return r.slot((r.start + i) % r.limit) }

// last returns the newest element, or nil.
func (r *ring[T]) last() *T {
	if r.n == 0 {
		return nil
	}
	return r.at(r.n - 1)
}

// appendTo appends the elements, oldest first, to dst.
func (r *ring[T]) appendTo(dst []T) []T {
	for i := range r.n {
		dst = append(dst, *r.at(i))
	}
	return dst
}

// search returns the smallest i in [0, len) for which f(at(i)) is true,
// assuming f is false then true along the ring (like sort.Search).
func (r *ring[T]) search(f func(*T) bool) int {
	lo, hi := 0, r.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(r.at(m)) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

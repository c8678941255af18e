package runstate

// ring is a bounded FIFO: pushing onto a full ring drops the oldest element.
// It backs the event log, where a slice trimmed from the front would copy
// thousands of events per message.
type ring[T any] struct {
	buf   []T
	start int // index of the oldest element
	n     int
	limit int
}

func newRing[T any](limit int) ring[T] { return ring[T]{limit: limit} }

// push appends v and reports whether the oldest element was dropped (and
// which one).
func (r *ring[T]) push(v T) (dropped T, ok bool) {
	if r.n < r.limit {
		// Nothing is removed before the ring is full, so until then it is a
		// plain growing slice starting at 0.
		r.buf = append(r.buf, v)
		r.n++
		return dropped, false
	}
	i := r.start
	dropped, r.buf[i] = r.buf[i], v
	r.start = (r.start + 1) % len(r.buf)
	return dropped, true
}

// len returns the number of elements.
func (r *ring[T]) len() int { return r.n }

// at returns element i, 0 being the oldest.
func (r *ring[T]) at(i int) *T { return &r.buf[(r.start+i)%len(r.buf)] }

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

package memory

import "slices"

// deque is a slice kept sorted by its owner, cheap at both ends: records
// arrive at the back (Kafka order) and leave from the front (eviction), so
// the front is removed by moving head instead of shifting the slice. Inserts
// and removals in the middle (out-of-order appends, evicting a thread entry
// that is not its thread's oldest) shift, which is rare.
type deque[T any] struct {
	items []T
	head  int
}

// compactMin is the dead prefix below which the deque does not bother to
// compact; above it, it compacts once the dead prefix is half the slice, so
// each element is moved O(1) times amortised.
const compactMin = 32

func (d *deque[T]) Len() int { return len(d.items) - d.head }

// At returns element i (0 is the front).
func (d *deque[T]) At(i int) T { return d.items[d.head+i] }

// Ptr returns a pointer to element i, valid until the next Insert or Remove.
func (d *deque[T]) Ptr(i int) *T { return &d.items[d.head+i] }

// Live returns the live elements; the caller must not keep or modify it.
func (d *deque[T]) Live() []T { return d.items[d.head:] }

// Insert puts v at position i, shifting later elements back.
func (d *deque[T]) Insert(i int, v T) {
	if i == d.Len() {
		d.items = append(d.items, v)
		return
	}
	d.items = slices.Insert(d.items, d.head+i, v)
}

// Remove deletes element i.
func (d *deque[T]) Remove(i int) {
	if i != 0 {
		// slices.Delete zeroes the vacated tail, so no pointer lingers.
		d.items = slices.Delete(d.items, d.head+i, d.head+i+1)
		return
	}
	var zero T
	d.items[d.head] = zero // let the GC have the record
	d.head++
	switch {
	case d.head == len(d.items):
		d.items, d.head = d.items[:0], 0
	case d.head >= compactMin && 2*d.head >= len(d.items):
		n := copy(d.items, d.items[d.head:])
		clear(d.items[n:])
		d.items, d.head = d.items[:n], 0
	}
}

package runstate

import (
	"slices"
	"testing"
)

// The ring behaves as a slice that drops its first element when a push
// would take it over the limit, for limits below, at and across chunk
// sizes, through several wraps.
func TestRing_SameAsABoundedSlice(t *testing.T) {
	for _, limit := range []int{1, 2, ringChunk - 1, ringChunk, ringChunk + 1, 3*ringChunk + 5, 2000} {
		r := newRing[int](limit)
		var model []int
		for v := range 3*limit + 7 {
			dropped, ok := r.push(v)
			model = append(model, v)
			if len(model) > limit {
				if !ok || dropped != model[0] {
					t.Fatalf("limit %d, push %d: dropped %d %t, want %d", limit, v, dropped, ok, model[0])
				}
				model = model[1:]
			} else if ok {
				t.Fatalf("limit %d, push %d: dropped %d before the ring was full", limit, v, dropped)
			}
			if r.len() != len(model) || *r.last() != model[len(model)-1] || *r.at(0) != model[0] {
				t.Fatalf("limit %d, push %d: len %d, first %d, last %d; want %v", limit, v, r.len(), *r.at(0), *r.last(), model)
			}
			if v%17 == 0 || v > 3*limit {
				if got := r.appendTo(nil); !slices.Equal(got, model) {
					t.Fatalf("limit %d, push %d: %v, want %v", limit, v, got, model)
				}
				x := model[len(model)/2]
				if i := r.search(func(e *int) bool { return *e >= x }); i != len(model)/2 {
					t.Fatalf("limit %d: search for %d found %d, want %d", limit, x, i, len(model)/2)
				}
			}
		}
		if got := len(r.chunks); got != (limit+ringChunk-1)/ringChunk {
			t.Fatalf("limit %d: %d chunks", limit, got)
		}
		if r.chunks[len(r.chunks)-1] == nil || cap(r.chunks[len(r.chunks)-1]) > ringChunk {
			t.Fatalf("limit %d: last chunk of capacity %d", limit, cap(r.chunks[len(r.chunks)-1]))
		}
	}
}

func TestRing_EmptyHasNoLast(t *testing.T) {
	r := newRing[int](10)
	if r.last() != nil || r.len() != 0 || len(r.appendTo(nil)) != 0 || r.search(func(*int) bool { return true }) != 0 {
		t.Fatal("an empty ring has elements")
	}
}

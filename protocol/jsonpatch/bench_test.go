package jsonpatch

import (
	"testing"

	evanphx "github.com/evanphx/json-patch/v5"

	"github.com/dashstream/dashstream/protocol/internal/fixture"
	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Applying a 10-operation patch to a ~100 KB state. The tree benchmark is
// what the browser's apply loop does (the state stays parsed between
// patches); Evanphx is the baseline measured in the same run, working on
// bytes as it must (it reparses and reserialises the state per patch).

func BenchmarkApply100KB_Tree(b *testing.B) {
	state := fixture.State(100_000)
	doc, err := jsontree.Parse(state)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Parse([]byte(fixture.Patch10))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Apply(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApply100KB_Evanphx(b *testing.B) {
	state := fixture.State(100_000)
	p, err := evanphx.DecodePatch([]byte(fixture.Patch10))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Apply(state); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply100KB_Bytes is our byte API (parse, apply, write), for a
// like-for-like comparison with evanphx.
func BenchmarkApply100KB_Bytes(b *testing.B) {
	state := fixture.State(100_000)
	patch := []byte(fixture.Patch10)
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Apply(state, patch); err != nil {
			b.Fatal(err)
		}
	}
}

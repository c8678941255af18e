package statehash

import (
	"encoding/json"
	"testing"

	"github.com/dashstream/dashstream/protocol/internal/fixture"
	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Sum of a ~100 KB state, against encoding/json marshalling the same value
// (decoded once into map[string]any) in the same run: the baseline.

func BenchmarkSum100KB(b *testing.B) {
	state := fixture.State(100_000)
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sum(state); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSumTree100KB(b *testing.B) {
	state := fixture.State(100_000)
	tree, err := jsontree.Parse(state)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		SumTree(tree)
	}
}

func BenchmarkSum100KB_EncodingJSONMarshal(b *testing.B) {
	state := fixture.State(100_000)
	var v any
	if err := json.Unmarshal(state, &v); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

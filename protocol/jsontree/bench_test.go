package jsontree

import (
	"encoding/json"
	"testing"

	"github.com/dashstream/dashstream/protocol/internal/fixture"
)

func BenchmarkParse100KB(b *testing.B) {
	state := fixture.State(100_000)
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(state); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse100KB_EncodingJSON is the baseline: encoding/json decoding
// the same bytes into map[string]any.
func BenchmarkParse100KB_EncodingJSON(b *testing.B) {
	state := fixture.State(100_000)
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal(state, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON100KB(b *testing.B) {
	state := fixture.State(100_000)
	n, err := Parse(state)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, len(state))
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		buf = n.AppendJSON(buf[:0])
	}
}

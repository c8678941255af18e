package statehash

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"runtime"
	"testing"
	"time"

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

// BenchmarkSHA256_10KB: the SHA-256 the hashing uses (newSHA256: our
// digest in WebAssembly, crypto/sha256 elsewhere) against crypto/sha256 on
// the same 10 KB, in the same run, alternating rounds; x-crypto-sha256 is
// the speed ratio (1.0 natively, where both are crypto/sha256).
func BenchmarkSHA256_10KB(b *testing.B) {
	data := fixture.State(10 << 10)
	sum := func(h hash.Hash) {
		h.Reset()
		h.Write(data)
		h.Sum(nil)
	}
	ours, std := newSHA256(), sha256.New()
	var tOurs, tStd time.Duration
	n := 0
	for b.Loop() {
		t := time.Now()
		sum(ours)
		tOurs += time.Since(t)
		t = time.Now()
		sum(std)
		tStd += time.Since(t)
		n++
	}
	mb := func(d time.Duration) float64 { return float64(n*len(data)) / d.Seconds() / 1e6 }
	b.ReportMetric(mb(tOurs), "MB/s")
	b.ReportMetric(mb(tStd), "crypto-sha256-MB/s")
	b.ReportMetric(tStd.Seconds()/tOurs.Seconds(), "x-crypto-sha256")
	if runtime.GOOS == "js" {
		fmt.Printf("BENCHTABLE SHA-256 in Chromium wasm, statehash vs crypto/sha256 (MB/s) | %.1f | %.1f | %.2f | > 1.0 | %s\n",
			mb(tOurs), mb(tStd), tStd.Seconds()/tOurs.Seconds(), map[bool]string{true: "yes", false: "no"}[tOurs < tStd])
	}
}

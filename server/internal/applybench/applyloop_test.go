package applybench

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dashstream/dashstream/protocol"
)

// TestApplyLoop_BothSidesAgreeOnTheRecordedStreams keeps the benchmark
// honest (it runs in make test, so it cannot rot): on a recorded demo
// stream and on small diffs, our WebAssembly loop and every JavaScript
// peer decode every value, verify the same number of state hashes with no
// mismatch, and end with the same state in every run.
func TestApplyLoop_BothSidesAgreeOnTheRecordedStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	demoStream := recordDemo(t, 24)
	small := recordSmallDiffs(t, 1<<10, 3, 40)
	checkStreamShape(t, demoStream)
	h := newHarness(t, demoStream, small)
	for _, s := range []stream{demoStream, small} {
		var ours passResult
		for i, side := range sides {
			res := h.run(t, side.page, s.name, 1)
			r := res.Result
			if r.Messages != len(s.values) || r.DecodeErrors != 0 || r.Mismatches != 0 || r.Verified == 0 {
				t.Fatalf("%s on %s: %+v (stream of %d values)", side.name, s.name, r, len(s.values))
			}
			t.Logf("%s on %s: %+v, %d final states, %.0f ms", side.name, s.name, r, len(res.Finals), res.MS[0])
			if len(res.Finals) == 0 {
				t.Fatalf("%s on %s: no final states", side.name, s.name)
			}
			if i == 0 {
				ours = res
				continue
			}
			if r.Verified != ours.Result.Verified {
				t.Errorf("%s on %s verified %d hashes, ours %d", side.name, s.name, r.Verified, ours.Result.Verified)
			}
			if !maps.Equal(res.Finals, ours.Finals) {
				for _, id := range slices.Sorted(maps.Keys(ours.Finals)) {
					if res.Finals[id] != ours.Finals[id] {
						t.Errorf("%s on %s: run %s ends with state hash %s, ours %s", side.name, s.name, id, res.Finals[id], ours.Finals[id])
					}
				}
				t.Fatalf("%s on %s: %d final states, ours %d", side.name, s.name, len(res.Finals), len(ours.Finals))
			}
		}
	}
}

// checkStreamShape fails when the recorded demo stream lacks what makes it
// realistic: zstd frames, full states and patches, token chunks,
// checkpoints.
func checkStreamShape(t *testing.T, s stream) {
	t.Helper()
	var zstd, full, patches, tokens, checkpoints int
	for _, v := range s.values {
		if v[0] == protocol.FrameZstd {
			zstd++
		}
		m, err := protocol.Decode(v)
		if err != nil {
			t.Fatalf("recorded value does not decode: %v", err)
		}
		switch {
		case len(m.GetStateDiff().GetFullState()) > 0:
			full++
		case len(m.GetStateDiff().GetOperations()) > 0:
			patches++
		case m.GetTokenChunk() != nil:
			tokens++
		case m.GetCheckpoint() != nil:
			checkpoints++
		}
	}
	if zstd == 0 || full == 0 || patches == 0 || tokens == 0 || checkpoints == 0 {
		t.Fatalf("%s: %d values, %d zstd, %d full states, %d patches, %d token chunks, %d checkpoints",
			s.name, len(s.values), zstd, full, patches, tokens, checkpoints)
	}
	t.Logf("%s: %d values, %d zstd, %d full states, %d patches, %d token chunks, %d checkpoints",
		s.name, len(s.values), zstd, full, patches, tokens, checkpoints)
}

// BenchmarkApplyLoop_Browser: messages per second through decode + apply +
// hash verify, ours (Go/WebAssembly) and each JavaScript peer, in the
// same headless Chromium, on the same streams, in the same run: the demo's
// records for 300 runs, and two-operation diffs on 1 KB and 10 KB states.
// Each side does a warm-up pass, then rounds × passesPerRound timed passes,
// the sides taking turns each round; a side's figure is its median pass.
// Goal: ours ≥ 1.0× the fastest peer on every stream.
func BenchmarkApplyLoop_Browser(b *testing.B) {
	const rounds, passesPerRound = 3, 1
	streams := []stream{
		recordDemo(b, 300),
		recordSmallDiffs(b, 1<<10, 40, 300),
		recordSmallDiffs(b, 10<<10, 10, 200),
	}
	if only := os.Getenv("APPLYBENCH_ONLY"); only != "" {
		streams = slices.DeleteFunc(streams, func(s stream) bool { return !strings.HasPrefix(s.name, only) })
	}
	h := newHarness(b, streams...)
	sides := benchSides()
	b.ResetTimer()
	for _, s := range streams {
		rate := h.rates(b, sides, s, rounds, passesPerRound)
		best := -1
		for i, side := range sides {
			if !side.ours && (best < 0 || rate[i] > rate[best]) {
				best = i
			}
		}
		if top := profileTop(); top > 0 {
			h.profileRun(b, os.Stdout, sides[0].page, s.name, passesPerRound, top)
			h.profileRun(b, os.Stdout, sides[best].page, s.name, passesPerRound, 20)
		}
		ratio := rate[0] / rate[best]
		b.ReportMetric(ratio, s.name+"-x-fastest-peer")
		met := "no"
		if ratio >= 1.0 {
			met = "yes"
		}
		fmt.Printf("BENCHTABLE browser apply loop %s (msgs/s, %d values) | %.0f | %.0f (%s) | %.2f | >= 1.0 | %s\n",
			s.name, len(s.values), rate[0], rate[best], sides[best].name, ratio, met)
		for i := 1; i < len(sides); i++ {
			switch {
			case sides[i] == baseSides[0]:
				fmt.Printf("BENCHTABLE browser apply loop %s, ours vs APPLYBENCH_BASE (msgs/s) | %.0f | %.0f | %.2f | - | -\n",
					s.name, rate[0], rate[i], rate[0]/rate[i])
			case sides[i] == baseSides[1]:
				fmt.Printf("BENCHTABLE browser apply loop %s, ours vs APPLYBENCH_BASE, peer's work (msgs/s) | %.0f | %.0f | %.2f | - | -\n",
					s.name, rate[1], rate[i], rate[1]/rate[i])
			case sides[i].ours:
				fmt.Printf("BENCHTABLE browser apply loop %s, %s vs %s (msgs/s) | %.0f | %.0f | %.2f | >= 1.0 | %s\n",
					s.name, sides[i].name, sides[best].name, rate[i], rate[best], rate[i]/rate[best], yes(rate[i] >= rate[best]))
			case i != best:
				fmt.Printf("BENCHTABLE browser apply loop %s vs %s (msgs/s) | %.0f | %.0f | %.2f | >= 1.0 | %s\n",
					s.name, sides[i].name, rate[0], rate[i], rate[0]/rate[i], yes(rate[0] >= rate[i]))
			}
		}
	}
}

// side is a page compared in a browser benchmark.
type side struct {
	name, page string
	ours       bool
}

// rates runs every side over s for rounds × passesPerRound timed passes,
// the sides taking turns each round, and returns each side's messages per
// second in its median pass (also reported as benchmark metrics).
func (h *harness) rates(b *testing.B, sides []side, s stream, rounds, passesPerRound int) []float64 {
	times := make([][]float64, len(sides))
	for range rounds {
		for i, side := range sides {
			res := h.run(b, side.page, s.name, passesPerRound)
			if r := res.Result; r.Mismatches != 0 || r.DecodeErrors != 0 {
				b.Fatalf("%s on %s: %+v", side.name, s.name, r)
			}
			times[i] = append(times[i], res.MS...)
		}
	}
	rate := make([]float64, len(sides))
	for i := range sides {
		rate[i] = float64(len(s.values)) / (median(times[i]) / 1000)
		b.ReportMetric(rate[i], s.name+"-"+sides[i].name+"-msgs/s")
	}
	return rate
}

// BenchmarkDecode_Browser: messages per second through decoding alone
// (framing, zstd, protobuf) of the recorded demo stream in the same
// headless Chromium: protocol.Decode (pbwire) beside proto.Unmarshal and
// beside protobufjs with fzstd, the JavaScript peer's decoder.
func BenchmarkDecode_Browser(b *testing.B) {
	const rounds, passesPerRound = 5, 1
	s := recordDemo(b, 300)
	h := newHarness(b, s)
	decoders := []side{
		{"go-wasm-pbwire", "/ours.html?mode=decode", true},
		{"go-wasm-proto-unmarshal", "/ours.html?mode=decode-proto", true},
		{"js-protobufjs", "/peer.html?mode=decode", false},
	}
	b.ResetTimer()
	rate := h.rates(b, decoders, s, rounds, passesPerRound)
	if top := profileTop(); top > 0 {
		h.profileRun(b, os.Stdout, decoders[0].page, s.name, passesPerRound, top)
	}
	fmt.Printf("BENCHTABLE browser decode %s (msgs/s, %d values) | %.0f | %.0f (%s) | %.2f | >= 1.0 | %s\n",
		s.name, len(s.values), rate[0], rate[2], decoders[2].name, rate[0]/rate[2], yes(rate[0] >= rate[2]))
	fmt.Printf("BENCHTABLE browser decode %s, pbwire vs proto.Unmarshal (msgs/s) | %.0f | %.0f | %.2f | > 1.0 | %s\n",
		s.name, rate[0], rate[1], rate[0]/rate[1], yes(rate[0] > rate[1]))
}

// profileTop is how many functions a profile lists: 0 without
// APPLYBENCH_PROFILE, its value when it is a number above 1, else 30.
func profileTop() int {
	v := os.Getenv("APPLYBENCH_PROFILE")
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 1 {
		return n
	}
	return 30
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

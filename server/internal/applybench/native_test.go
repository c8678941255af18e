package applybench

import (
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// BenchmarkApplyLoop_Native is the browser loop's work run natively, a
// proxy for profiling it (go test -cpuprofile): decode and apply the
// recorded demo stream into a fresh store per pass.
func BenchmarkApplyLoop_Native(b *testing.B) {
	s := recordDemo(b, 100)
	t0 := time.Unix(1_700_000_000, 0)
	b.ResetTimer()
	for b.Loop() {
		st := runstate.NewStore(runstate.Config{MaxRuns: 10_000})
		for i, v := range s.values {
			m, err := protocol.Decode(v)
			if err != nil {
				b.Fatal(err)
			}
			st.Apply(m, runstate.Meta{Offset: int64(i), Received: t0.Add(time.Duration(i) * time.Millisecond)})
		}
	}
	b.ReportMetric(float64(len(s.values)*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

package applybench

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/pbwire"
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

// BenchmarkDecode_DemoStream: protobuf decoding alone of the recorded demo
// stream (values unframed beforehand), pbwire (protocol.Decode's decoder)
// beside proto.Unmarshal in the same run.
func BenchmarkDecode_DemoStream(b *testing.B) {
	s := recordDemo(b, 100)
	d := protocol.NewDecoder()
	raws := make([][]byte, len(s.values))
	size := 0
	for i, v := range s.values {
		raw, err := d.Unframe(v)
		if err != nil {
			b.Fatal(err)
		}
		raws[i] = raw
		size += len(raw)
	}
	for _, side := range []struct {
		name   string
		decode func([]byte) error
	}{
		{"pbwire", func(raw []byte) error { _, err := pbwire.Unmarshal(raw); return err }},
		{"proto", func(raw []byte) error { return proto.Unmarshal(raw, new(pb.DashStreamMessage)) }},
	} {
		b.Run(side.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, raw := range raws {
					if err := side.decode(raw); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(raws)*b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkDecodeFramed_DemoStream: protocol.Decode on the recorded demo
// stream's framed values (zstd included) beside what it did before pbwire,
// a fresh buffer per zstd frame and proto.Unmarshal, in the same run.
func BenchmarkDecodeFramed_DemoStream(b *testing.B) {
	s := recordDemo(b, 100)
	d := protocol.NewDecoder()
	for _, side := range []struct {
		name   string
		decode func([]byte) error
	}{
		{"protocol.Decode", func(v []byte) error { _, err := d.Decode(v); return err }},
		{"unframe+proto.Unmarshal", func(v []byte) error {
			raw, err := d.Unframe(v)
			if err != nil {
				return err
			}
			return proto.Unmarshal(raw, new(pb.DashStreamMessage))
		}},
	} {
		b.Run(side.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, v := range s.values {
					if err := side.decode(v); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(s.values)*b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

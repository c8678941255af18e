package source

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/server/metrics"
	"github.com/dashstream/dashstream/server/replay"
)

// FuzzPipeline feeds arbitrary Kafka values through the real per-record
// pipeline: it never panics, forwards exactly the values that decode, and
// counts every other one.
func FuzzPipeline(f *testing.F) {
	f.Add(value(f, "t", 1), false)
	f.Add([]byte{0x00, 0xff}, false)
	f.Add([]byte{0x01, 0x28, 0xB5, 0x2F, 0xFD}, false)
	f.Add([]byte{}, false)
	f.Add([]byte(nil), true)
	f.Add(make([]byte, 5000), false)
	f.Fuzz(func(t *testing.T, v []byte, tombstone bool) {
		var got []replay.Record
		s := New(Config{Topic: "t", DecodeErrorPolicy: "skip", MaxPayloadBytes: 4096}, func(r replay.Record) { got = append(got, r) }, nil, metrics.New(), quiet)
		if tombstone {
			v = nil
		} else if v == nil {
			v = []byte{}
		}
		s.process(nil, &kgo.Record{Topic: "t", Partition: 0, Offset: 7, Value: v})
		_, err := protocol.NewDecoder(protocol.WithMaxPayloadBytes(4096)).Decode(v)
		forwardable := v != nil && len(v) <= 4096 && err == nil
		if forwardable != (len(got) == 1) {
			t.Fatalf("value %x: forwarded %d, decodable %v", v, len(got), forwardable)
		}
		st := s.Status()
		if st.Received != 1 || st.Forwarded+st.DecodeErrs+st.OldDataErrs+st.Missing != 1 {
			t.Fatalf("counts %+v", st)
		}
		if forwardable && &got[0].Value[0] == &v[0] {
			t.Fatal("the forwarded value aliases the fetch buffer")
		}
	})
}

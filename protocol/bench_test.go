package protocol

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/internal/fixture"
	"github.com/dashstream/dashstream/protocol/pb"
)

// Decode throughput; MB/s counts protobuf bytes. Proto is the baseline in
// the same run: proto.Unmarshal of the same message without framing.

func benchDecode(b *testing.B, msg *pb.DashStreamMessage, wantFrame byte) {
	v, err := Encode(msg)
	if err != nil || v[0] != wantFrame {
		b.Fatalf("Encode: 0x%02x, %v", v[0], err)
	}
	b.SetBytes(int64(proto.Size(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode_Raw(b *testing.B) { benchDecode(b, smallEvent(), FrameRaw) }

func BenchmarkDecode_Zstd10KB(b *testing.B) {
	benchDecode(b, stateDiff(fixture.State(10_000)), FrameZstd)
}

func BenchmarkDecode_Zstd100KB(b *testing.B) {
	benchDecode(b, stateDiff(fixture.State(100_000)), FrameZstd)
}

func BenchmarkDecode_ProtoUnmarshal10KB(b *testing.B) {
	raw, _ := proto.Marshal(stateDiff(fixture.State(10_000)))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var m pb.DashStreamMessage
		if err := proto.Unmarshal(raw, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode_Zstd10KB(b *testing.B) {
	msg := stateDiff(fixture.State(10_000))
	b.SetBytes(int64(proto.Size(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(msg); err != nil {
			b.Fatal(err)
		}
	}
}

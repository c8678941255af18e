package protocol

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/pb"
)

// FuzzDecode: no value panics the decoder, every failure has a class, and
// whatever decodes re-encodes to a value that decodes to the same message.
func FuzzDecode(f *testing.F) {
	for _, m := range []*pb.DashStreamMessage{smallEvent(), stateDiff([]byte(`{"a":[1,2,3]}`)), stateDiff(make([]byte, 2000))} {
		v, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
		raw, _ := proto.Marshal(m)
		f.Add(raw)
	}
	f.Add([]byte{})
	f.Add([]byte{FrameRaw})
	f.Add([]byte{FrameZstd, 0x28, 0xB5, 0x2F, 0xFD, 0xE0, 0, 0, 0, 0, 1, 0, 0, 0, 0x01, 0, 0})
	f.Add([]byte{0x28, 0xB5, 0x2F, 0xFD})
	small := NewDecoder(WithMaxPayloadBytes(4096))
	f.Fuzz(func(t *testing.T, value []byte) {
		msg, err := small.Decode(value)
		if err != nil {
			if ErrorClass(err) == "other" {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		v, err := Encode(msg)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		again, err := Decode(v)
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		if !proto.Equal(withoutCompression(again), withoutCompression(msg)) {
			t.Fatal("re-encoding changed the message")
		}
	})
}

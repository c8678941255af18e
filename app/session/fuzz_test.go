package session

import (
	"testing"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// FuzzFrame_NeverPanicsAndIsClassified feeds arbitrary binary frames through
// the session's decode and apply steps: nothing panics, every failure has a
// known class, and the frame's cursor is committed either way (a frame that
// cannot decode will not decode better when sent again).
func FuzzFrame_NeverPanicsAndIsClassified(f *testing.F) {
	ev := event(f, "t", 1)
	big, _ := protocol.Encode(stateMsg(f, "t", 2, `{"s":"`+string(make([]byte, 4000))+`"}`, nil, `{}`))
	for _, seed := range [][]byte{
		ev, big, ev[:len(ev)/2], big[:len(big)/2], {}, {0x00}, {0x01}, {0x02, 0x08, 0x01},
		{0x01, 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x01, 0, 0},
		{0x01, 0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		frame(f, &pb.DashStreamMessage{}),
	} {
		f.Add(seed)
	}
	known := map[string]bool{"": true, "empty": true, "too_large": true, "missing_content_size": true, "corrupt_zstd": true, "invalid_protobuf": true, "unframed": true, "other": true}
	f.Fuzz(func(t *testing.T, value []byte) {
		s := offline(t)
		s.live.Store(1)
		d := item(t, 1, 0, 7, value)
		if !known[d.class] {
			t.Fatalf("unknown class %q for %v", d.class, d.err)
		}
		if err := s.handle(nil, d); err != nil {
			t.Fatal(err)
		}
		var waiting bool
		s.Read(func(st *runstate.Store) { _, waiting = st.PendingFloor(0) })
		if o, ok := s.Cursors().Offset(0); !waiting && (!ok || o != 7) {
			t.Fatalf("cursor %d/%v after a handled frame", o, ok)
		}
	})
}

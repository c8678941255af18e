package hub

import (
	"bytes"
	"testing"

	"github.com/dashstream/dashstream/protocol/control"
)

// TestRecords_OfEveryFrameLengthArriveIntact sends values at the edges of
// the WebSocket length encodings (7-bit, 16-bit, 64-bit), live and
// replayed, and reads them with coder/websocket's client.
func TestRecords_OfEveryFrameLengthArriveIntact(t *testing.T) {
	g := newGateway(t, Config{}, nil, nil, nil)
	live := g.dial(nil)
	live.send(partitionResume(control.FromLatest, nil))
	until[*control.ReplayComplete](live)
	sizes := []int{0, 125, 126, 127, 0xFFFF, 0x10000, 1 << 20}
	recs := g.produce(0, len(sizes))
	for i, n := range sizes {
		recs[i].Value = append(recs[i].Value[:0:0], bytes.Repeat([]byte{byte(i + 1)}, n)...)
	}
	// produce stored the originals; store and publish the resized ones at
	// the next offsets instead.
	for i := range recs {
		recs[i].Offset += int64(len(sizes))
		g.ingest(recs[i])
	}
	got := live.records(2 * len(sizes))[len(sizes):]
	for i, r := range got {
		if r.Offset != recs[i].Offset || !bytes.Equal(r.Value, recs[i].Value) {
			t.Fatalf("live %d: offset %d, %d bytes; want offset %d, %d bytes", i, r.Offset, len(r.Value), recs[i].Offset, len(recs[i].Value))
		}
	}
	replayed := g.dial(nil)
	replayed.send(partitionResume(control.FromCursor, map[int32]int64{0: int64(len(sizes)) - 1}))
	events, _ := until[*control.ReplayComplete](replayed)
	got = recordsOf(events)
	if len(got) != len(sizes) {
		t.Fatalf("replayed %d records, want %d", len(got), len(sizes))
	}
	for i, r := range got {
		if r.Offset != recs[i].Offset || !bytes.Equal(r.Value, recs[i].Value) {
			t.Fatalf("replayed %d: offset %d, %d bytes; want offset %d, %d bytes", i, r.Offset, len(r.Value), recs[i].Offset, len(recs[i].Value))
		}
	}
}

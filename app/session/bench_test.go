package session

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// Benchmarks of the session's apply loop: natively with
//
//	go test -run '^$' -bench . ./app/session
//
// and in Chromium with
//
//	GOOS=js GOARCH=wasm go test -run '^$' -bench . -exec wasmbrowsertest ./app/session
//
// Report the wasm/native ratio of the same benchmark, measured the same way.

// benchValues returns a ~1 KB agent state and framed small diffs (two
// replace operations, hash included) that cycle through it.
func benchValues(b *testing.B) (start []byte, diffs [][]byte) {
	var sb strings.Builder
	sb.WriteString(`{"run":{"step":0,"graph":"research"},"scores":{"accuracy":0.5},"notes":[`)
	for i := range 24 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":%d,"text":"note number %d about the topic"}`, i, i)
	}
	sb.WriteString(`]}`)
	initial := sb.String()
	start = frame(b, stateMsg(b, "bench", 1, initial, nil, initial))
	state, err := jsontree.Parse([]byte(initial))
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1024 {
		ops := []*pb.DiffOperation{
			{Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/run/step", Value: []byte(strconv.Itoa(i + 1))},
			{Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/scores/accuracy", Value: []byte(fmt.Sprintf("0.%03d", i%1000))},
		}
		p, err := jsonpatch.FromDiffOperations(ops)
		if err != nil {
			b.Fatal(err)
		}
		if state, err = p.Apply(state); err != nil {
			b.Fatal(err)
		}
		h := statehash.SumTree(state)
		diffs = append(diffs, frame(b, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{
			Header: &pb.Header{ThreadId: "bench", Type: pb.MessageType_MESSAGE_TYPE_STATE_DIFF}, Operations: ops, StateHash: h[:],
		}}}))
	}
	return start, diffs
}

// BenchmarkSession_ApplyLoop_SmallDiff is one frame through the session's
// apply step: decode (as the decoder goroutine does), epoch checks, apply
// under the store lock with hash verification, and the cursor commit.
func BenchmarkSession_ApplyLoop_SmallDiff(b *testing.B) {
	start, diffs := benchValues(b)
	s := offline(b)
	s.live.Store(1)
	dec := protocol.NewDecoder()
	feed := func(seq uint64, v []byte) {
		msg, err := dec.Decode(v)
		if err != nil {
			b.Fatal(err)
		}
		msg.GetStateDiff().Header.Sequence = seq
		d := decoded{job: job{epoch: 1, cur: control.Cursor{Offset: int64(seq)}, data: v, recv: time.Now()}, msg: msg}
		if err := s.handle(nil, d); err != nil {
			b.Fatal(err)
		}
	}
	feed(1, start)
	// The cycle restarts from the initial state, so diff i expects the
	// state after diff i-1: replay the cycle in order, forever.
	seq := uint64(1)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		i := int(seq-2) % len(diffs)
		if i == 0 && seq > 2 {
			seq++ // a fresh full state starts the next cycle
			feed(seq-1, start)
		}
		feed(seq, diffs[i])
	}
	b.StopTimer()
	h := s.Health()
	s.publish(time.Now(), 0, true)
	if h = s.Health(); h.Quarantined != 0 || h.HashesVerified == 0 {
		b.Fatalf("health %+v", h)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "diffs/s")
}

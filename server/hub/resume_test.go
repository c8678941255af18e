package hub

import (
	"context"
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
)

func partitionResume(from string, offsets map[int32]int64) *control.Resume {
	return control.NewPartitionResume(from, offsets)
}

func TestLive_EveryValuePrecededByItsCursorByteForByte(t *testing.T) {
	g := newGateway(t, Config{}, nil, nil, nil)
	c := g.dial(nil)
	c.send(partitionResume(control.FromLatest, nil))
	until[*control.ReplayComplete](c)
	sent := append(g.produce(0, 50), g.produce(1, 50)...)
	got := c.records(100)
	byKey := map[[2]int64][]byte{}
	for _, r := range sent {
		byKey[[2]int64{int64(r.Partition), r.Offset}] = r.Value
	}
	for _, r := range got {
		want := byKey[[2]int64{int64(r.Partition), r.Offset}]
		if string(want) != string(r.Value) {
			t.Fatalf("record %d/%d: value differs from the Kafka value", r.Partition, r.Offset)
		}
		delete(byKey, [2]int64{int64(r.Partition), r.Offset})
	}
	if len(byKey) != 0 {
		t.Errorf("%d records never arrived", len(byKey))
	}
}

func TestResume_ReplaysStrictlyAfterTheCursor(t *testing.T) {
	g := newGateway(t, Config{}, nil, nil, nil)
	g.produce(0, 10)
	c := g.dial(nil)
	c.send(partitionResume(control.FromCursor, map[int32]int64{0: 4}))
	events, done := until[*control.ReplayComplete](c)
	if got := offsets(recordsOf(events)); got != span(0, 5, 9) {
		t.Errorf("replayed %s", got)
	}
	if done.TotalReplayed != 5 || done.Capped || done.Mode != control.FromCursor || done.LastOffsetsByPartition[0] != 9 {
		t.Errorf("replay_complete %s", done.AppendJSON(nil))
	}
}

func TestResume_NoDuplicateAfterReplay(t *testing.T) {
	// Live records published after the client connected but before its
	// resume wait in its queue; the replay also sends them. They must
	// arrive once, in order (upstream sent them twice, offsets going back).
	g := newGateway(t, Config{}, nil, nil, nil)
	g.produce(0, 100)
	c := g.dial(nil)
	waitClients(t, g, 1)
	g.produce(0, 10) // 100..109, queued live for c
	c.send(partitionResume(control.FromCursor, map[int32]int64{0: 49}))
	events, _ := until[*control.ReplayComplete](c)
	if got := offsets(recordsOf(events)); got != span(0, 50, 109) {
		t.Fatalf("replayed %s", got)
	}
	g.produce(0, 1) // 110
	if got := offsets(c.records(1)); got != "0/110" {
		t.Errorf("after the replay the client got %s, want only 0/110 (the queued 100..109 are duplicates)", got)
	}
}

func TestResume_FromLatestSkipsQueuedRecords(t *testing.T) {
	g := newGateway(t, Config{}, nil, nil, nil)
	g.produce(0, 5)
	c := g.dial(nil)
	waitClients(t, g, 1)
	g.produce(0, 3) // 5..7 queued live
	c.send(partitionResume(control.FromLatest, nil))
	events, done := until[*control.ReplayComplete](c)
	if len(events) != 0 || done.Mode != control.FromLatest || done.LastOffsetsByPartition[0] != 7 || done.TotalReplayed != 0 {
		t.Fatalf("latest: %v then %s", events, done.AppendJSON(nil))
	}
	g.produce(0, 1)
	if got := offsets(c.records(1)); got != "0/8" {
		t.Errorf("got %s, want 0/8 only", got)
	}
}

func TestResume_EarliestAndUnknownPartitionsStartAtTheStoresOldest(t *testing.T) {
	ring, _ := memory.New(memory.Config{MaxRecords: 10})
	g := newGateway(t, Config{}, ring, nil, nil)
	g.produce(0, 15) // the ring keeps 5..14
	g.produce(1, 0)
	c := g.dial(nil)
	c.send(partitionResume(control.FromEarliest, map[int32]int64{0: 12}))
	events, done := until[*control.ReplayComplete](c)
	if got := offsets(recordsOf(events)); got != span(0, 5, 14) {
		t.Errorf("earliest replayed %s", got)
	}
	for _, e := range events {
		if e.msg != nil {
			t.Errorf("earliest reported %s: retention is not a gap", e)
		}
	}
	if done.Mode != control.FromEarliest {
		t.Errorf("mode %q", done.Mode)
	}
	// A cursor for partition 1 only: partition 0, unknown to the client,
	// replays from the oldest retained record without a gap.
	c2 := g.dial(nil)
	c2.send(partitionResume(control.FromCursor, map[int32]int64{1: 0}))
	events, _ = until[*control.ReplayComplete](c2)
	if got := offsets(recordsOf(events)); got != span(0, 5, 14) {
		t.Errorf("unknown partition replayed %s", got)
	}
}

func TestResume_StaleOnlyWhenTheCursorIsReallyBehind(t *testing.T) {
	ring, _ := memory.New(memory.Config{MaxRecords: 10})
	g := newGateway(t, Config{}, ring, nil, nil)
	g.produce(0, 30) // oldest retained: 20
	cases := []struct {
		cursor int64
		stale  bool
	}{{5, true}, {18, true}, {19, false}, {25, false}}
	for _, tc := range cases {
		c := g.dial(nil)
		c.send(partitionResume(control.FromCursor, map[int32]int64{0: tc.cursor}))
		events, _ := until[*control.ReplayComplete](c)
		var stale *control.CursorStale
		for _, e := range events {
			if s, ok := e.msg.(*control.CursorStale); ok {
				stale = s
			} else if e.msg != nil {
				t.Errorf("cursor %d: unexpected %s", tc.cursor, e)
			}
		}
		if (stale != nil) != tc.stale {
			t.Errorf("cursor %d: stale %v, want %v (upstream was off by one at 19)", tc.cursor, stale != nil, tc.stale)
		}
		if stale != nil && (stale.Requested != tc.cursor || stale.Oldest != 20) {
			t.Errorf("cursor_stale %s", stale.AppendJSON(nil))
		}
		if got := offsets(recordsOf(events)); got != span(0, max(20, tc.cursor+1), 29) {
			t.Errorf("cursor %d replayed %s", tc.cursor, got)
		}
	}
}

// fixedSkips is a Skips that knows an explicit set of skipped offsets.
type fixedSkips map[[2]int64]bool

func (s fixedSkips) KnownSkipped(p int32, from, to int64) bool {
	for o := from; o <= to; o++ {
		if !s[[2]int64{int64(p), o}] {
			return false
		}
	}
	return true
}

func TestResume_HoleInsideTheStoreIsAGapWithItsExactRange(t *testing.T) {
	for _, tc := range []struct {
		name  string
		skips Skips
		gap   bool
	}{
		{"unknown hole", nil, true},
		{"offsets the source skipped", fixedSkips{{0, 5}: true, {0, 6}: true, {0, 7}: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, Config{}, nil, nil, tc.skips)
			for _, o := range []int64{0, 1, 2, 3, 4, 8, 9} {
				g.ingest(record(t, 0, o, "a"))
			}
			c := g.dial(nil)
			c.send(partitionResume(control.FromCursor, map[int32]int64{0: 0}))
			events, _ := until[*control.ReplayComplete](c)
			var got []string
			for _, e := range events {
				if gap, ok := e.msg.(*control.Gap); ok {
					if *gap.Partition != 0 || *gap.FromOffset != 5 || *gap.ToOffset != 7 || gap.Count != 3 {
						t.Errorf("gap %s", gap.AppendJSON(nil))
					}
					got = append(got, "gap")
				} else {
					got = append(got, e.String())
				}
			}
			want := "record 0/1,record 0/2,record 0/3,record 0/4,gap,record 0/8,record 0/9"
			if !tc.gap {
				want = "record 0/1,record 0/2,record 0/3,record 0/4,record 0/8,record 0/9"
			}
			if joined := join(got); joined != want {
				t.Errorf("got %s\nwant %s", joined, want)
			}
		})
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

func TestResume_CapBoundsOneBurstAndTheRestFollowsByItself(t *testing.T) {
	g := newGateway(t, Config{ReplayMaxTotal: 7}, nil, nil, nil)
	g.produce(0, 10)
	g.produce(1, 10)
	c := g.dial(nil)
	c.send(partitionResume(control.FromEarliest, nil))
	events, done := until[*control.ReplayComplete](c)
	if got := offsets(recordsOf(events)); got != span(0, 0, 6) {
		t.Fatalf("capped burst sent %s, want exactly 7 records", got)
	}
	if !done.Capped || !done.Continuing || done.Live || done.TotalReplayed != 7 || done.Reason == "" || done.LastOffsetsByPartition[0] != 6 {
		t.Fatalf("replay_complete %s", done.AppendJSON(nil))
	}
	// The client sends nothing more: the rest comes in pages of at most the
	// cap, the unfinished partitions in turn, then the notice that it is live.
	events, done = until[*control.ReplayComplete](c)
	if got, want := offsets(recordsOf(events)), span(0, 7, 9)+" "+span(1, 0, 6)+" "+span(1, 7, 9); got != want {
		t.Fatalf("continuation sent %s, want %s", got, want)
	}
	if done.Capped || done.Continuing || !done.Live || done.TotalReplayed != 20 || done.Mode != control.FromEarliest ||
		done.LastOffsetsByPartition[0] != 9 || done.LastOffsetsByPartition[1] != 9 {
		t.Fatalf("final replay_complete %s", done.AppendJSON(nil))
	}
	g.produce(1, 1)
	g.produce(0, 1)
	if got := offsets(c.records(2)); got != "1/10 0/10" {
		t.Errorf("live after the continuation: %s", got)
	}
}

func TestResume_ANewResumeReplacesTheContinuation(t *testing.T) {
	// A slow replay allowance keeps the continuation waiting (its first
	// page needs 2 s of allowance), so the new resume surely arrives first.
	g := newGateway(t, Config{ReplayMaxTotal: 5, ReplayRate: 50}, nil, nil, nil)
	g.produce(0, 10)
	g.produce(1, 10)
	c := g.dial(nil)
	c.send(partitionResume(control.FromEarliest, nil))
	_, done := until[*control.ReplayComplete](c)
	if !done.Capped || !done.Continuing {
		t.Fatalf("replay_complete %s", done.AppendJSON(nil))
	}
	c.send(partitionResume(control.FromLatest, nil))
	events, done := until[*control.ReplayComplete](c)
	if done.Mode != control.FromLatest || !done.Live {
		t.Fatalf("the new resume was answered with %s", done.AppendJSON(nil))
	}
	var told bool
	for _, e := range events {
		if e.msg == nil {
			t.Fatalf("the replaced continuation still sent %s", e)
		}
		if m, ok := e.msg.(*control.Error); ok && m.Code == control.CodeReplayRateLimited {
			told = true
		}
	}
	if !told {
		t.Errorf("the waiting request was not told why: %v", events)
	}
	g.produce(0, 1)
	g.produce(1, 1)
	if got := offsets(c.records(2)); got != "0/10 1/10" {
		t.Errorf("after the new resume: %s", got)
	}
	c.send(&control.Ping{})
	if e := c.mustNext(); e.msg == nil || e.msg.Type() != control.TypePong {
		t.Fatalf("the replaced continuation went on: %s", e)
	}
}

func TestResume_ThreadMode(t *testing.T) {
	g := newGateway(t, Config{}, nil, nil, nil)
	// Thread a: seqs 1..5 on partition 0 except seq 3 (a hole); thread b on partition 1.
	for _, seq := range []uint64{1, 2, 4, 5} {
		g.ingest(replay.Record{Partition: 0, Offset: int64(seq), Value: value(t, "a", seq), Threads: []replay.ThreadSeq{{Thread: "a", Seq: seq}}})
	}
	g.ingest(replay.Record{Partition: 1, Offset: 0, Value: value(t, "b", 1), Threads: []replay.ThreadSeq{{Thread: "b", Seq: 1}}})

	c := g.dial(nil)
	c.send(control.NewThreadResume(map[string]uint64{"a": 1, "b": 0}))
	events, done := until[*control.ReplayComplete](c)
	var got []string
	for _, e := range events {
		if gap, ok := e.msg.(*control.Gap); ok {
			if gap.ThreadID != "a" || *gap.FromSequence != 3 || *gap.ToSequence != 3 {
				t.Errorf("gap %s", gap.AppendJSON(nil))
			}
			got = append(got, "gap")
			continue
		}
		got = append(got, e.String())
	}
	if j := join(got); j != "record 0/2,gap,record 0/4,record 0/5,record 1/0" {
		t.Errorf("thread replay: %s", j)
	}
	if done.Mode != control.ModeThread || done.TotalReplayed != 4 {
		t.Errorf("replay_complete %s", done.AppendJSON(nil))
	}
	// An empty request still gets an answer (upstream sent nothing).
	c.send(control.NewThreadResume(map[string]uint64{}))
	if _, done := until[*control.ReplayComplete](c); done.TotalReplayed != 0 || done.Mode != control.ModeThread {
		t.Errorf("empty thread resume: %s", done.AppendJSON(nil))
	}
}

func waitClients(t testing.TB, g *gateway, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.hub.Clients() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d clients connected, want %d", g.hub.Clients(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var _ = context.Background

func TestPager_SizesPagesByValueBytes(t *testing.T) {
	h := New(Config{PageSize: 1000, PageBytes: 1 << 20}, nil, nil, nil, nil, quiet)
	pg := h.newPager()
	if pg.limit != 64 {
		t.Fatalf("first page %d", pg.limit)
	}
	pg.observe([]replay.Record{{Value: make([]byte, 256<<10)}, {Value: make([]byte, 256<<10)}})
	if pg.limit != 4 { // 1 MiB of 256 KiB records
		t.Errorf("after large records: %d", pg.limit)
	}
	pg.observe([]replay.Record{{Value: make([]byte, 10)}})
	if pg.limit != 1000 {
		t.Errorf("after small records: %d", pg.limit)
	}
	pg.observe(nil)
	if pg.limit != 1000 {
		t.Errorf("an empty page changed the limit: %d", pg.limit)
	}
}

// Offsets the source skipped as unreadable reach live clients as a gap with
// the exact range, between the records around the hole; a client already
// past the hole is not told twice, and a replay over it reports it too.
func TestLive_SkippedOffsetsArriveAsAGapInOrder(t *testing.T) {
	g := newGateway(t, Config{}, nil, nil, nil)
	c := g.dial(nil)
	c.send(partitionResume(control.FromLatest, nil))
	until[*control.ReplayComplete](c)
	g.produce(0, 3) // offsets 0..2
	g.mu.Lock()
	g.next[0] = 8 // 3..7 unreadable: the source skips them
	g.mu.Unlock()
	g.hub.PublishGap(0, 3, 7)
	g.produce(0, 2)           // 8, 9
	g.hub.PublishGap(0, 5, 6) // stale: the client is past it
	g.produce(0, 1)           // 10
	var got []string
	for range 7 {
		got = append(got, c.mustNext().String())
	}
	want := []string{"record 0/0", "record 0/1", "record 0/2",
		string(control.PartitionGap(0, 3, 7).AppendJSON(nil)), "record 0/8", "record 0/9", "record 0/10"}
	for i := range want {
		if i == 3 {
			msg, err := control.Parse([]byte(got[i]))
			if g, _ := msg.(*control.Gap); err != nil || g == nil || *g.FromOffset != 3 || *g.ToOffset != 7 || g.Count != 5 || g.Partition == nil || *g.Partition != 0 {
				t.Fatalf("event %d: %s, want a gap of offsets 3..7", i, got[i])
			}
			continue
		}
		if got[i] != want[i] {
			t.Fatalf("events %q, want %q", got, want)
		}
	}
	// A replay over the hole reports it from the store.
	r := g.dial(nil)
	r.send(partitionResume(control.FromCursor, map[int32]int64{0: 1}))
	events, _ := until[*control.ReplayComplete](r)
	var gaps int
	for _, e := range events {
		if gp, ok := e.msg.(*control.Gap); ok && *gp.FromOffset == 3 && *gp.ToOffset == 7 {
			gaps++
		}
	}
	if gaps != 1 {
		t.Fatalf("replay over the hole: %v", events)
	}
}

//go:build !(js && wasm)

package session

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runstate"
)

func TestSession_AppliesFramesFromARealServerAndCommitsTheirCursors(t *testing.T) {
	g := newGateway(t, 10_000)
	s, storage := startSession(t, g, nil)
	eventually(t, "connected", connected(s))
	g.produce(0, "a", events(t, "a", 1, 20)...)
	g.produce(1, "b", events(t, "b", 1, 5)...)
	eventually(t, "all applied and committed", func() bool {
		h := s.Health()
		o0, _ := s.Cursors().Offset(0)
		o1, _ := s.Cursors().Offset(1)
		return h.Applied == 25 && o0 == 19 && o1 == 4
	})
	h := s.Health()
	if h.Frames != 25 || h.Runs != 2 || h.Epoch != 1 || h.Namespace == "" || h.SchemaMismatch != "" || len(h.DecodeErrors) != 0 {
		t.Errorf("health %+v", h)
	}
	s.Cursors().Flush()
	stored := storage.Snapshot()
	var found bool
	for k, v := range stored {
		if strings.HasPrefix(k, "dashstream_lastOffsetsByPartition_v1:"+h.Namespace) && strings.Contains(v, `"0":"19"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("offsets not persisted under the namespace: %v", stored)
	}
}

func TestSession_RecoversFromAServerRestartWithNothingSkippedOrAppliedTwice(t *testing.T) {
	g := newGateway(t, 10_000)
	s, _ := startSession(t, g, nil)
	eventually(t, "connected", connected(s))
	g.produce(0, "a", events(t, "a", 1, 10)...)
	eventually(t, "10 applied", func() bool { return s.Health().Applied == 10 })

	g.stop() // every connection dropped; the retained records survive
	eventually(t, "reconnecting", func() bool { return s.Health().State == Reconnecting })
	// Records produced while the page is cut off reach the store only.
	for q := uint64(11); q <= 30; q++ {
		g.produce(0, "a", event(t, "a", q))
	}
	g.up()
	eventually(t, "reconnected and caught up", func() bool {
		h := s.Health()
		return h.State == Connected && h.Applied == 30
	})
	g.produce(0, "a", events(t, "a", 31, 35)...)
	eventually(t, "live again", func() bool { return s.Health().Applied == 35 })
	h := s.Health()
	f := h.Flow[0]
	if h.Duplicates != 0 || f.First != 0 || f.Last != 34 || f.Frames != 35 || h.Epoch < 2 {
		t.Errorf("flow %+v, duplicates %d, epoch %d: something skipped or repeated", f, h.Duplicates, h.Epoch)
	}
	if last, n, integ, _ := runOf(s, "a"); last != 35 || n != 35 || integ != "gap=false corrupted=false" {
		t.Errorf("run a: last %d, %d events, %s", last, n, integ)
	}
}

func TestSession_ACappedReplayGoesOnWithoutAnotherResume(t *testing.T) {
	g := newGateway(t, 10_000)
	g.replayMax = 40 // hubs made from now on: the restart below
	s, _ := startSession(t, g, nil)
	eventually(t, "connected", connected(s))
	g.produce(0, "a", events(t, "a", 1, 5)...)
	eventually(t, "5 applied", func() bool { return s.Health().Applied == 5 })

	g.stop()
	eventually(t, "reconnecting", func() bool { return s.Health().State == Reconnecting })
	// 300 records the page missed, on its partition and a new one: the
	// resume stops at 40 and the server goes on by itself.
	g.produce(0, "a", events(t, "a", 6, 150)...)
	g.produce(1, "b", events(t, "b", 1, 155)...)
	g.up()
	eventually(t, "caught up and connected", func() bool {
		h := s.Health()
		return h.State == Connected && h.Applied == 305
	})
	h := s.Health()
	if h.Duplicates != 0 || strings.Contains(h.LastError, "capped") {
		t.Errorf("health %+v", h)
	}
	g.mu.Lock()
	last := g.metrics[len(g.metrics)-1]
	g.mu.Unlock()
	if n := testutil.ToFloat64(last.ResumeRequests.WithLabelValues("partition")); n != 1 {
		t.Errorf("the page sent %v partition resumes to the restarted server, want 1", n)
	}
	for _, th := range []string{"a", "b"} {
		if _, _, integ, _ := runOf(s, th); integ != "gap=false corrupted=false" {
			t.Errorf("run %s: %s", th, integ)
		}
	}
}

func TestSession_SchemaMismatchIsASentence(t *testing.T) {
	g := newGateway(t, 100)
	g.schema.Store(protocol.SchemaVersion + 1)
	s, _ := startSession(t, g, nil)
	eventually(t, "connected", connected(s))
	if m := s.Health().SchemaMismatch; !strings.Contains(m, "version 2") || !strings.HasSuffix(m, ".") {
		t.Errorf("mismatch %q", m)
	}
}

func TestDecode_TimeoutRestartsPipeline(t *testing.T) {
	g := newGateway(t, 10_000)
	release := make(chan struct{})
	var hung atomic.Int32
	s, _ := startSession(t, g, func(c *Config) {
		c.DecodeTimeout = 30_000_000 // 30 ms
		c.Decode = func(b []byte) (*pb.DashStreamMessage, error) {
			msg, err := protocol.Decode(b)
			if err == nil && seqOf(msg) == 3 && hung.Add(1) == 1 {
				<-release // the first decode of sequence 3 hangs
			}
			return msg, err
		}
	})
	defer close(release)
	eventually(t, "connected", connected(s))
	g.produce(0, "a", events(t, "a", 1, 10)...)
	eventually(t, "all 10 applied after the pipeline restarted", func() bool { return s.Health().Applied == 10 })
	h := s.Health()
	if h.DecodeErrors["timeout"] != 1 || h.Epoch < 2 {
		t.Errorf("decode errors %v, epoch %d", h.DecodeErrors, h.Epoch)
	}
	if last, n, integ, _ := runOf(s, "a"); last != 10 || n != 10 || integ != "gap=false corrupted=false" {
		t.Errorf("run a: last %d, %d events, %s (the hung frame must be re-sent, not lost)", last, n, integ)
	}
}

func TestDecode_HostileFramesFromTheServerAreCountedAndPassedOver(t *testing.T) {
	g := newGateway(t, 10_000)
	s, _ := startSession(t, g, nil)
	eventually(t, "connected", connected(s))
	good := event(t, "a", 2)
	bad := [][]byte{
		{0x00, 0xff, 0xff, 0xff}, // invalid protobuf
		good[:len(good)-2],       // truncated
		{0x01, 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x01, 0, 0},                    // zstd without content size
		append([]byte{0x00}, make([]byte, protocol.DefaultMaxPayloadBytes+10)...), // oversized
	}
	g.produce(0, "a", event(t, "a", 1))
	g.produce(0, "x", bad...)
	g.produce(0, "a", good, event(t, "a", 3))
	eventually(t, "the good frames applied", func() bool { return s.Health().Applied == 3 })
	eventually(t, "cursor past every frame", func() bool { o, _ := s.Cursors().Offset(0); return o == 6 })
	h := s.Health()
	var n uint64
	for _, v := range h.DecodeErrors {
		n += v
	}
	if n != 4 || h.DecodeErrors["too_large"] != 1 || h.DecodeErrors["missing_content_size"] != 1 || h.State != Connected {
		t.Errorf("decode errors %v, state %v", h.DecodeErrors, h.State)
	}
}

func TestFollow_ReplaysAJoinedRunFromItsStart(t *testing.T) {
	g := newGateway(t, 10_000)
	g.produce(0, "late", events(t, "late", 1, 10)...) // before the page opened
	s, _ := startSession(t, g, nil)
	eventually(t, "connected", connected(s))
	g.produce(0, "late", events(t, "late", 11, 15)...)
	eventually(t, "joined mid-stream", func() bool { last, _, _, ok := runOf(s, "late"); return ok && last == 15 })
	if _, n, _, _ := runOf(s, "late"); n != 5 {
		t.Fatalf("the page has %d events of the joined run, want 5", n)
	}
	s.Follow("late")
	eventually(t, "history rebuilt from sequence 1", func() bool {
		_, n, _, _ := runOf(s, "late")
		return n == 15 && len(s.Health().ReplayingThreads) == 0
	})
	var pinned bool
	s.Read(func(st *runstate.Store) { pinned = st.Pinned("late") })
	if !pinned {
		t.Error("the followed run is not pinned")
	}
	s.Follow("late") // complete now: no second replay
	if rt := s.Health().ReplayingThreads; len(rt) != 0 {
		t.Errorf("a complete run was replayed again: %v", rt)
	}
	s.Unfollow()
	s.Read(func(st *runstate.Store) { pinned = st.Pinned("late") })
	if pinned {
		t.Error("Unfollow left the run pinned")
	}
}

func TestSubscribe_CallbacksAreCoalescedAndOutsideTheLock(t *testing.T) {
	g := newGateway(t, 10_000)
	s, _ := startSession(t, g, nil)
	var calls atomic.Int64
	var seen atomic.Uint64
	cancel := s.Subscribe(func() {
		calls.Add(1)
		s.Read(func(st *runstate.Store) { seen.Store(st.Stats().Applied) }) // would deadlock under the lock
	})
	defer cancel()
	eventually(t, "connected", connected(s))
	g.produce(0, "a", events(t, "a", 1, 500)...)
	eventually(t, "a callback saw every message", func() bool { return seen.Load() == 500 })
	if c := calls.Load(); c >= 500 {
		t.Errorf("%d callbacks for 500 messages: not coalesced", c)
	}
}

// A page too busy to keep up (here: a slow decoder and a short queue, so
// the reader blocks on the queue) is not a silent socket: it must not be
// disconnected by the heartbeat or stall checks, which would throw the
// queued work away and fetch it again.
func TestSession_BusyPageIsNotTakenForADeadSocket(t *testing.T) {
	g := newGateway(t, 10_000)
	s, _ := startSession(t, g, func(c *Config) {
		c.QueueSize = 2
		c.Tick = 20 * time.Millisecond
		c.Heartbeat, c.HeartbeatTimeout = 50*time.Millisecond, 150*time.Millisecond
		c.DecodeTimeout = 10 * time.Second
		c.Decode = func(b []byte) (*pb.DashStreamMessage, error) {
			time.Sleep(200 * time.Millisecond) // longer than the heartbeat timeout
			return protocol.Decode(b)
		}
	})
	eventually(t, "connected", connected(s))
	g.produce(0, "a", events(t, "a", 1, 10)...)
	eventually(t, "all 10 applied", func() bool { return s.Health().Applied == 10 })
	if h := s.Health(); h.Epoch != 1 {
		t.Errorf("the busy page reconnected: epoch %d, last error %q", h.Epoch, h.LastError)
	}
}

package hub

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/internal/redisserver"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
	"github.com/dashstream/dashstream/server/replay/redisstore"
)

// redisTiered is a memory ring of front records in front of a real Redis
// (redis-server on a free port), as the gateway runs with REDIS_URL.
func redisTiered(t testing.TB, front int) *replay.Tiered {
	t.Helper()
	rs := redisserver.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	t.Cleanup(func() { rc.Close() })
	durable, err := redisstore.New(rc, "v1_test", redisstore.Config{TTL: time.Hour, MaxEntries: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := memory.New(memory.Config{MaxRecords: front})
	if err != nil {
		t.Fatal(err)
	}
	tiered, err := replay.NewTiered(ring, durable, replay.TieredConfig{QueueSize: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tiered.Close(context.Background()) })
	return tiered
}

// TestCappedReplay_UpstreamUISequenceLeavesNoPartitionSilent plays exactly
// what the upstream UI does: connect with from "latest", commit offsets only
// for the partitions it received frames from, reconnect with from "cursor"
// and that partial map, and then send nothing more. The partitions missing
// from the map replay from their oldest record and hit REPLAY_MAX_TOTAL. The
// gateway must catch the client up by itself: every partition, including
// the one the client had a cursor for, delivers live records, and across
// both connections nothing is duplicated, skipped without a notice or sent
// backwards.
func TestCappedReplay_UpstreamUISequenceLeavesNoPartitionSilent(t *testing.T) {
	t.Run("memory", func(t *testing.T) { runUpstreamUISequence(t, nil, nil) })
	t.Run("redis", func(t *testing.T) {
		tiered := redisTiered(t, 64)
		runUpstreamUISequence(t, tiered, func(n int) {
			// Redis is written behind the memory ring: wait until it holds
			// the history, so its oldest record is offset 0.
			eventually(t, "Redis to hold the history", func() bool {
				s := tiered.Stats()
				return s.Queued == 0 && s.Written >= uint64(n)
			})
		})
	})
}

// frame is one thing a raw test client read: a record or a control message.
type frame struct {
	rec replay.Record
	msg control.Message
	err error
}

// readFrames reads ws until it fails, pairing each binary frame with its
// cursor; it never blocks on out (buffered generously) for long.
func readFrames(ws *websocket.Conn) <-chan frame {
	out := make(chan frame, 1<<16)
	go func() {
		defer close(out)
		var pending *control.Cursor
		for {
			typ, data, err := ws.Read(context.Background())
			if err != nil {
				out <- frame{err: err}
				return
			}
			if typ == websocket.MessageBinary {
				if pending == nil {
					out <- frame{err: fmt.Errorf("binary frame without a cursor")}
					return
				}
				out <- frame{rec: replay.Record{Partition: pending.Partition, Offset: pending.Offset, Value: data}}
				pending = nil
				continue
			}
			msg, err := control.Parse(data)
			if err != nil {
				out <- frame{err: fmt.Errorf("invalid control frame %q: %w", data, err)}
				return
			}
			if cur, ok := msg.(*control.Cursor); ok {
				if pending != nil {
					out <- frame{err: fmt.Errorf("two cursors in a row")}
					return
				}
				pending = cur
				continue
			}
			if pending != nil {
				out <- frame{err: fmt.Errorf("%s between a cursor and its value", data)}
				return
			}
			out <- frame{msg: msg}
		}
	}()
	return out
}

// ledger checks, across connections, that each partition's records arrive
// in order with no duplicate and no hole the server did not report.
type ledger struct {
	last     map[int32]int64 // newest offset received per partition
	reported [][3]int64      // partition, from, to: holes the server reported
	count    map[int32]int
}

func newLedger() *ledger { return &ledger{last: map[int32]int64{}, count: map[int32]int{}} }

// record takes a record; want0 is the offset a partition's first record must
// have when the client never had one (the store's oldest).
func (l *ledger) record(rec replay.Record, want0 int64) error {
	want := want0
	if last, ok := l.last[rec.Partition]; ok {
		if rec.Offset <= last {
			return fmt.Errorf("record %d/%d after %d: duplicate or backwards", rec.Partition, rec.Offset, last)
		}
		want = last + 1
	}
	if rec.Offset > want && !covered(l.reported, rec.Partition, want, rec.Offset-1) {
		return fmt.Errorf("record %d/%d: offsets %d..%d skipped without a gap or cursor_stale", rec.Partition, rec.Offset, want, rec.Offset-1)
	}
	l.last[rec.Partition] = rec.Offset
	l.count[rec.Partition]++
	return nil
}

func (l *ledger) control(m control.Message) {
	switch m := m.(type) {
	case *control.Gap:
		if m.Partition != nil && m.FromOffset != nil {
			l.reported = append(l.reported, [3]int64{int64(*m.Partition), *m.FromOffset, *m.ToOffset})
		}
	case *control.CursorStale:
		l.reported = append(l.reported, [3]int64{int64(m.Partition), m.Requested + 1, m.Oldest - 1})
	}
}

func runUpstreamUISequence(t *testing.T, store replay.Store, settle func(records int)) {
	const partitions, history, cap = 4, 1000, 50
	g := newGateway(t, Config{ReplayMaxTotal: cap}, store, nil, nil)
	for p := range int32(partitions) {
		g.produce(p, history)
	}
	led := newLedger()
	const cursorPartition = 2

	// First connection: from "latest"; live records arrive on one
	// partition only, so the client commits only that one.
	c1 := g.dial(nil)
	c1.send(&control.Resume{Mode: "", From: control.FromLatest, HasOffsets: true})
	until[*control.ReplayComplete](c1)
	g.produce(cursorPartition, 5)
	for _, rec := range c1.records(5) {
		if err := led.record(rec, history); err != nil {
			t.Fatal(err)
		}
	}
	committed := map[int32]int64{cursorPartition: led.last[cursorPartition]}
	c1.ws.Close(websocket.StatusGoingAway, "")
	g.produce(cursorPartition, 20) // missed while away
	if settle != nil {
		settle(partitions*history + 25)
	}

	// Second connection: from "cursor" with the partial map, then silence.
	ws := g.dial(nil).ws
	frames := readFrames(ws)
	resume := (&control.Resume{From: control.FromCursor, HasOffsets: true, LastOffsetsByPartition: committed}).AppendJSON(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := ws.Write(ctx, websocket.MessageText, resume); err != nil {
		t.Fatal(err)
	}
	cancel()

	// readUntil takes frames until done holds; the deadline only bounds a
	// hang. It keeps the latest replay_complete.
	var rc *control.ReplayComplete
	afterCap := map[int32]int{} // records per partition after the capped burst
	readUntil := func(what string, done func() bool) {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for !done() {
			select {
			case f := <-frames:
				switch m := f.msg.(type) {
				case nil:
					if f.err != nil {
						t.Fatalf("second connection: %v", f.err)
					}
					if err := led.record(f.rec, 0); err != nil {
						t.Fatal(err)
					}
					if rc != nil {
						afterCap[f.rec.Partition]++
					}
				case *control.ReplayComplete:
					rc = m
				default:
					led.control(m)
				}
			case <-deadline:
				t.Fatalf("waiting for %s: newest record per partition %v; records per partition after the cap %v", what, led.last, afterCap)
			}
		}
	}
	readUntil("the capped replay_complete", func() bool { return rc != nil })
	if !rc.Capped || !rc.Continuing || rc.TotalReplayed != cap {
		t.Fatalf("the replay should stop at the cap: %s", rc.AppendJSON(nil))
	}

	// Live traffic on every partition from now on.
	g.mu.Lock()
	liveFrom := maps.Clone(g.next) // the first offsets produced after the cap
	g.mu.Unlock()
	stop := make(chan struct{})
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for p := range int32(partitions) {
					g.produce(p, 1)
				}
			}
		}
	}()
	stopProducing := sync.OnceFunc(func() { close(stop); <-produced })
	defer stopProducing()

	// Every partition, the one with a cursor too, delivers a record
	// produced after the cap, with nothing more sent by the client.
	after := time.Now()
	readUntil("every partition to deliver live records", func() bool {
		for p := range int32(partitions) {
			if led.last[p] < liveFrom[p] {
				return false
			}
		}
		return true
	})
	t.Logf("every partition live %v after the capped replay; records per partition since: %v",
		time.Since(after).Round(time.Millisecond), afterCap)
	stopProducing()
	g.mu.Lock()
	newest := maps.Clone(g.next)
	g.mu.Unlock()
	// Everything produced arrives, and the client is told it is live.
	readUntil("everything and the live notice", func() bool { return caughtUp(led.last, newest) && rc.Live })
	if rc.Capped || rc.Continuing {
		t.Errorf("the notice that the client is live: %s", rc.AppendJSON(nil))
	}
}

func caughtUp(last, next map[int32]int64) bool {
	for p, n := range next {
		if last[p] != n-1 {
			return false
		}
	}
	return true
}

package hub

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/replay"
)

// TestProperty_RandomDisconnectsNeverDuplicateSkipOrGoBack runs random
// traffic on three partitions while clients disconnect at random points
// (sometimes between a cursor and its binary frame) and resume from their
// last committed cursor. For every client: within a connection offsets per
// partition only go up; across connections the committed offsets are
// exactly 0, 1, 2, … with every jump covered by a gap or cursor_stale the
// client was told about; and at the end each client has everything.
func TestProperty_RandomDisconnectsNeverDuplicateSkipOrGoBack(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		runProperty(t, nil, 1, true)
	})
	t.Run("redis", func(t *testing.T) {
		runProperty(t, redisTiered(t, 50), 2, false) // most replays come from Redis
	})
}

// fromZero requires every client to receive each partition from offset 0
// (true when the store retains everything); otherwise a client's first
// record of a partition it has no cursor for is its baseline.
func runProperty(t *testing.T, store replay.Store, seed uint64, fromZero bool) {
	const partitions, total, clients = 3, 3000, 4
	g := newGateway(t, Config{ClientQueue: 16, SlowClientThreshold: 0}, store, nil, nil)
	rnd := rand.New(rand.NewPCG(seed, 42))
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		r := rand.New(rand.NewPCG(seed, 7))
		for n := 0; n < total; {
			burst := 1 + r.IntN(40)
			for range burst {
				g.produce(int32(r.IntN(partitions)), 1)
				n++
			}
			time.Sleep(time.Duration(r.IntN(2000)) * time.Microsecond)
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for i := range clients {
		wg.Add(1)
		seed := rnd.Uint64()
		go func() {
			defer wg.Done()
			if err := propertyClient(g, rand.New(rand.NewPCG(seed, uint64(i))), produced, partitions, fromZero); err != nil {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("client %d: %v", i, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
}

// propertyClient plays one client until it has committed every record.
func propertyClient(g *gateway, r *rand.Rand, produced <-chan struct{}, partitions int, fromZero bool) error {
	committed := map[int32]int64{} // last committed offset per partition
	var reported [][3]int64        // partition, from, to: holes the server reported
	for session := 0; ; session++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		ws, _, err := websocket.Dial(ctx, g.url(), nil)
		if err != nil {
			cancel()
			return fmt.Errorf("session %d: dial: %w", session, err)
		}
		ws.SetReadLimit(32 << 20)
		resume := control.NewPartitionResume(control.FromCursor, committed)
		if err := ws.Write(ctx, websocket.MessageText, resume.AppendJSON(nil)); err != nil {
			cancel()
			return err
		}
		finishing := false
		select {
		case <-produced:
			finishing = true // read until everything is committed
		default:
		}
		if finishing && done(committed, partitions, g) {
			// Everything was committed in an earlier session, before the
			// producer finished: nothing more will come to this one.
			ws.Close(websocket.StatusNormalClosure, "")
			cancel()
			return nil
		}
		budget := r.IntN(300)
		seen := map[int32]int64{}
		var pending *control.Cursor
		for frames := 0; finishing || frames < budget; frames++ {
			typ, data, err := ws.Read(ctx)
			if err != nil {
				cancel()
				return fmt.Errorf("session %d: read: %w", session, err)
			}
			if typ == websocket.MessageBinary {
				if pending == nil {
					cancel()
					return fmt.Errorf("binary without cursor")
				}
				p, o := pending.Partition, pending.Offset
				pending = nil
				if last, ok := seen[p]; ok && o <= last {
					cancel()
					return fmt.Errorf("session %d: offset %d/%d after %d (duplicate or backwards)", session, p, o, last)
				}
				seen[p] = o
				want := int64(0)
				if c, ok := committed[p]; ok {
					want = c + 1
				} else if !fromZero {
					want = o // no cursor yet: the server starts at its oldest record
				}
				if o < want {
					continue // re-sent after the cursor the client gave: not committed twice
				}
				if o > want && !covered(reported, p, want, o-1) {
					cancel()
					return fmt.Errorf("session %d: offset %d/%d after committed %d: a hole nobody reported", session, p, o, want-1)
				}
				committed[p] = o
				if finishing && done(committed, partitions, g) {
					ws.Close(websocket.StatusNormalClosure, "")
					cancel()
					return nil
				}
				continue
			}
			msg, err := control.Parse(data)
			if err != nil {
				cancel()
				return fmt.Errorf("bad frame %q", data)
			}
			switch m := msg.(type) {
			case *control.Cursor:
				pending = m
			case *control.Gap:
				if m.Partition != nil && m.FromOffset != nil {
					reported = append(reported, [3]int64{int64(*m.Partition), *m.FromOffset, *m.ToOffset})
				}
			case *control.CursorStale:
				reported = append(reported, [3]int64{int64(m.Partition), m.Requested + 1, m.Oldest - 1})
			}
		}
		// Disconnect abruptly, possibly between a cursor and its value.
		ws.CloseNow()
		cancel()
	}
}

func covered(reported [][3]int64, p int32, from, to int64) bool {
	for o := from; o <= to; o++ {
		ok := false
		for _, r := range reported {
			if r[0] == int64(p) && r[1] <= o && o <= r[2] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func done(committed map[int32]int64, partitions int, g *gateway) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for p := range int32(partitions) {
		if committed[p] != g.next[p]-1 {
			return false
		}
	}
	return true
}

package hub

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/replay"
)

// TestChaos_StuckClientsDoNotWidenOthersDeliveryGaps measures, in the same
// test, the largest delivery gap of normal clients while records flow
// without and then with stuck clients beside them (one that stopped reading
// live, one that stopped reading in the middle of a capped replay's
// continuation, their sockets full). The gap with them must stay within the
// gap without them + 1 s. Records arrive every few milliseconds, so a real
// effect shows as seconds (a writer blocked for its send timeout); a noisy
// machine can add a stall to one window, so the comparison is repeated up to
// three times and holds when any attempt holds.
func TestChaos_StuckClientsDoNotWidenOthersDeliveryGaps(t *testing.T) {
	const attempts = 3
	var alone, beside time.Duration
	for i := range attempts {
		alone, beside = stuckClientGaps(t)
		t.Logf("attempt %d: largest gap of normal clients %v alone, %v beside stuck clients",
			i+1, alone.Round(time.Millisecond), beside.Round(time.Millisecond))
		if beside <= alone+time.Second {
			return
		}
	}
	t.Errorf("normal clients' largest delivery gap grew from %v to %v beside stuck clients", alone, beside)
}

// stuckClientGaps returns the normal clients' largest delivery gap in a
// window without stuck clients and in an equal window with them.
func stuckClientGaps(t *testing.T) (alone, beside time.Duration) {
	const normal, window, every, size = 3, 3 * time.Second, 5 * time.Millisecond, 32 << 10
	// The send timeout outlasts the test: the stuck clients stay stuck
	// (blocked in a write) instead of being dropped.
	g := newGateway(t, Config{SendTimeout: time.Minute, ReplayMaxTotal: 100, ClientQueue: 64}, nil, nil, nil)
	pad := func(r replay.Record) replay.Record {
		r.Value = append(r.Value, make([]byte, size-len(r.Value))...)
		return r
	}
	var nmu sync.Mutex
	next := int64(0)
	produce := func() {
		nmu.Lock()
		o := next
		next++
		nmu.Unlock()
		g.ingest(pad(record(t, 0, o, "chaos")))
	}
	for range 2000 { // history for the stuck client's replay
		produce()
	}

	var mu sync.Mutex
	arrivals := make([][]time.Time, normal)
	var wg sync.WaitGroup
	var clients []*client
	for i := range normal {
		c := g.dial(nil)
		clients = append(clients, c)
		c.send(partitionResume(control.FromLatest, nil))
		until[*control.ReplayComplete](c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				typ, _, err := c.ws.Read(context.Background())
				if err != nil {
					return
				}
				if typ == websocket.MessageBinary {
					mu.Lock()
					arrivals[i] = append(arrivals[i], time.Now())
					mu.Unlock()
				}
			}
		}()
	}
	stop := make(chan struct{})
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				produce()
			}
		}
	}()
	defer func() {
		close(stop)
		<-produced
		for _, c := range clients {
			c.ws.CloseNow()
		}
		wg.Wait()
	}()

	largest := func(from, to time.Time) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		var worst time.Duration
		for _, got := range arrivals {
			at := []time.Time{from}
			for _, a := range got {
				if a.After(from) && a.Before(to) {
					at = append(at, a)
				}
			}
			at = append(at, to)
			for k := 1; k < len(at); k++ {
				worst = max(worst, at[k].Sub(at[k-1]))
			}
		}
		return worst
	}
	// waitUntil lets the window pass; the records themselves are the load.
	waitUntil := func(end time.Time) { time.Sleep(time.Until(end)) }

	a0 := time.Now()
	waitUntil(a0.Add(window))
	a1 := time.Now()

	// Stuck clients (small receive buffers, never read): one live, one
	// inside a capped replay's continuation.
	rawDial(t, g, 4096).text(t, partitionResume(control.FromLatest, nil))
	rawDial(t, g, 4096).text(t, partitionResume(control.FromEarliest, nil))
	waitClients(t, g, normal+2)
	b0 := time.Now()
	waitUntil(b0.Add(window))
	b1 := time.Now()
	mu.Lock()
	for i, got := range arrivals {
		if len(got) == 0 {
			t.Fatalf("normal client %d received nothing", i)
		}
	}
	mu.Unlock()
	// The stuck ones were stuck: their writers are blocked, so live records
	// wait in their queues.
	g.hub.mu.RLock()
	stuck := 0
	for c := range g.hub.conns {
		if c.live.len() > 10 || c.lagging.Load() {
			stuck++
		}
	}
	g.hub.mu.RUnlock()
	if stuck != 2 {
		t.Fatalf("%d connections are stuck, want the 2 stuck clients", stuck)
	}
	return largest(a0, a1), largest(b0, b1)
}

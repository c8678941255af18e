package hub

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dashstream/dashstream/protocol/control"
)

func TestSlowClient_CaughtUpFromTheStoreWithoutLoss(t *testing.T) {
	// A queue of 4 live records and a client that reads nothing while 500
	// are produced: it must still receive all 500, once each, in order.
	g := newGateway(t, Config{ClientQueue: 4, SlowClientThreshold: 0}, nil, nil, nil)
	c := g.dial(nil)
	c.send(partitionResume(control.FromLatest, nil))
	until[*control.ReplayComplete](c)
	g.produce(0, 500)
	got := c.records(500)
	if s := offsets(got); s != span(0, 0, 499) {
		t.Fatalf("slow client received %d records out of order or with loss", len(got))
	}
	if testutil.ToFloat64(g.m.CatchUps) == 0 || testutil.ToFloat64(g.m.DroppedMessages.WithLabelValues("lagged_receiver")) == 0 {
		t.Error("the overflow was not counted (the test did not exercise catch-up)")
	}
	if e, err := c.next(200 * time.Millisecond); err == nil {
		t.Errorf("extra frame after catching up: %s", e)
	}
}

func TestSlowClient_DisconnectedWithBothLagFieldsAndAValidCode(t *testing.T) {
	g := newGateway(t, Config{ClientQueue: 1, SlowClientThreshold: 20, SlowClientWindow: time.Minute}, nil, nil, nil)
	c := g.dial(nil)
	c.send(partitionResume(control.FromLatest, nil))
	until[*control.ReplayComplete](c)
	g.produce(0, 2000)
	var disc *control.Disconnect
	for disc == nil {
		e, err := c.next(10 * time.Second)
		if err != nil {
			t.Fatalf("connection ended without a disconnect message: %v", err)
		}
		if d, ok := e.msg.(*control.Disconnect); ok {
			disc = d
		}
	}
	if disc.Reason != "backpressure" || disc.LagInWindow < 20 || disc.CumulativeLag < disc.LagInWindow || disc.Threshold != 20 || disc.WindowSecs != 60 {
		t.Errorf("disconnect %s", disc.AppendJSON(nil))
	}
	_, err := c.next(10 * time.Second)
	if st := websocket.CloseStatus(err); st != websocket.StatusPolicyViolation {
		t.Errorf("closed with %v (%v), want 1008", st, err)
	}
	if testutil.ToFloat64(g.m.SlowClientDisconnects) != 1 {
		t.Error("slow-client disconnect not counted")
	}
}

func TestSlowClient_DoesNotSlowAFastOne(t *testing.T) {
	g := newGateway(t, Config{ClientQueue: 8}, nil, nil, nil)
	stuck := g.dial(nil) // never reads again after its resume
	stuck.send(partitionResume(control.FromLatest, nil))
	until[*control.ReplayComplete](stuck)
	fast := g.dial(nil)
	fast.send(partitionResume(control.FromLatest, nil))
	until[*control.ReplayComplete](fast)

	done := make(chan error, 1)
	go func() {
		for range 3000 {
			g.produce(0, 1)
		}
		done <- nil
	}()
	got := fast.records(3000)
	if offsets(got) != span(0, 0, 2999) {
		t.Fatal("the fast client lost or reordered records")
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("ingest blocked behind the stuck client")
	}
}

func TestSend_TimeoutDropsAStuckClient(t *testing.T) {
	g := newGateway(t, Config{ClientQueue: 100_000, SendTimeout: time.Second, SlowClientThreshold: 0}, nil, nil, nil)
	c := g.dial(nil)
	c.send(partitionResume(control.FromLatest, nil))
	until[*control.ReplayComplete](c)
	big := make([]byte, 1<<20)
	for i := range 64 { // 64 MiB the client never reads: the socket buffers fill
		r := record(t, 0, int64(i), "a")
		r.Value = big
		g.ingest(r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(g.m.SendTimeout) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a client that stopped reading was never timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitClients(t, g, 0)
	_ = errors.New
	_ = context.Background
}

func TestSlowClient_QueuedRecordsGoOutBeforeTheCatchUp(t *testing.T) {
	// The queue fills (0..7) and 8..19 are dropped before the connection
	// sends anything: the catch-up must start with the queued records, not
	// at the first dropped one (which would filter 0..7 out as "sent").
	g := newGateway(t, Config{ClientQueue: 8, ResumeGrace: 50 * time.Millisecond}, nil, nil, nil)
	c := g.dial(nil) // never resumes: live starts after the grace
	waitClients(t, g, 1)
	g.produce(0, 20)
	if got := offsets(c.records(20)); got != span(0, 0, 19) {
		t.Fatalf("got %s", got)
	}
}

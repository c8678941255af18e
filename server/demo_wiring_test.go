package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// The embedded default must show live runs with no configuration: the demo
// writes through the real producer into the embedded broker, and a client
// that applies what /ws sends gets runs whose state hashes verify.
func TestGateway_DemoRunsReachAClientAndVerify(t *testing.T) {
	_, srv := startGateway(t, testWeb(t), "--demo", "on", "--demo-rate", "600", "--demo-seed", "7")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(16 << 20)
	if err := ws.Write(ctx, websocket.MessageText, control.NewPartitionResume(control.FromEarliest, nil).AppendJSON(nil)); err != nil {
		t.Fatal(err)
	}
	store := runstate.NewStore(runstate.DefaultConfig())
	applied := 0
	for applied < 300 {
		typ, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("after %d messages: %v", applied, err)
		}
		if typ != websocket.MessageBinary {
			continue
		}
		msg, err := protocol.Decode(b)
		if err != nil {
			t.Fatalf("a demo record does not decode: %v (class %s)", err, protocol.ErrorClass(err))
		}
		store.Apply(msg, runstate.Meta{Offset: -1, Received: time.Now()})
		applied++
	}
	st := store.Stats()
	if st.Runs == 0 || st.HashesVerified == 0 {
		t.Fatalf("%d messages gave %d runs and %d verified hashes", applied, st.Runs, st.HashesVerified)
	}
	t.Logf("%+v", st)
	if st.CorruptedRuns != 0 || st.HashMismatches != 0 || st.PatchFailures != 0 {
		t.Fatalf("demo runs corrupted: %+v", st)
	}
}

package replay_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dashstream/dashstream/server/replay"
)

func TestCollectorExportsTheUpstreamNames(t *testing.T) {
	d := newFakeDurable(t)
	var observed atomic.Int64
	ts := newTiered(t, newRing(t, 10), d, replay.TieredConfig{Observe: func(op string, _ time.Duration) {
		if op == "read" || op == "write" {
			observed.Add(1)
		}
	}})
	for o := range int64(20) {
		appendAll(t, ts, rec(0, o))
	}
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.ReadPartition(ctxT(t), 0, 15, 10); err != nil { // memory
		t.Fatal(err)
	}
	if _, err := ts.ReadPartition(ctxT(t), 0, -1, 5); err != nil { // Redis
		t.Fatal(err)
	}
	want := `
# HELP replay_buffer_memory_hits_total Replay reads answered, wholly or partly, from the memory ring.
# TYPE replay_buffer_memory_hits_total counter
replay_buffer_memory_hits_total 1
# HELP replay_buffer_redis_hits_total Replay reads from Redis that returned records.
# TYPE replay_buffer_redis_hits_total counter
replay_buffer_redis_hits_total 1
# HELP replay_buffer_redis_write_dropped_total Records never written to Redis (write queue full, write failed for good, shutdown).
# TYPE replay_buffer_redis_write_dropped_total counter
replay_buffer_redis_write_dropped_total 0
# HELP dashstream_gateway_replay_redis_up 1 while the replay store's Redis is reachable, 0 while the gateway serves replay from memory only.
# TYPE dashstream_gateway_replay_redis_up gauge
dashstream_gateway_replay_redis_up 1
`
	names := []string{"replay_buffer_memory_hits_total", "replay_buffer_redis_hits_total", "replay_buffer_redis_write_dropped_total", "dashstream_gateway_replay_redis_up"}
	if err := testutil.CollectAndCompare(replay.NewCollector(ts), strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(replay.NewCollector(ts)); n != 8 {
		t.Fatalf("%d metrics, want 8", n)
	}
	if observed.Load() < 2 {
		t.Fatalf("Observe saw %d durable operations", observed.Load())
	}
}

package replay_test

import (
	"context"
	"log"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
	"github.com/dashstream/dashstream/server/replay/redisstore"
)

// The gateway's wiring: a memory ring in front of Redis, shared with any
// other gateway (ours or upstream) of the same topic, group and brokers.
func ExampleNewTiered() {
	ring, err := memory.New(memory.Config{}) // 10,000 records / 64 MiB
	if err != nil {
		log.Fatal(err)
	}
	ns := control.ResumeNamespace("dashstream-quality", "websocket-server-v4", "127.0.0.1:9092", "")
	redis.SetLogger(redisstore.NewLogger(slog.Default(), 10*time.Second)) // once per process
	durable, err := redisstore.Open("redis://127.0.0.1:6379/0", ns, redisstore.Config{
		TTL:        3600 * time.Second, // REDIS_MESSAGE_TTL_SECS
		MaxEntries: 10_000,             // REDIS_MAX_SEQUENCES
	})
	if err != nil {
		log.Fatal(err)
	}
	defer durable.Close()
	store, err := replay.NewTiered(ring, durable, replay.TieredConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = store.Close(ctx) // drains the Redis write queue
	}()
	prometheus.NewRegistry().MustRegister(replay.NewCollector(store))

	// Ingest: never blocks, never fails for a valid record.
	_ = store.Append(context.Background(), replay.Record{Partition: 0, Offset: 42, Value: []byte{0x00}})
	// /health: degraded while Redis is unreachable.
	_ = store.Health().DurableOK
}

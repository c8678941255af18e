package replay_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dashstream/dashstream/server/internal/redisserver"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/redisstore"
)

// lockedBuffer is a log sink the store's goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.FieldsFunc(l.b.String(), func(r rune) bool { return r == '\n' })
}

func connectionsReceived(t *testing.T, admin *redis.Client) int64 {
	t.Helper()
	info, err := admin.Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "total_connections_received:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no total_connections_received in INFO")
	return 0
}

// TestTiered_WrongRedisPasswordBacksOff: a Redis that refuses our password
// is an outage, not a per-batch error: the writer backs off (connections
// grow with time, not with traffic), a few lines are logged (not one per
// batch), the password never appears in them, and once the password is
// right the queued records reach Redis.
func TestTiered_WrongRedisPasswordBacksOff(t *testing.T) {
	srv := redisserver.Start(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = admin.Close() })
	ctx := context.Background()
	if err := admin.ConfigSet(ctx, "requirepass", "right-password").Err(); err != nil {
		t.Fatal(err)
	}
	admin = redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "right-password"})
	t.Cleanup(func() { _ = admin.Close() })

	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	durable, err := redisstore.Open("redis://:wrong-s3cret@"+srv.Addr()+"/0", newNamespace(), redisstore.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = durable.Close() })
	tiered, err := replay.NewTiered(newRing(t, 5000), durable, replay.TieredConfig{QueueSize: 5000, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tiered.Close(context.Background()) })

	conns0 := connectionsReceived(t, admin)
	began := time.Now()
	const n = 3000
	for i := range n {
		if err := tiered.Append(ctx, replay.Record{Partition: 0, Offset: int64(i), Value: []byte("v" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			time.Sleep(10 * time.Millisecond) // spread the batches, as a live stream does
		}
	}
	waitUntil(t, "Redis reported unavailable", func() bool { return !tiered.Stats().Health.DurableOK })
	elapsed := time.Since(began).Seconds()
	conns := connectionsReceived(t, admin) - conns0 - 1 // the INFO call's own connection at most
	lines := logs.lines()
	t.Logf("%d records in %.1fs: %d connections, %d log lines", n, elapsed, conns, len(lines))
	// Bounds that grow with time, not traffic: the back-off tops out at
	// 2 s, with one probe per 2 s beside it.
	if limit := int64(10 + 3*elapsed); conns > limit {
		t.Errorf("%d Redis connections for %d records in %.1fs (limit %d): no back-off", conns, n, elapsed, limit)
	}
	if len(lines) > 5 {
		t.Errorf("%d log lines (want a few, not one per batch):\n%s", len(lines), strings.Join(lines[:10], "\n"))
	}
	for _, l := range lines {
		if strings.Contains(l, "wrong-s3cret") {
			t.Fatalf("a log line shows the password: %s", l)
		}
	}

	// The password is fixed on the server side: the records get through.
	if err := admin.ConfigSet(ctx, "requirepass", "wrong-s3cret").Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the queued records written", func() bool {
		_, newest, ok, err := durable.Bounds(ctx, 0)
		return err == nil && ok && newest == n-1
	})
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/internal/redisserver"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/replaytest"
)

var namespaceSeq atomic.Uint64

// uniqueNamespace computes a real resume namespace per call, so tests
// sharing one redis-server never see each other's keys.
func uniqueNamespace() string {
	return control.ResumeNamespace(fmt.Sprintf("topic-%d", namespaceSeq.Add(1)), "websocket-server-v4", "127.0.0.1:9092", "")
}

// openStore opens a store owning its client on srv, closed at cleanup.
func openStore(t testing.TB, srv *redisserver.Server, namespace string, cfg Config) *Store {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLog
	}
	s, err := Open(srv.URL(), namespace, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawClient is a plain client for checking keys with raw commands.
func rawClient(t testing.TB, srv *redisserver.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConformance(t *testing.T) {
	srv := redisserver.Start(t)
	replaytest.Run(t, func(t *testing.T) replay.Store {
		// MaxEntries below replaytest.EvictionRecords/3 per partition, so
		// the eviction subtest trims.
		return openStore(t, srv, uniqueNamespace(), Config{MaxEntries: replaytest.MinRecordsPerPartition})
	})
}

func TestConfigRejectsInvalidValues(t *testing.T) {
	for _, cfg := range []Config{
		{TTL: 500 * time.Millisecond},
		{TTL: 1500 * time.Millisecond},
		{TTL: -time.Second},
		{MaxEntries: -1},
		{ClearTimeout: -time.Second},
		{ScanLimit: -1},
	} {
		if _, err := cfg.withDefaults(); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	got, err := Config{}.withDefaults()
	if err != nil || got.TTL != time.Hour || got.MaxEntries != 10_000 || got.ClearTimeout != 5*time.Second {
		t.Errorf("defaults = %+v, %v", got, err)
	}
	if _, err := New(nil, "ns", Config{}); err == nil {
		t.Error("New accepted a nil client")
	}
	if _, err := New(redis.NewClient(&redis.Options{}), "", Config{}); err == nil {
		t.Error("New accepted an empty namespace")
	}
	if _, err := Open("not a url", "ns", Config{}); err == nil {
		t.Error("Open accepted a bad URL")
	}
}

func TestPrefixUsesTheResumeNamespace(t *testing.T) {
	// The vector of the reference, §5.2.
	ns := control.ResumeNamespace("dashstream-quality", "websocket-server-v4", "127.0.0.1:9092", "")
	s, err := New(redis.NewClient(&redis.Options{}), ns, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := "dashstream-replay:v1_dG9waWM9ZGFzaHN0cmVhbS1xdWFsaXR5O2dyb3VwPXdlYnNvY2tldC1zZXJ2ZXItdjQ7YnJva2Vycz0xMjcuMC4wLjE6OTA5Mg"
	if s.Prefix() != want {
		t.Fatalf("Prefix = %q, want %q", s.Prefix(), want)
	}
}

func TestUnreachableRedisWrapsErrUnavailable(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{})
	srv.Stop()
	ctx := ctxT(t)
	checks := map[string]error{}
	checks["Append"] = s.Append(ctx, replay.Record{Partition: 0, Offset: 1})
	_, checks["ReadPartition"] = s.ReadPartition(ctx, 0, -1, 10)
	_, checks["ReadPartitionBefore"] = s.ReadPartitionBefore(ctx, 0, -1, 10, 10)
	_, checks["ReadThread"] = s.ReadThread(ctx, "t", 0, 10)
	_, _, _, checks["Bounds"] = s.Bounds(ctx, 0)
	_, checks["Partitions"] = s.Partitions(ctx)
	_, checks["Clear"] = s.Clear(ctx)
	checks["Ping"] = s.Ping(ctx)
	for name, err := range checks {
		if !errors.Is(err, replay.ErrUnavailable) {
			t.Errorf("%s with Redis down = %v, want ErrUnavailable", name, err)
		}
	}

	// The same store works again once Redis is back, without a restart.
	srv.Restart()
	deadline := time.Now().Add(30 * time.Second)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the store did not reconnect")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Append(ctx, replay.Record{Partition: 0, Offset: 1, Value: []byte("v")}); err != nil {
		t.Fatalf("Append after restart: %v", err)
	}
	if got, err := s.ReadPartition(ctx, 0, -1, 10); err != nil || len(got) != 1 {
		t.Fatalf("ReadPartition after restart: %d records, %v", len(got), err)
	}
}

func TestReplyErrorsAreNotUnavailability(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{})
	ctx := ctxT(t)
	// Someone else's string where our ZSET should be.
	if err := rawClient(t, srv).Set(ctx, s.k.offsets(0), "not a zset", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err := s.ReadPartition(ctx, 0, -1, 10)
	if err == nil || errors.Is(err, replay.ErrUnavailable) {
		t.Fatalf("ReadPartition on a WRONGTYPE key = %v, want a plain error", err)
	}
}

func TestReadPartitionBeforeStopsBelowTheBound(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{})
	ctx := ctxT(t)
	var recs []replay.Record
	for o := range int64(20) {
		recs = append(recs, replay.Record{Partition: 1, Offset: o, Value: []byte{byte(o)}})
	}
	if err := s.AppendBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		after, before int64
		limit         int
		want          []int64
	}{
		{-1, 5, 100, []int64{0, 1, 2, 3, 4}},
		{2, 5, 100, []int64{3, 4}},
		{2, 5, 1, []int64{3}},
		{3, 4, 100, nil},
		{4, 4, 100, nil},
		{10, 3, 100, nil},
		{-1, 0, 100, nil},
		{17, 1 << 62, 100, []int64{18, 19}},
	} {
		got, err := s.ReadPartitionBefore(ctx, 1, tc.after, tc.before, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var offs []int64
		for _, r := range got {
			offs = append(offs, r.Offset)
		}
		if fmt.Sprint(offs) != fmt.Sprint(tc.want) {
			t.Errorf("ReadPartitionBefore(after=%d, before=%d, limit=%d) = %v, want %v", tc.after, tc.before, tc.limit, offs, tc.want)
		}
	}
}

func TestBatchOfThousandsIsOneRoundTrip(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{})
	ctx := ctxT(t)
	var recs []replay.Record
	for o := range int64(2000) {
		recs = append(recs, replay.Record{Partition: int32(o % 4), Offset: o, Value: []byte("v"), Threads: []replay.ThreadSeq{{Thread: "t", Seq: uint64(o) + 1}}})
	}
	before := s.RoundTrips()
	if err := s.AppendBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if n := s.RoundTrips() - before; n != 1 {
		t.Fatalf("AppendBatch of 2000 records took %d round trips, want 1", n)
	}
	if err := s.AppendBatch(ctx, nil); err != nil || s.RoundTrips()-before != 1 {
		t.Fatalf("an empty batch: %v, %d round trips", err, s.RoundTrips()-before-1)
	}
}

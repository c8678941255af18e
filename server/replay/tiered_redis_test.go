package replay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/internal/redisserver"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/redisstore"
	"github.com/dashstream/dashstream/server/replay/replaytest"
)

// TestMain keeps go-redis's dial failures (expected while these tests kill
// Redis) out of the output.
func TestMain(m *testing.M) {
	redis.SetLogger(redisstore.NewLogger(quietLog, 0))
	os.Exit(m.Run())
}

var nsSeq atomic.Uint64

func newNamespace() string {
	return control.ResumeNamespace(fmt.Sprintf("tiered-%d", nsSeq.Add(1)), "websocket-server-v4", "127.0.0.1:9092", "")
}

func openRedis(t testing.TB, srv *redisserver.Server, ns string, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	cfg.Logger = quietLog
	s, err := redisstore.Open(srv.URL(), ns, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestTieredConformance_Redis(t *testing.T) {
	srv := redisserver.Start(t)
	for _, ringSize := range []int{replaytest.MinRecords, 100} {
		t.Run(fmt.Sprintf("ring%d", ringSize), func(t *testing.T) {
			replaytest.Run(t, func(t *testing.T) replay.Store {
				durable := openRedis(t, srv, newNamespace(), redisstore.Config{MaxEntries: replaytest.MinRecordsPerPartition})
				return flushing{newTiered(t, newRing(t, ringSize), durable, replay.TieredConfig{})}
			})
		})
	}
}

// readAll pages through partition p of s from after with the given limit.
func readAll(t *testing.T, s replay.Store, p int32, after int64, limit int) ([]replay.Record, error) {
	t.Helper()
	var all []replay.Record
	for {
		page, err := s.ReadPartition(ctxT(t), p, after, limit)
		all = append(all, page...)
		if err != nil || len(page) == 0 {
			return all, err
		}
		after = page[len(page)-1].Offset
	}
}

func TestTiered_RedisKilledAndRestartedMidStream(t *testing.T) {
	srv := redisserver.Start(t)
	durable := openRedis(t, srv, newNamespace(), redisstore.Config{})
	ts := newTiered(t, newRing(t, 200), durable, replay.TieredConfig{QueueSize: 100, BatchSize: 16, MaxBackoff: 100 * time.Millisecond})
	appendRange := func(from, to int64) {
		for o := from; o <= to; o++ {
			if err := ts.Append(context.Background(), rec(0, o, replay.ThreadSeq{Thread: "run", Seq: uint64(o) + 1})); err != nil {
				t.Errorf("Append(%d): %v", o, err)
			}
		}
	}
	appendRange(0, 299)
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(t, ts, 0, -1, 64); err != nil || !slices.Equal(offsetsOf(got), rangeOf(0, 299)) {
		t.Fatalf("before the outage: %v, %v", offsetsOf(got), err)
	}

	srv.Stop()
	appended := make(chan struct{})
	go func() {
		defer close(appended)
		appendRange(300, 599)
	}()
	select {
	case <-appended:
	case <-time.After(30 * time.Second):
		t.Fatal("ingest blocked while Redis was down")
	}
	waitFor(t, "health to report the outage", func() bool { return !ts.Health().DurableOK })

	// The ring holds 400..599. A cursor below it gets the ring's records
	// and ErrUnavailable for the hole; one inside it is served normally.
	got, err := ts.ReadPartition(ctxT(t), 0, 10, 100)
	if !errors.Is(err, replay.ErrUnavailable) || !slices.Equal(offsetsOf(got), rangeOf(400, 499)) {
		t.Fatalf("ReadPartition(after=10) during the outage = %v, %v", offsetsOf(got), err)
	}
	got, err = ts.ReadPartition(ctxT(t), 0, 450, 100)
	if err != nil || !slices.Equal(offsetsOf(got), rangeOf(451, 550)) {
		t.Fatalf("ReadPartition(after=450) during the outage = %v, %v", offsetsOf(got), err)
	}
	if s := ts.Stats(); s.WriteFailures == 0 || s.WriteDropped == 0 || s.Health.LastError == "" {
		t.Fatalf("stats during the outage = %+v", s)
	}

	srv.Restart() // empty: the test server has no persistence
	waitFor(t, "health to recover", func() bool { return ts.Health().DurableOK })
	// Let the writer work off the outage's backlog (the queue is full of
	// it), so the next records all fit.
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	appendRange(600, 649)
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	s := ts.Stats()
	if s.Written+s.WriteDropped != 650 || s.Queued != 0 {
		t.Fatalf("written %d + dropped %d != 650 appended", s.Written, s.WriteDropped)
	}
	// Redis has what was written after the restart; the ring holds
	// 450..649. Reading from the start gives an ascending sequence, each
	// record intact, ending with the ring's range complete.
	all, err := readAll(t, ts, 0, -1, 64)
	if err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if !slices.IsSorted(offsetsOf(all)) || len(all) < 200 {
		t.Fatalf("after recovery: %v", offsetsOf(all))
	}
	if tail := offsetsOf(all[len(all)-200:]); !slices.Equal(tail, rangeOf(450, 649)) {
		t.Fatalf("after recovery the newest 200 are %v", tail)
	}
	for _, r := range all {
		if !bytes.Equal(r.Value, fmt.Appendf(nil, "p0/o%d", r.Offset)) {
			t.Fatalf("record %d: value %q", r.Offset, r.Value)
		}
	}
	// Records 600..649 reached Redis itself.
	if got, err := durable.ReadPartition(ctxT(t), 0, 599, 100); err != nil || !slices.Equal(offsetsOf(got), rangeOf(600, 649)) {
		t.Fatalf("Redis after recovery: %v, %v", offsetsOf(got), err)
	}
}

func TestTiered_AppendsAndReadsRunThroughAnOutage(t *testing.T) {
	srv := redisserver.Start(t)
	durable := openRedis(t, srv, newNamespace(), redisstore.Config{})
	ts := newTiered(t, newRing(t, 500), durable, replay.TieredConfig{QueueSize: 500, MaxBackoff: 100 * time.Millisecond})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var appended atomic.Int64
	var readErrs atomic.Int64
	done := make(chan struct{}, 2)
	go func() { // ingest
		defer func() { done <- struct{}{} }()
		for o := int64(0); ctx.Err() == nil; o++ {
			if err := ts.Append(ctx, rec(int32(o%2), o, replay.ThreadSeq{Thread: "run", Seq: uint64(o) + 1})); err != nil && ctx.Err() == nil {
				t.Errorf("Append(%d): %v", o, err)
				return
			}
			appended.Add(1)
		}
	}()
	go func() { // a client paging from the start, again and again
		defer func() { done <- struct{}{} }()
		for ctx.Err() == nil {
			after := int64(-1)
			for ctx.Err() == nil {
				page, err := ts.ReadPartition(ctx, 0, after, 200)
				if err != nil && !errors.Is(err, replay.ErrUnavailable) && ctx.Err() == nil {
					t.Errorf("ReadPartition: %v", err)
					return
				}
				if err != nil {
					readErrs.Add(1)
				}
				for _, r := range page {
					if r.Offset <= after || r.Partition != 0 {
						t.Errorf("page went backwards: %d after %d", r.Offset, after)
						return
					}
					after = r.Offset
				}
				if len(page) < 200 || err != nil {
					break
				}
			}
		}
	}()
	waitFor(t, "ingest to start", func() bool { return appended.Load() > 1000 })
	srv.Stop()
	waitFor(t, "health to report the outage", func() bool { return !ts.Health().DurableOK })
	during := appended.Load()
	waitFor(t, "ingest to go on during the outage", func() bool { return appended.Load() > during+5000 })
	srv.Restart()
	waitFor(t, "health to recover", func() bool { return ts.Health().DurableOK })
	after := ts.Stats().Written
	waitFor(t, "writes to resume", func() bool { return ts.Stats().Written > after+1000 })
	stop()
	<-done
	<-done
	s := ts.Stats()
	if s.WriteFailures == 0 || s.WriteDropped == 0 {
		t.Fatalf("the outage left no trace in the counters: %+v", s)
	}
	if readErrs.Load() == 0 {
		t.Log("no read crossed the hole while Redis was down (timing); the other outage test covers it")
	}
}

func TestTiered_TwoInstancesOnOneRedisGiveTheSameSequence(t *testing.T) {
	srv := redisserver.Start(t)
	ns := newNamespace()
	// Instance A has a large ring, B a small one (it reads older records
	// from Redis), C started late and saw only the newest records.
	a := newTiered(t, newRing(t, 2000), openRedis(t, srv, ns, redisstore.Config{}), replay.TieredConfig{})
	b := newTiered(t, newRing(t, 60), openRedis(t, srv, ns, redisstore.Config{}), replay.TieredConfig{})
	c := newTiered(t, newRing(t, 2000), openRedis(t, srv, ns, redisstore.Config{}), replay.TieredConfig{})
	var want [2][]int64
	for o := range int64(600) {
		p := int32(o % 2)
		r := rec(p, o, replay.ThreadSeq{Thread: fmt.Sprintf("run-%d", o%3), Seq: uint64(o/3) + 1})
		appendAll(t, a, r)
		appendAll(t, b, r)
		if o >= 500 {
			appendAll(t, c, r)
		}
		want[p] = append(want[p], o)
	}
	for _, ts := range []*replay.Tiered{a, b, c} {
		if err := ts.Flush(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	instances := map[string]*replay.Tiered{"A": a, "B": b, "C": c}
	for p := range int32(2) {
		for _, limit := range []int{1, 13, 100, 1000} {
			for name, ts := range instances {
				got, err := readAll(t, ts, p, -1, limit)
				if err != nil || !slices.Equal(offsetsOf(got), want[p]) {
					t.Fatalf("instance %s, partition %d, limit %d: %v, %v", name, p, limit, offsetsOf(got), err)
				}
			}
		}
		// A client resumes on another instance at every page.
		var got []replay.Record
		after := int64(-1)
		order := []*replay.Tiered{a, b, c}
		for i := 0; ; i++ {
			page, err := order[i%3].ReadPartition(ctxT(t), p, after, 37)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].Offset
		}
		if !slices.Equal(offsetsOf(got), want[p]) {
			t.Fatalf("partition %d resumed across instances: %v", p, offsetsOf(got))
		}
	}
	for th := range 3 {
		thread := fmt.Sprintf("run-%d", th)
		var ref []uint64
		for name, ts := range instances {
			var seqs []uint64
			after := uint64(0)
			for {
				page, err := ts.ReadThread(ctxT(t), thread, after, 50)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				for _, r := range page {
					seqs = append(seqs, r.Threads[0].Seq)
				}
				after = seqs[len(seqs)-1]
			}
			if len(seqs) != 200 {
				t.Fatalf("instance %s, %s: %d sequences", name, thread, len(seqs))
			}
			if ref == nil {
				ref = seqs
			} else if !slices.Equal(ref, seqs) {
				t.Fatalf("instance %s, %s differs", name, thread)
			}
		}
	}
}

func BenchmarkAppend_Tiered(b *testing.B) {
	srv := redisserver.Start(b)
	durable := openRedis(b, srv, newNamespace(), redisstore.Config{})
	ts := newTiered(b, newRing(b, 10_000), durable, replay.TieredConfig{})
	value := bytes.Repeat([]byte{0x5a}, 1024)
	ctx := context.Background()
	var o int64
	b.ReportAllocs()
	for b.Loop() {
		if err := ts.Append(ctx, replay.Record{Partition: int32(o % 4), Offset: o, Value: value,
			Threads: []replay.ThreadSeq{{Thread: "bench", Seq: uint64(o) + 1}}}); err != nil {
			b.Fatal(err)
		}
		o++
	}
	b.ReportMetric(float64(o)/b.Elapsed().Seconds(), "records/s")
	// Not timed: how far Redis kept up with ingest.
	if err := ts.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	s := ts.Stats()
	b.ReportMetric(float64(s.WriteDropped)/float64(o), "dropped/op")
	if s.Batches > 0 {
		b.ReportMetric(float64(s.Written)/float64(s.Batches), "records/batch")
	}
}

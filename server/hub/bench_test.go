package hub

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
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

const fanoutClients = 10

// drainPairs reads n cursor+binary pairs on each of the connections.
func drainPairs(b *testing.B, conns []*websocket.Conn, n int) {
	var wg sync.WaitGroup
	for _, ws := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for range 2 * n {
				if _, _, err := ws.Read(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkFanout_Hub: 10 clients, b.N records of ~1 KB each published
// through the hub (per-client queues, filtering, pairing).
func BenchmarkFanout_Hub(b *testing.B) {
	g := newGateway(b, Config{ClientQueue: 1 << 16, SlowClientThreshold: 0}, nil, nil, nil)
	conns := make([]*websocket.Conn, fanoutClients)
	for i := range conns {
		c := g.dial(nil)
		c.send(partitionResume(control.FromLatest, nil))
		until[*control.ReplayComplete](c)
		conns[i] = c.ws
	}
	recs := make([]replay.Record, b.N)
	for i := range recs {
		recs[i] = record(b, 0, int64(i), "bench")
		recs[i].Value = append(recs[i].Value, make([]byte, 1024-len(recs[i].Value))...)
	}
	b.SetBytes(1024 * fanoutClients)
	b.ResetTimer()
	go func() {
		for _, r := range recs {
			g.ingest(r)
		}
	}()
	drainPairs(b, conns, b.N)
	b.ReportMetric(float64(b.N*fanoutClients)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkFanout_BareWebsocket is the baseline of the same run: the same
// frames written by one plain coder/websocket loop per client, with no hub.
func BenchmarkFanout_BareWebsocket(b *testing.B) {
	value := make([]byte, 1024)
	cursor := (&control.Cursor{Partition: 0, Offset: 123456}).AppendJSON(nil)
	start := make(chan int)
	var ready sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ready.Done()
		n := <-start
		ctx := context.Background()
		for range n {
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			ws.Write(wctx, websocket.MessageText, cursor)
			ws.Write(wctx, websocket.MessageBinary, value)
			cancel()
		}
		ws.Read(ctx) // until the client goes
	}))
	defer srv.Close()
	conns := make([]*websocket.Conn, fanoutClients)
	ready.Add(fanoutClients)
	for i := range conns {
		ws, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			b.Fatal(err)
		}
		ws.SetReadLimit(1 << 20)
		defer ws.CloseNow()
		conns[i] = ws
	}
	ready.Wait()
	b.SetBytes(1024 * fanoutClients)
	b.ResetTimer()
	for range conns {
		start <- b.N
	}
	drainPairs(b, conns, b.N)
	b.ReportMetric(float64(b.N*fanoutClients)/b.Elapsed().Seconds(), "deliveries/s")
}

// benchResume replays 10,000 records of ~1 KB to one client per iteration.
// started, if not nil, is called once the store is filled, right before
// the measured resumes.
func benchResume(b *testing.B, store replay.Store, started func()) {
	const n = 10_000
	g := newGateway(b, Config{ReplayMaxTotal: n}, store, nil, nil)
	for o := range int64(n) {
		r := record(b, 0, o, "bench")
		r.Value = append(r.Value, make([]byte, 1024-len(r.Value))...)
		g.ingest(r)
	}
	if f, ok := store.(interface{ Flush(context.Context) error }); ok {
		if err := f.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	if started != nil {
		started()
	}
	b.ResetTimer()
	for b.Loop() {
		// A new connection each time: earliest never resends to the same one.
		c := g.dial(nil)
		c.send(partitionResume(control.FromEarliest, nil))
		if got := countUntilComplete(b, c.ws); got != n {
			b.Fatalf("replayed %d", got)
		}
		c.ws.CloseNow()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkResume_Memory(b *testing.B) {
	ring, _ := memory.New(memory.Config{MaxRecords: 20_000, MaxBytes: 1 << 30})
	benchResume(b, ring, nil)
}

// BenchmarkResume_Redis replays from Redis: the memory front holds only 100
// of the 10,000 records.
func BenchmarkResume_Redis(b *testing.B) {
	rs := redisserver.Start(b)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	defer rc.Close()
	durable, err := redisstore.New(rc, "v1_bench", redisstore.Config{TTL: time.Hour, MaxEntries: 100_000})
	if err != nil {
		b.Fatal(err)
	}
	front, _ := memory.New(memory.Config{MaxRecords: 100})
	counted := &countingDurable{Durable: durable}
	tiered, err := replay.NewTiered(front, counted, replay.TieredConfig{QueueSize: 20_000})
	if err != nil {
		b.Fatal(err)
	}
	defer tiered.Close(context.Background())
	var trips uint64
	var calls int64
	benchResume(b, tiered, func() {
		trips, calls = durable.RoundTrips(), counted.calls.Load()
	})
	// Every durable call of a resume (the pages, and the bounds and
	// partition lists it asks for) should be one round trip (M-714).
	b.ReportMetric(float64(durable.RoundTrips()-trips)/float64(counted.calls.Load()-calls), "redis-round-trips/call")
	b.ReportMetric(float64(counted.calls.Load()-calls)/float64(b.N), "redis-calls/resume")
}

// countingDurable counts the calls a Tiered store makes to the real Redis
// store it wraps.
type countingDurable struct {
	replay.Durable
	calls atomic.Int64
}

func (d *countingDurable) ReadPartition(ctx context.Context, p int32, after int64, limit int) ([]replay.Record, error) {
	d.calls.Add(1)
	return d.Durable.ReadPartition(ctx, p, after, limit)
}

func (d *countingDurable) ReadPartitionBefore(ctx context.Context, p int32, after, before int64, limit int) ([]replay.Record, error) {
	d.calls.Add(1)
	return d.Durable.ReadPartitionBefore(ctx, p, after, before, limit)
}

func (d *countingDurable) Bounds(ctx context.Context, p int32) (int64, int64, bool, error) {
	d.calls.Add(1)
	return d.Durable.Bounds(ctx, p)
}

func (d *countingDurable) Partitions(ctx context.Context) ([]int32, error) {
	d.calls.Add(1)
	return d.Durable.Partitions(ctx)
}

// countUntilComplete counts binary frames until replay_complete, reading
// the way a lean client would (no parsing of cursor frames).
func countUntilComplete(b *testing.B, ws *websocket.Conn) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	buf := make([]byte, 64<<10)
	n := 0
	for {
		typ, r, err := ws.Reader(ctx)
		if err != nil {
			b.Fatal(err)
		}
		m, _ := io.ReadFull(r, buf)
		io.Copy(io.Discard, r)
		if typ == websocket.MessageBinary {
			n++
		} else if bytes.Contains(buf[:m], []byte(`"replay_complete"`)) {
			return n
		}
	}
}

// benchFast measures one fast client's throughput, optionally next to a
// client that never reads: the two benchmarks are a pair, and their ratio
// shows whether a stuck client slows a fast one.
func benchFast(b *testing.B, withStuck bool) {
	// A burst larger than the queue is caught up from the store; the replay
	// cap must not cut that short, or the client is sent away.
	// The store holds the whole burst, since a record evicted before the
	// catch-up reaches it is (rightly) reported as a gap, not delivered.
	ring, err := memory.New(memory.Config{MaxRecords: b.N + 1, MaxBytes: int64(b.N+1) * 2048})
	if err != nil {
		b.Fatal(err)
	}
	g := newGateway(b, Config{ClientQueue: 1024, SlowClientThreshold: 0, ReplayMaxTotal: 1 << 30}, ring, nil, nil)
	if withStuck {
		s := g.dial(nil)
		s.send(partitionResume(control.FromLatest, nil))
		until[*control.ReplayComplete](s) // and never reads again
	}
	fast := g.dial(nil)
	fast.send(partitionResume(control.FromLatest, nil))
	until[*control.ReplayComplete](fast)
	recs := make([]replay.Record, b.N)
	for i := range recs {
		recs[i] = record(b, 0, int64(i), "bench")
		recs[i].Value = append(recs[i].Value, make([]byte, 1024-len(recs[i].Value))...)
	}
	b.SetBytes(1024)
	b.ResetTimer()
	go func() {
		for _, r := range recs {
			g.ingest(r)
		}
	}()
	drainPairs(b, []*websocket.Conn{fast.ws}, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkFastClient_Alone(b *testing.B)           { benchFast(b, false) }
func BenchmarkFastClient_BesideAStuckOne(b *testing.B) { benchFast(b, true) }

//go:build !(js && wasm)

package session

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dashstream/dashstream/app/cursors"
	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/server/hub"
	"github.com/dashstream/dashstream/server/metrics"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
)

var quiet = discard

// gateway is the real hub (the gateway's /ws) on a real memory replay ring,
// behind a real HTTP server that also answers /version and /health the way
// the gateway does. It can go down and come back on the same address with
// the same retained records, like a restarted server.
type gateway struct {
	t       testing.TB
	store   *memory.Ring
	srv     *httptest.Server
	hub     atomic.Pointer[hub.Hub]
	down    atomic.Bool
	fwd     atomic.Uint64
	schema  atomic.Uint32
	mu      sync.Mutex
	next    map[int32]int64
	created []*hub.Hub
	metrics []*metrics.Gateway
	// replayMax is the hubs' REPLAY_MAX_TOTAL (default 10,000).
	replayMax int
	// threadFilter, when set, rewrites what thread replays read.
	threadFilter atomic.Pointer[func(thread string, recs []replay.Record) []replay.Record]
}

func newGateway(t testing.TB, maxRecords int) *gateway {
	t.Helper()
	ring, err := memory.New(memory.Config{MaxRecords: maxRecords})
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{t: t, store: ring, next: map[int32]int64{}}
	g.schema.Store(protocol.SchemaVersion)
	g.hub.Store(g.newHub())
	mux := http.NewServeMux()
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		if g.down.Load() {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"version": "test", "schema_version": g.schema.Load(), "max_payload_bytes": protocol.DefaultMaxPayloadBytes,
			"resume_namespace": control.ResumeNamespace("dashstream-events", "test", "127.0.0.1:9092", ""),
		})
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"status": "healthy", "metrics": map[string]any{"messages_forwarded": g.fwd.Load()}})
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if g.down.Load() {
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		g.hub.Load().ServeHTTP(w, r)
	})
	g.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, h := range g.created {
			h.Shutdown(ctx)
		}
		g.srv.Close()
	})
	return g
}

func (g *gateway) newHub() *hub.Hub {
	m := metrics.New()
	h := hub.New(hub.Config{ClientQueue: 4096, SendTimeout: 5 * time.Second, ReplayTimeout: 10 * time.Second,
		ReplayMaxTotal: cmp.Or(g.replayMax, 10_000), ResumeGrace: 2 * time.Second}, threadFiltered{g.store, g}, nil, nil, m, quiet)
	g.mu.Lock()
	g.created = append(g.created, h)
	g.metrics = append(g.metrics, m)
	g.mu.Unlock()
	return h
}

// threadFiltered is the gateway's store with ReadThread passed through
// g.threadFilter when a test sets one (a server whose thread replays
// misbehave).
type threadFiltered struct {
	replay.Store
	g *gateway
}

func (f threadFiltered) ReadThread(ctx context.Context, thread string, after uint64, limit int) ([]replay.Record, error) {
	recs, err := f.Store.ReadThread(ctx, thread, after, limit)
	if fn := f.g.threadFilter.Load(); fn != nil && err == nil {
		recs = (*fn)(thread, recs)
	}
	return recs, err
}

// restart drops every connection and refuses new ones until up is called:
// the replay ring (the server's retained data) survives.
func (g *gateway) stop() {
	g.down.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.hub.Load().Shutdown(ctx)
	g.hub.Store(g.newHub())
}

func (g *gateway) up() { g.down.Store(false) }

// ingest does what the gateway's source does: store, then publish.
func (g *gateway) ingest(recs ...replay.Record) {
	for _, r := range recs {
		if err := g.store.Append(context.Background(), r); err != nil {
			g.t.Fatal(err)
		}
		g.fwd.Add(1)
		g.hub.Load().Publish(r)
	}
}

// produce appends values to partition p at the next offsets.
func (g *gateway) produce(p int32, th string, values ...[]byte) {
	g.t.Helper()
	var recs []replay.Record
	g.mu.Lock()
	for _, v := range values {
		o := g.next[p]
		g.next[p] = o + 1
		recs = append(recs, record(g.t, p, o, th, v))
	}
	g.mu.Unlock()
	g.ingest(recs...)
}

// skip leaves n offsets of partition p unused (a Kafka hole).
func (g *gateway) skip(p int32, n int64) {
	g.mu.Lock()
	g.next[p] += n
	g.mu.Unlock()
}

// record indexes a value under its thread and sequence as the source does.
func record(t testing.TB, p int32, o int64, th string, v []byte) replay.Record {
	r := replay.Record{Partition: p, Offset: o, Value: v}
	if msg, err := protocol.Decode(v); err == nil {
		for _, tid := range headerThreads(msg) {
			if seq := seqOf(msg); seq > 0 {
				r.Threads = append(r.Threads, replay.ThreadSeq{Thread: replay.NormalizeThreadID(tid), Seq: seq})
			}
		}
	}
	return r
}

// startSession runs a session against g until the test ends.
func startSession(t *testing.T, g *gateway, mod func(*Config)) (*Session, *cursors.MemoryStorage) {
	t.Helper()
	return startHooked(t, g, mod, nil)
}

// startHooked is startSession with hook called on the session before it
// runs (to set its test hooks without a race).
func startHooked(t *testing.T, g *gateway, mod func(*Config), hook func(*Session)) (*Session, *cursors.MemoryStorage) {
	t.Helper()
	storage := cursors.NewMemoryStorage()
	cfg := Config{BaseURL: g.srv.URL, Storage: storage, Logger: quiet, BackoffBase: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond, Tick: 20 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if hook != nil {
		hook(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return s, storage
}

// eventually polls cond (never asserting how long it took).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func connected(s *Session) func() bool {
	return func() bool { return s.Health().State == Connected }
}

func runOf(s *Session, th string) (lastSeq uint64, events int, integ string, ok bool) {
	s.Read(func(st *runstate.Store) {
		r := st.Run(th)
		if r == nil {
			return
		}
		ok = true
		lastSeq, events = r.LastSeq(), r.EventCount()
		i := r.Integrity()
		integ = fmt.Sprintf("gap=%v corrupted=%v", i.Gap, i.Corrupted)
	})
	return
}

// Package hub is the WebSocket side of the gateway: it fans every record out
// to every connected client, answers resume requests from the replay store
// (and from Kafka itself for cursors older than the store), and guards /ws.
//
// Wire protocol (upstream-compatible): every binary frame is exactly one
// Kafka value, immediately preceded by its {"type":"cursor"} text frame; one
// goroutine per connection writes, so nothing can come between the two.
//
// Where it does better than upstream:
//   - each client has its own bounded live queue; a client that falls behind
//     is caught up from the replay store instead of losing records, and is
//     disconnected only when it lags past the threshold within the window; it
//     never slows ingest or other clients;
//   - live records queued during a replay are filtered per connection, so a
//     client never sees a duplicate or an offset going backwards;
//   - replay paging never skips a record; every hole is filled from Kafka or
//     reported as a gap with its exact range; cursor_stale means the data is
//     gone from Kafka too, or that the cursor names no record of this log
//     (past the partition's end, or another resume_namespace);
//   - REPLAY_MAX_TOTAL is enforced per record and bounds one burst: a capped
//     replay goes on by itself, page after page at the pace the client
//     reads, and ends with replay_complete "live"; until a partition is
//     caught up its live records wait in the store, so a cap never hides a
//     hole and never leaves a partition silent;
//   - replay work is bounded per connection (ReplayRate records a second),
//     and a resume naming partitions that do not exist costs one error;
//   - every send has a timeout; closes carry valid codes; cursor_reset
//     clears the shared store only for an admin.
package hub

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/admit"
	"github.com/dashstream/dashstream/server/metrics"
	"github.com/dashstream/dashstream/server/replay"
)

// Config configures a Hub.
type Config struct {
	ClientQueue         int           // live records queued per client (WEBSOCKET_BUFFER_SIZE)
	SendTimeout         time.Duration // bound of every send
	SlowClientThreshold int64         // records lagged within the window before disconnect; 0 disables
	SlowClientWindow    time.Duration // 0: the connection's lifetime
	ReplayTimeout       time.Duration
	ReplayMaxTotal      int
	// PageSize is the most records per replay-store read (default 1000);
	// pages are also sized to hold about PageBytes of values (default
	// 8 MiB), so large records do not make a page huge.
	PageSize  int
	PageBytes int
	// ResumeGrace is how long a new connection's live records wait for its
	// first request before they flow anyway (default 2 s).
	ResumeGrace time.Duration
	// ReplayRate bounds the replay work of one connection, in records a
	// second (REPLAY_RATE_PER_CLIENT); its bucket holds max(ReplayRate,
	// ReplayMaxTotal) records. Each request also costs requestCost records
	// plus one per partition or thread it names. A request or replay page
	// starts only while the connection is not in debt. 0: unlimited.
	ReplayRate int
	// Namespace is the deployment's resume_namespace (which includes the
	// log's incarnation). A resume carrying another one gets cursor_stale
	// for every partition of its map. Empty: not checked.
	Namespace string
	// Partitions lists the topic's partitions (the source's assignment;
	// empty before it is known). A resume naming a partition that is
	// neither listed nor in the replay store gets one error and no Kafka
	// request. Nil or empty: partitions outside the store are looked up in
	// Kafka.
	Partitions func() []int32
	// Admission of /ws connections (per-IP limit, token, Origin).
	Admission admit.Policy
}

// Deep serves records older than the replay store from Kafka.
type Deep interface {
	// Bounds returns partition p's log start offset (offsets below it are
	// gone) and its high watermark.
	Bounds(ctx context.Context, p int32) (logStart, high int64, err error)
	// Range calls fn in offset order for every forwardable record of
	// partition p in [from, to].
	Range(ctx context.Context, p int32, from, to int64, fn func(replay.Record) error) (logStart int64, err error)
}

// Skips tells which offsets the source skipped (never forwardable).
type Skips interface {
	KnownSkipped(p int32, from, to int64) bool
}

// Hub owns every connection.
type Hub struct {
	cfg   Config
	store replay.Store
	deep  Deep
	skips Skips
	m     *metrics.Gateway
	log   *slog.Logger
	gate  *admit.Gate

	closing atomic.Bool
	mu      sync.RWMutex
	conns   map[*conn]struct{}
	wg      sync.WaitGroup

	// Totals for /health.
	sendFailed  atomic.Int64
	sendTimeout atomic.Int64
	dropped     atomic.Int64
}

// New returns a Hub; deep and skips may be nil (no Kafka to fall back on).
func New(cfg Config, store replay.Store, deep Deep, skips Skips, m *metrics.Gateway, log *slog.Logger) *Hub {
	if cfg.ClientQueue <= 0 {
		cfg.ClientQueue = 1024
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 5 * time.Second
	}
	if cfg.ReplayTimeout <= 0 {
		cfg.ReplayTimeout = 30 * time.Second
	}
	if cfg.ReplayMaxTotal <= 0 {
		cfg.ReplayMaxTotal = 10000
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 1000
	}
	if cfg.PageBytes <= 0 {
		cfg.PageBytes = 8 << 20
	}
	if cfg.ResumeGrace <= 0 {
		cfg.ResumeGrace = 2 * time.Second
	}
	h := &Hub{cfg: cfg, store: store, deep: deep, skips: skips, m: m, log: log, conns: map[*conn]struct{}{}}
	h.gate = admit.New(cfg.Admission, func(reason string) {
		m.RejectedConnections.Inc()
		m.RejectedByReason.WithLabelValues(reason).Inc()
	})
	return h
}

// Publish offers a record to every connection without blocking. Call it
// after the record is in the replay store, so that a connection that misses
// it live finds it there.
func (h *Hub) Publish(rec replay.Record) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.conns) == 0 {
		return
	}
	live := liveRecord{Record: rec, wire: appendPair(make([]byte, 0, pairSize(rec)), rec)}
	for c := range h.conns {
		c.offer(live)
	}
}

// PublishGap tells every connected client, in order with the records, that
// offsets from..to (inclusive) of partition will never arrive: the source
// skipped them because they could not be read. A client that is lagging, or
// catching up after a capped replay, learns of the hole from the store's
// replay instead, which reports every hole inside a page.
func (h *Hub) PublishGap(partition int32, from, to int64) {
	if to < from {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	g := control.PartitionGap(partition, from, to)
	g.Message = "records could not be read from Kafka and were skipped"
	live := liveRecord{Record: replay.Record{Partition: partition, Offset: from}, gapTo: to, gap: g}
	for c := range h.conns {
		c.offer(live)
	}
}

// Clients returns the number of connected clients.
func (h *Hub) Clients() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}

// Totals returns lifetime counts for /health: send failures, send timeouts
// and records clients could not take live.
func (h *Hub) Totals() (sendFailed, sendTimeout, dropped int64) {
	return h.sendFailed.Load(), h.sendTimeout.Load(), h.dropped.Load()
}

func (h *Hub) add(c *conn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	n := len(h.conns)
	if h.closing.Load() {
		// Admitted just before Shutdown began: it did not see this one.
		c.shutdown(websocket.StatusGoingAway, "server shutting down")
	}
	h.mu.Unlock()
	h.m.ConnectedClients.Set(float64(n))
}

func (h *Hub) remove(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	n := len(h.conns)
	h.mu.Unlock()
	h.m.ConnectedClients.Set(float64(n))
}

// Shutdown refuses new connections, closes every connection with 1001
// (going away) and waits for them to end or ctx to expire.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing.Store(true)
	for c := range h.conns {
		c.shutdown(websocket.StatusGoingAway, "server shutting down")
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

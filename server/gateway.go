package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/app/ui"
	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/admit"
	"github.com/dashstream/dashstream/server/assets"
	"github.com/dashstream/dashstream/server/catalog"
	"github.com/dashstream/dashstream/server/config"
	"github.com/dashstream/dashstream/server/httpguard"
	"github.com/dashstream/dashstream/server/hub"
	"github.com/dashstream/dashstream/server/metrics"
	"github.com/dashstream/dashstream/server/proxy"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
	"github.com/dashstream/dashstream/server/replay/redisstore"
	"github.com/dashstream/dashstream/server/schemas"
	"github.com/dashstream/dashstream/server/source"
	"github.com/dashstream/dashstream/server/source/logdir"
	"github.com/dashstream/dashstream/server/status"
)

// gateway is the assembled server; start builds it, stop takes it apart in
// reverse order.
type gateway struct {
	mode    string // embedded | kafka | proxy
	mux     *http.ServeMux
	guard   *httpguard.Guard
	handler http.Handler // mux behind the guard's middleware
	brokers []string     // the Kafka the gateway reads (the embedded broker's address by default)
	catalog *catalog.Catalog

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	clients func(context.Context) error
	closers []func(context.Context)
	log     *slog.Logger
}

// server is the HTTP server of the gateway: its routes behind the guard's
// connection caps, deadlines and Host check.
func (g *gateway) server() *http.Server { return g.guard.Server(g.mux) }

// closeClients closes every WebSocket client with 1001.
func (g *gateway) closeClients(ctx context.Context) {
	if err := g.clients(ctx); err != nil {
		g.log.Warn("clients did not close in time", "err", err)
	}
}

// stop ends the background work and releases resources, newest first.
func (g *gateway) stop(ctx context.Context) {
	g.cancel()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		g.log.Warn("background work did not stop in time")
	}
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i](ctx)
	}
}

// goRun starts fn as owned background work.
func (g *gateway) goRun(ctx context.Context, fn func(context.Context)) {
	g.wg.Add(1)
	go func() { defer g.wg.Done(); fn(ctx) }()
}

func start(parent context.Context, cfg *config.Config, log *slog.Logger) (*gateway, error) {
	ctx, cancel := context.WithCancel(parent)
	g := &gateway{cancel: cancel, log: log}
	ok := false
	defer func() {
		if !ok {
			g.stop(context.Background())
		}
	}()
	m := metrics.New()
	mux := http.NewServeMux()
	gate := admit.New(admit.Policy{
		MaxPerIP: cfg.MaxConnectionsPerIP, TrustedProxies: cfg.TrustedProxies,
		AllowedOrigins: cfg.AllowedOrigins, AuthToken: cfg.AuthToken, AdminToken: cfg.AdminToken,
	}, func(reason string) {
		m.RejectedConnections.Inc()
		m.RejectedByReason.WithLabelValues(reason).Inc()
	})

	g.guard = httpguard.New(httpguard.Config{
		MaxConnsPerIP: cfg.HTTPMaxConnsPerIP, MaxConns: cfg.HTTPMaxConns,
		BodyTimeout: cfg.HTTPBodyTimeout, WriteStall: cfg.HTTPWriteStall,
		LoopbackOnly: cfg.LoopbackOnly(), AllowedHosts: cfg.AllowedHosts,
		TrustedProxy: gate.TrustedProxy, ClientIP: gate.ClientIP, Log: log,
	})
	m.Registry.MustRegister(g.guard.Collectors()...)
	g.closers = append(g.closers, func(context.Context) { g.guard.Close() })

	if cfg.Proxy() {
		g.mode = "proxy"
		px, err := proxy.New(proxy.Config{Upstream: cfg.Upstream, SendTimeout: cfg.SendTimeout, MaxPayloadBytes: cfg.MaxPayloadBytes}, gate, log)
		if err != nil {
			return nil, err
		}
		px.Routes(mux)
		g.clients = px.Shutdown
		mux.HandleFunc("GET /healthz", healthz)
		mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
			ready, why := px.Ready(r.Context())
			code := http.StatusOK
			if !ready {
				code = http.StatusServiceUnavailable
			}
			writeJSON(w, code, map[string]any{"ready": ready, "reason": why})
		})
	} else if err := g.startPipeline(ctx, cfg, m, mux, log); err != nil {
		return nil, err
	}
	if g.catalog != nil {
		g.catalog.Routes(mux, gate.AllowRead)
	}

	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	schemas.Open(cfg.SchemasPath, func(r *http.Request) error {
		_, err := gate.Authorize(r)
		return err
	}, log).Routes(mux)

	web := assets.New(cfg.WebDir)
	mux.Handle(assets.Prefix, web)
	ui.Routes(prerenderFor(g.catalog)) // prerendered pages: no session (connecting), the run catalog
	mux.HandleFunc("GET "+pricesPath, pricesHandler(cfg.Prices))
	mux.HandleFunc("GET /favicon.ico", favicon(web))
	mux.Handle("/", notFoundStatus(&app.Handler{
		Name:                    ui.Title,
		ShortName:               ui.Title,
		Title:                   ui.Title,
		Description:             "Live observability for graph-workflow runs",
		Icon:                    app.Icon{Default: "/web/icon.png", SVG: "/web/icon.svg"},
		Styles:                  []string{"/web/app.css"},
		Resources:               web,
		WasmContentLengthHeader: assets.UncompressedLengthHeader,
	}))
	g.mux, g.handler = mux, g.guard.Handler(mux)
	ok = true
	return g, nil
}

// startPipeline builds the Kafka-to-WebSocket path: broker (embedded or
// real), replay store, source, hub, status.
func (g *gateway) startPipeline(ctx context.Context, cfg *config.Config, m *metrics.Gateway, mux *http.ServeMux, log *slog.Logger) error {
	brokers := cfg.Brokers
	namespaceBrokers := strings.Join(cfg.Brokers, ",")
	var clientOpts []kgo.Opt
	// The log's incarnation: it changes whenever an offset could name
	// another record than before, and is part of the namespace, so clients
	// drop cursors of another incarnation (issue 14 §1).
	var incarnation string
	var logHealth *status.LogHealth
	if cfg.Embedded() {
		g.mode = "embedded"
		dataDir, err := filepath.Abs(filepath.Join(cfg.DataDir, "kafka"))
		if err != nil {
			return fmt.Errorf("DASHSTREAM_DATA_DIR: %w", err)
		}
		emb, err := source.StartEmbedded(source.EmbeddedConfig{
			DataDir: dataDir, Topics: topics(cfg), Partitions: int32(cfg.EmbeddedPartitions),
			Retention: cfg.EmbeddedRetention, MaxBytes: cfg.EmbeddedMaxBytes,
		}, log)
		if err != nil {
			return err
		}
		g.closers = append(g.closers, func(context.Context) { emb.Close() })
		brokers = emb.Brokers()
		g.brokers = brokers
		// The broker's port changes at every start; the namespace must not,
		// or browsers would lose their stored cursors at each restart.
		namespaceBrokers = "embedded:" + dataDir
		rep := emb.Report()
		incarnation = rep.Incarnation
		m.LogDamage.Add(float64(len(rep.Losses)))
		m.LogLostRecords.Add(float64(rep.LostRecords))
		logHealth = logHealthOf(rep)
	} else {
		g.mode = "kafka"
		g.brokers = brokers
		opts, err := source.ClientOpts(cfg.Security)
		if err != nil {
			return err
		}
		clientOpts = opts
		// A real Kafka's topic id changes when the topic is created again.
		// Start-up does not wait for an unreachable Kafka: the namespace
		// then has no incarnation and the source pins the first id it sees.
		idCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		id, err := source.TopicID(idCtx, brokers, cfg.Topic, clientOpts)
		cancel()
		if err != nil {
			log.Warn("kafka topic id unknown at start; the resume namespace has no incarnation", "topic", cfg.Topic, "err", err)
		}
		incarnation = id
		logHealth = &status.LogHealth{Incarnation: id}
	}
	nsIncarnation := incarnation
	if !cfg.NamespaceIncarnation && g.mode == "kafka" {
		// Upstream's namespace exactly, to share a Redis with upstream
		// servers; the source still refuses a recreated topic.
		nsIncarnation = ""
	}
	namespace := control.ResumeNamespace(cfg.Topic, cfg.GroupID, namespaceBrokers, namespaceCluster(cfg.ClusterID, nsIncarnation))

	ring, err := memory.New(memory.Config{MaxRecords: cfg.MemoryRecords, MaxBytes: cfg.MemoryBytes})
	if err != nil {
		return fmt.Errorf("REPLAY_BUFFER_MEMORY_SIZE: %w", err)
	}
	var store replay.Store = ring
	replayHealth := func() status.ReplayHealth {
		st := ring.Stats()
		return status.ReplayHealth{MemoryHits: int64(st.Hits), MemoryRecords: st.Records, MaxMemoryRecords: cfg.MemoryRecords}
	}
	if cfg.RedisURL != "" {
		// go-redis logs every failed dial by default; rate-limit it.
		redis.SetLogger(redisstore.NewLogger(log, time.Minute))
		// Open bounds retries (one dial, one retry a command): a Redis that
		// refuses us costs a connection per back-off, not several per batch.
		rs, err := redisstore.Open(cfg.RedisURL, namespace, redisstore.Config{TTL: cfg.RedisTTL, MaxEntries: cfg.RedisMaxSequences, Logger: log})
		if err != nil {
			return fmt.Errorf("redis replay store: %w", err)
		}
		g.closers = append(g.closers, func(context.Context) { _ = rs.Close() })
		latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dashstream_websocket_redis_latency_ms", Help: "Redis replay-store operations, in milliseconds.",
			Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000},
		}, []string{"operation"})
		m.Registry.MustRegister(latency)
		tiered, err := replay.NewTiered(ring, rs, replay.TieredConfig{
			QueueSize: cfg.MemoryRecords, Logger: log,
			Observe: func(op string, d time.Duration) {
				latency.WithLabelValues(op).Observe(float64(d) / float64(time.Millisecond))
			},
		})
		if err != nil {
			return fmt.Errorf("redis replay store: %w", err)
		}
		m.Registry.MustRegister(replay.NewCollector(tiered))
		g.closers = append(g.closers, func(ctx context.Context) {
			if err := tiered.Close(ctx); err != nil {
				log.Warn("replay store did not flush to Redis", "err", err)
			}
		})
		store = tiered
		replayHealth = func() status.ReplayHealth {
			st := tiered.Stats()
			rst := ring.Stats()
			return status.ReplayHealth{
				RedisEnabled: true, RedisAvailable: st.Health.DurableOK, RedisLastError: st.Health.LastError,
				MemoryHits: int64(st.MemoryHits), RedisHits: int64(st.DurableHits), RedisMisses: int64(st.DurableMisses),
				RedisWriteDropped: int64(st.WriteDropped), RedisWriteFailures: int64(st.WriteFailures),
				MemoryRecords: rst.Records, MaxMemoryRecords: cfg.MemoryRecords,
				RedisTTLSecs: int(cfg.RedisTTL / time.Second), RedisMaxSequences: cfg.RedisMaxSequences,
			}
		}
	} else {
		m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "replay_buffer_memory_hits_total", Help: "Replay reads answered from the memory ring.",
		}, func() float64 { return float64(ring.Stats().Hits) }))
	}

	srcCfg := source.Config{
		Brokers: brokers, Topic: cfg.Topic, DLQTopic: cfg.DLQTopic, DLQIncludePayload: cfg.DLQIncludePayload,
		AutoOffsetReset: cfg.AutoOffsetReset, DecodeErrorPolicy: cfg.DecodeErrorPolicy, MaxPayloadBytes: cfg.MaxPayloadBytes,
		OldDataUseTime: cfg.OldDataUseTime, OldDataGrace: cfg.OldDataGrace, ClientOpts: clientOpts,
	}
	if g.mode == "kafka" {
		srcCfg.TopicID = incarnation
	}
	fetcher := source.NewFetcher(srcCfg, 4)
	g.closers = append(g.closers, func(context.Context) { fetcher.Close() })

	// The run catalog: fed the decoded records the source forwards, rebuilt
	// from Kafka retention at start; a thread replay reads Kafka through it
	// for runs older than the replay store.
	g.catalog = catalog.New(catalog.Config{
		MaxRuns: cfg.CatalogMaxRuns, Prices: cfg.Prices, Logger: log,
		Kafka: catalog.KafkaConfig{Brokers: brokers, Topic: cfg.Topic, ClientOpts: clientOpts, MaxPayloadBytes: cfg.MaxPayloadBytes},
	})
	srcCfg.Decoded = g.catalog.Observe
	m.Registry.MustRegister(g.catalog.Collector())

	var h *hub.Hub
	// Offsets the source skips as unreadable reach connected clients as a
	// gap, in order with the records (h is set before the source runs).
	srcCfg.OnGap = func(gp source.Gap) { h.PublishGap(gp.Partition, gp.From, gp.To) }
	sink := func(rec replay.Record) {
		// The store first: a client that misses the record live finds it there.
		if err := store.Append(ctx, rec); err != nil {
			log.Debug("replay append", "err", err)
		}
		h.Publish(rec)
	}
	startAt := func(ctx context.Context, p int32) (int64, bool) {
		if _, newest, ok, _ := store.Bounds(ctx, p); ok {
			return newest + 1, true
		}
		return 0, false
	}
	src := source.New(srcCfg, sink, startAt, m, log)
	h = hub.New(hub.Config{
		ClientQueue: cfg.ClientQueue, SendTimeout: cfg.SendTimeout,
		SlowClientThreshold: cfg.SlowClientThreshold, SlowClientWindow: cfg.SlowClientWindow,
		ReplayTimeout: cfg.ReplayTimeout, ReplayMaxTotal: cfg.ReplayMaxTotal,
		ReplayRate: cfg.ReplayRatePerClient, Namespace: namespace,
		Partitions: func() []int32 { return src.Status().Partitions },
		Admission: admit.Policy{
			MaxPerIP: cfg.MaxConnectionsPerIP, TrustedProxies: cfg.TrustedProxies,
			AllowedOrigins: cfg.AllowedOrigins, AuthToken: cfg.AuthToken, AdminToken: cfg.AdminToken,
		},
	}, catalog.NewThreadStore(store, g.catalog, fetcher), fetcher, src, m, log)
	g.clients = h.Shutdown
	mux.Handle("GET /ws", h)

	mdl := status.New(status.Inputs{
		Source: src.Status, Clients: h.Clients, Totals: h.Totals, Replay: replayHealth, Log: logHealth,
		Version: versionDoc(cfg, namespace, g.mode, logHealth),
	})
	mdl.Routes(mux)
	g.goRun(ctx, func(ctx context.Context) { _ = src.Run(ctx) })
	g.goRun(ctx, func(ctx context.Context) { _ = g.catalog.Run(ctx) })
	g.goRun(ctx, mdl.Run)
	if cfg.DemoEnabled() {
		return g.startDemo(ctx, cfg, brokers, m.Registry, log)
	}
	return nil
}

func topics(cfg *config.Config) []string {
	if cfg.DLQTopic == "" {
		return []string{cfg.Topic}
	}
	return []string{cfg.Topic, cfg.DLQTopic}
}

// namespaceCluster is the cluster part of the resume namespace: the log's
// incarnation goes where upstream puts extra identity (KAFKA_CLUSTER_ID),
// after the configured cluster id when there is one, so the namespace keeps
// upstream's v2_ form.
func namespaceCluster(clusterID, incarnation string) string {
	switch {
	case incarnation == "":
		return clusterID
	case clusterID == "":
		return "log." + incarnation
	}
	return clusterID + "/log." + incarnation
}

// logHealthOf summarises the start-up check of the embedded log for /health.
func logHealthOf(rep logdir.Report) *status.LogHealth {
	lh := &status.LogHealth{
		Incarnation: rep.Incarnation, Since: rep.Since, Previous: rep.Previous, Reason: rep.Reason,
		LostRecords: rep.LostRecords, UnknownLosses: rep.UnknownLosses, Quarantine: rep.Quarantine,
	}
	for _, l := range rep.Losses {
		lh.Losses = append(lh.Losses, l.What)
	}
	return lh
}

// versionDoc is the /version document: the upstream fields plus ours.
func versionDoc(cfg *config.Config, namespace, mode string, lh *status.LogHealth) map[string]any {
	incarnation := ""
	if lh != nil {
		incarnation = lh.Incarnation
	}
	return map[string]any{
		"log_incarnation":     incarnation,
		"git_sha":             cfg.GitSHA,
		"build_date":          cfg.BuildDate,
		"schema_version":      protocol.SchemaVersion,
		"component":           "websocket-server",
		"implementation":      "dashstream-go",
		"mode":                mode,
		"resume_namespace":    namespace,
		"kafka_topic":         cfg.Topic,
		"kafka_group_id":      cfg.GroupID,
		"max_payload_bytes":   cfg.MaxPayloadBytes,
		"decode_error_policy": cfg.DecodeErrorPolicy,
		"replay_max_total":    cfg.ReplayMaxTotal,
		"config":              cfg.Effective(),
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// Package status answers the operator endpoints: /healthz (the process is
// alive), /readyz (Kafka is assigned; 503 with the reason otherwise), /health
// (the upstream JSON shape, computed from windows that are exact to 10 s) and
// /version (build, namespace and the effective configuration, secrets
// masked).
//
// Unlike upstream, a quiet topic is "waiting", not "degraded", and nothing
// here restarts the process: liveness, readiness and health are separate.
package status

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dashstream/dashstream/server/source"
)

// Window is the length of the "last 120 s" counts of /health.
const Window = 120 * time.Second

// ReplayHealth describes the replay store for /health.
type ReplayHealth struct {
	RedisEnabled       bool
	RedisAvailable     bool
	RedisLastError     string
	MemoryHits         int64
	RedisHits          int64
	RedisMisses        int64
	RedisWriteDropped  int64
	RedisWriteFailures int64
	MemoryRecords      int
	MaxMemoryRecords   int
	RedisTTLSecs       int
	RedisMaxSequences  int
}

// LogHealth describes the Kafka log's incarnation and, for the embedded
// broker, what the start-up check of its data folder found.
type LogHealth struct {
	Incarnation   string
	Since         time.Time
	Previous      string
	Reason        string // why a new incarnation began at this start ("" when none did)
	Losses        []string
	LostRecords   int64
	UnknownLosses int
	Quarantine    string
}

// Inputs are where the health model reads from. Source and Replay are nil in
// proxy mode.
type Inputs struct {
	Source  func() source.Status
	Clients func() int
	// Totals returns the hub's lifetime send failures, send timeouts and
	// records clients could not take live.
	Totals func() (sendFailed, sendTimeout, dropped int64)
	Replay func() ReplayHealth
	// Log is the log's incarnation and damage report; nil in proxy mode.
	Log *LogHealth
	// Version is the /version document.
	Version map[string]any
}

// Model computes health from its inputs and keeps the 120 s windows.
type Model struct {
	in    Inputs
	start time.Time
	every time.Duration

	mu       sync.Mutex
	samples  []sample // oldest first, one per tick, covering Window
	lastDrop time.Time
}

type sample struct {
	at                                             time.Time
	messages, decodeErrs, dropped, failed, timeout int64
}

// New returns a Model; call Run to keep its windows current.
func New(in Inputs) *Model { return &Model{in: in, start: time.Now(), every: 10 * time.Second} }

// Run samples the counters every 10 s until ctx ends.
func (m *Model) Run(ctx context.Context) {
	m.tick()
	t := time.NewTicker(m.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.tick()
		}
	}
}

func (m *Model) current() sample {
	s := sample{at: time.Now()}
	if m.in.Source != nil {
		st := m.in.Source()
		s.messages, s.decodeErrs = st.Received, st.DecodeErrs
	}
	if m.in.Totals != nil {
		s.failed, s.timeout, s.dropped = m.in.Totals()
	}
	return s
}

func (m *Model) tick() {
	s := m.current()
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := len(m.samples); n > 0 && s.dropped > m.samples[n-1].dropped {
		m.lastDrop = s.at
	}
	m.samples = append(m.samples, s)
	for len(m.samples) > 1 && s.at.Sub(m.samples[1].at) >= Window {
		m.samples = m.samples[1:]
	}
}

// windowed returns the counts of the last 120 s (since start if younger).
func (m *Model) windowed(now sample) sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) == 0 {
		return now
	}
	base := m.samples[0]
	return sample{
		messages:   now.messages - base.messages,
		decodeErrs: now.decodeErrs - base.decodeErrs,
		dropped:    now.dropped - base.dropped,
		failed:     now.failed - base.failed,
		timeout:    now.timeout - base.timeout,
	}
}

// Ready reports whether the gateway can serve live data, and why not.
func (m *Model) Ready() (bool, string) {
	if m.in.Source == nil {
		return true, ""
	}
	st := m.in.Source()
	return st.Ready, st.Reason
}

// Health is the /health document (the upstream shape plus our sections).
func (m *Model) Health() map[string]any {
	now := m.current()
	win := m.windowed(now)
	var st source.Status
	if m.in.Source != nil {
		st = m.in.Source()
	}
	clients := 0
	if m.in.Clients != nil {
		clients = m.in.Clients()
	}
	var rh ReplayHealth
	if m.in.Replay != nil {
		rh = m.in.Replay()
	}
	ago := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return int64(time.Since(t).Seconds())
	}
	m.mu.Lock()
	lastDrop := m.lastDrop
	m.mu.Unlock()

	var alerts []string
	if win.dropped > 10 {
		alerts = append(alerts, "WARNING: clients could not keep up with "+itoa(win.dropped)+" live records in the last 120s (they were caught up from the replay store); raise WEBSOCKET_BUFFER_SIZE if this persists")
	}
	rate := 0.0
	if win.messages > 0 {
		rate = float64(win.decodeErrs) / float64(win.messages)
	}
	if rate > 0.01 {
		if win.messages >= 100 {
			alerts = append(alerts, "CRITICAL: decode error rate "+percent(rate)+" over the last 120s")
		} else {
			alerts = append(alerts, "INFO: decode error rate "+percent(rate)+" over a small sample ("+itoa(win.messages)+" messages)")
		}
	}
	if rh.RedisEnabled && !rh.RedisAvailable {
		alerts = append(alerts, "WARNING: Redis replay store unavailable ("+rh.RedisLastError+"); replay is served from memory and Kafka")
	}
	if rh.RedisEnabled && rh.RedisWriteDropped > 0 {
		alerts = append(alerts, "WARNING: "+itoa(rh.RedisWriteDropped)+" Redis replay writes dropped")
	}
	if rh.RedisEnabled && rh.RedisWriteFailures > 0 {
		alerts = append(alerts, "WARNING: "+itoa(rh.RedisWriteFailures)+" Redis replay writes failed")
	}
	if st.Missing > 0 {
		alerts = append(alerts, "CRITICAL: "+itoa(st.Missing)+" Kafka records without a value (tombstones) were not forwarded")
	}
	if lh := m.in.Log; lh != nil && len(lh.Losses) > 0 {
		what := itoa(lh.LostRecords) + " records"
		if lh.UnknownLosses > 0 {
			what += " and " + itoa(int64(lh.UnknownLosses)) + " losses of unknown size"
		}
		alerts = append(alerts, "CRITICAL: the log's data folder was damaged at start: "+what+" lost ("+lh.Losses[0]+
			"); unreadable files were moved to "+lh.Quarantine+" and a new incarnation began")
	}
	if st.Unreadable > 0 {
		alerts = append(alerts, "CRITICAL: "+itoa(st.Unreadable)+" Kafka records could not be read and were skipped (clients were told of the gaps)")
	}
	for p, why := range st.Paused {
		alerts = append(alerts, "CRITICAL: partition "+itoa(int64(p))+" paused: "+why)
	}

	status := "healthy"
	degraded := (win.messages >= 100 && rate > 0.01) || len(st.Paused) > 0 || (rh.RedisEnabled && !rh.RedisAvailable)
	switch {
	case m.in.Source != nil && !st.Ready:
		status = "reconnecting"
	case degraded:
		status = "degraded"
	case m.in.Source != nil && st.Received == 0:
		status = "waiting"
	}
	kafkaStatus := "connected"
	switch {
	case st.Received == 0:
		kafkaStatus = "waiting_for_messages"
	case time.Since(st.LastMessage) > time.Minute:
		kafkaStatus = "no_recent_messages"
	}
	if m.in.Source != nil && !st.Ready {
		kafkaStatus = "unreachable"
	}
	wsStatus := "no_clients"
	if clients > 0 {
		wsStatus = itoa(int64(clients)) + "_clients_connected"
	}
	doc := map[string]any{
		"status": status,
		"metrics": map[string]any{
			"kafka_messages_received":               st.Received,
			"kafka_errors":                          st.DecodeErrs,
			"infrastructure_errors":                 st.InfraErrors,
			"connected_clients":                     clients,
			"uptime_seconds":                        int64(time.Since(m.start).Seconds()),
			"last_kafka_message_ago_seconds":        ago(st.LastMessage),
			"dropped_messages":                      now.dropped,
			"dropped_messages_last_120s":            win.dropped,
			"last_drop_ago_seconds":                 ago(lastDrop),
			"decode_errors":                         st.DecodeErrs,
			"old_data_decode_errors":                st.OldDataErrs,
			"payload_missing":                       st.Missing,
			"last_infrastructure_error_ago_seconds": ago(st.LastErrorAt),
			"decode_errors_last_120s":               win.decodeErrs,
			"messages_last_120s":                    win.messages,
			"send_failed":                           now.failed,
			"send_timeout":                          now.timeout,
			"send_failed_last_120s":                 win.failed,
			"send_timeout_last_120s":                win.timeout,
			"messages_forwarded":                    st.Forwarded,
		},
		"replay_buffer": map[string]any{
			"redis_enabled":          rh.RedisEnabled,
			"redis_available":        rh.RedisAvailable,
			"memory_hits":            rh.MemoryHits,
			"redis_hits":             rh.RedisHits,
			"redis_misses":           rh.RedisMisses,
			"redis_write_dropped":    rh.RedisWriteDropped,
			"redis_write_failures":   rh.RedisWriteFailures,
			"memory_buffer_size":     rh.MemoryRecords,
			"max_memory_size":        rh.MaxMemoryRecords,
			"redis_message_ttl_secs": rh.RedisTTLSecs,
			"redis_max_sequences":    rh.RedisMaxSequences,
		},
		"kafka_status":     kafkaStatus,
		"websocket_status": wsStatus,
		"ready":            st.Ready || m.in.Source == nil,
		"kafka": map[string]any{
			"ready":      st.Ready,
			"reason":     st.Reason,
			"partitions": st.Partitions,
			"paused":     st.Paused,
			"last_error": st.LastError,
		},
	}
	if lh := m.in.Log; lh != nil {
		since := any(nil)
		if !lh.Since.IsZero() {
			since = lh.Since.Format(time.RFC3339)
		}
		doc["log"] = map[string]any{
			"incarnation":            lh.Incarnation,
			"incarnation_since":      since,
			"previous_incarnation":   lh.Previous,
			"new_incarnation_reason": lh.Reason,
			"damaged":                len(lh.Losses) > 0,
			"losses":                 lh.Losses,
			"lost_records":           lh.LostRecords,
			"losses_of_unknown_size": lh.UnknownLosses,
			"moved_to":               lh.Quarantine,
			"unreadable_skipped":     st.Unreadable,
			"topic_id":               st.TopicID,
		}
	}
	if len(alerts) > 0 {
		doc["alert"] = strings.Join(alerts, " | ")
	}
	return doc
}

// Routes registers /healthz, /readyz, /health and /version on mux.
func (m *Model) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := m.Ready()
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"ready": ok, "reason": why})
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, m.Health()) // always 200, as upstream: the status field says it
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, m.in.Version)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func percent(r float64) string {
	b, _ := json.Marshal(float64(int(r*10000)) / 100)
	return string(b) + "%"
}

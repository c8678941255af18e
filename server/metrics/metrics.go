// Package metrics defines the gateway's Prometheus metrics under the upstream
// websocket-server's names and labels (so its dashboards and alerts keep
// working), plus a few of our own under dashstream_gateway_*. Every metric
// here is updated by some code path; none is defined for show (M-695).
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Gateway holds every gateway metric. Create one per process with New.
type Gateway struct {
	Registry *prometheus.Registry

	// Kafka ingest and decode (upstream §9.1).
	KafkaMessages      *prometheus.CounterVec // status = success | error | old_data_error
	DecodeErrors       *prometheus.CounterVec // error_type
	OldDataErrors      prometheus.Counter
	PayloadMissing     prometheus.Counter
	KafkaErrorsByType  *prometheus.CounterVec // error_type
	InfraErrors        prometheus.Counter
	E2ELatency         *prometheus.HistogramVec // stage
	ClockSkew          prometheus.Counter
	SequenceGaps       prometheus.Counter
	SequenceGapSize    prometheus.Histogram
	SequenceDuplicates prometheus.Counter
	SequenceReorders   prometheus.Counter
	MultiThreadBatches prometheus.Counter
	ConsumerLag        *prometheus.GaugeVec // partition
	CatchupPhase       *prometheus.GaugeVec // partition
	PausedPartitions   prometheus.Gauge
	UnreadableSkipped  prometheus.Counter // ours: offsets skipped because Kafka could not read them
	LogDamage          prometheus.Counter // ours: damage found in the embedded log's folder at start
	LogLostRecords     prometheus.Counter // ours: offsets of the embedded log lost to that damage

	// DLQ (upstream §9.3).
	DLQSends        *prometheus.CounterVec // error_type
	DLQSendFailures *prometheus.CounterVec // reason

	// Clients (upstream §9.4).
	ConnectedClients      prometheus.Gauge
	DroppedMessages       *prometheus.CounterVec // reason = lagged_receiver
	ClientLagEvents       *prometheus.CounterVec // severity
	ClientLagMessages     *prometheus.CounterVec // severity
	SlowClientDisconnects prometheus.Counter
	SendFailed            prometheus.Counter
	SendTimeout           prometheus.Counter
	RejectedConnections   prometheus.Counter
	RejectedByReason      *prometheus.CounterVec // ours: reason = per_ip_limit | origin | unauthorized
	ControlOversized      prometheus.Counter
	ControlParseFailures  prometheus.Counter

	// Resume and replay (upstream §9.5).
	ResumeRequests    *prometheus.CounterVec   // mode
	ReplayMessages    *prometheus.CounterVec   // mode
	ReplayGaps        *prometheus.CounterVec   // mode
	ReplayGapMessages *prometheus.CounterVec   // mode
	ReplayLatency     *prometheus.HistogramVec // mode
	DeepReplayRecords prometheus.Counter       // ours: records served from Kafka, older than the replay store
	CursorStale       prometheus.Counter       // ours
	CatchUps          prometheus.Counter       // ours: live-queue overflows healed from the replay store

	// Hostile or abusive clients (ours).
	ReplayRateLimited       prometheus.Counter // requests and replay pages that waited for their connection's allowance
	ResumeUnknownPartitions prometheus.Counter // resumes naming partitions the topic does not have
	ClientProtocolErrors    prometheus.Counter // connections closed with 1002 for breaking the WebSocket protocol

	start time.Time
}

var (
	modes      = []string{"partition", "thread"}
	severities = []string{"info", "warning", "critical"}
)

// New creates and registers every metric on a fresh registry that also holds
// the Go and process collectors.
func New() *Gateway {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := factory{r}
	g := &Gateway{Registry: r, start: time.Now()}

	g.KafkaMessages = f.counterVec("websocket_kafka_messages_total", "Kafka records consumed, by outcome.", "status")
	g.DecodeErrors = f.counterVec("websocket_decode_errors_total", "Records that failed to decode, by class.", "error_type")
	g.OldDataErrors = f.counter("websocket_old_data_decode_errors_total", "Decode failures of records older than this session (catch-up).")
	g.PayloadMissing = f.counter("websocket_kafka_payload_missing_total", "Kafka records without a value (tombstones); never forwarded.")
	g.KafkaErrorsByType = f.counterVec("websocket_kafka_errors_by_type_total", "Kafka client errors, by class.", "error_type")
	g.InfraErrors = f.counter("websocket_infrastructure_errors_total", "Infrastructure errors (Kafka unreachable, fetch failures).")
	g.E2ELatency = f.histogramVec("websocket_e2e_latency_ms", "Producer timestamp to gateway receipt, in milliseconds.",
		[]float64{100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000}, "stage")
	g.ClockSkew = f.counter("websocket_clock_skew_events_total", "Producer timestamps in the future or over 60 s old.")
	g.SequenceGaps = f.counter("dashstream_sequence_gaps_total", "Per-thread sequence gaps seen at ingest.")
	g.SequenceGapSize = f.histogram("dashstream_sequence_gap_size", "Size of per-thread sequence gaps.",
		[]float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 10000})
	g.SequenceDuplicates = f.counter("dashstream_sequence_duplicates_total", "Per-thread duplicate sequences seen at ingest.")
	g.SequenceReorders = f.counter("dashstream_sequence_reorders_total", "Per-thread out-of-order sequences seen at ingest.")
	g.MultiThreadBatches = f.counter("websocket_multi_thread_batches_total", "EventBatch records holding events of more than one thread.")
	g.ConsumerLag = f.gaugeVec("websocket_kafka_consumer_lag", "Records between the gateway and the partition's high watermark.", "partition")
	g.CatchupPhase = f.gaugeVec("websocket_kafka_catchup_phase", "1 while a partition replays history older than this session, 0 at its head.", "partition")
	g.PausedPartitions = f.gauge("dashstream_gateway_paused_partitions", "Partitions paused by KAFKA_ON_DECODE_ERROR=pause.")
	g.UnreadableSkipped = f.counter("dashstream_kafka_unreadable_skipped_total", "Offsets skipped because Kafka could not read them (corrupt or missing data); clients hear of them as gaps.")
	g.LogDamage = f.counter("dashstream_log_damage_total", "Unreadable parts found in the embedded log's data folder at start (moved aside; a new incarnation began).")
	g.LogLostRecords = f.counter("dashstream_log_lost_records_total", "Offsets of the embedded log known lost to damage found at start.")

	g.DLQSends = f.counterVec("websocket_dlq_sends_total", "Records written to the dead-letter topic, by error class.", "error_type")
	g.DLQSendFailures = f.counterVec("websocket_dlq_send_failures_total", "Dead-letter writes that failed, by reason.", "reason")

	g.ConnectedClients = f.gauge("websocket_connected_clients", "WebSocket clients connected now.")
	g.DroppedMessages = f.counterVec("websocket_dropped_messages_total",
		"Live records a client's queue could not hold, summed over clients (each was then caught up from the replay store or reported as a gap).", "reason")
	g.ClientLagEvents = f.counterVec("websocket_client_lag_events_total", "Times a client's live queue overflowed, by severity.", "severity")
	g.ClientLagMessages = f.counterVec("websocket_client_lag_messages_total", "Records a lagging client missed live, by severity.", "severity")
	g.SlowClientDisconnects = f.counter("websocket_slow_client_disconnects_total", "Clients disconnected for lagging beyond the threshold.")
	g.SendFailed = f.counter("websocket_send_failed_total", "Sends to clients that failed.")
	g.SendTimeout = f.counter("websocket_send_timeout_total", "Sends to clients that timed out.")
	g.RejectedConnections = f.counter("websocket_rejected_connections_total", "WebSocket upgrades refused.")
	g.RejectedByReason = f.counterVec("dashstream_gateway_rejected_connections_total", "WebSocket upgrades refused, by reason.", "reason")
	g.ControlOversized = f.counter("websocket_control_oversized_total", "Control frames over the 1 MiB limit.")
	g.ControlParseFailures = f.counter("websocket_control_parse_failures_total", "Control frames that were not valid control messages.")

	g.ResumeRequests = f.counterVec("websocket_resume_requests_total", "Resume requests, by mode.", "mode")
	g.ReplayMessages = f.counterVec("websocket_replay_messages_total", "Records replayed, by mode.", "mode")
	g.ReplayGaps = f.counterVec("websocket_replay_gaps_total", "Gap frames sent during replays, by mode.", "mode")
	g.ReplayGapMessages = f.counterVec("websocket_replay_gap_messages_total", "Offsets or sequences reported missing during replays, by mode.", "mode")
	g.ReplayLatency = f.histogramVec("websocket_replay_latency_ms", "Duration of a resume, in milliseconds.",
		[]float64{10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000}, "mode")
	g.DeepReplayRecords = f.counter("dashstream_gateway_deep_replay_records_total", "Records replayed from Kafka because the replay store no longer held them.")
	g.CursorStale = f.counter("dashstream_gateway_cursor_stale_total", "Resumes whose cursor pointed at data gone from Kafka too.")
	g.CatchUps = f.counter("dashstream_gateway_client_catchups_total", "Client live-queue overflows healed by replaying from the store.")
	g.ReplayRateLimited = f.counter("dashstream_gateway_replay_rate_limited_total", "Client requests and replay pages that waited for the connection's replay allowance.")
	g.ResumeUnknownPartitions = f.counter("dashstream_gateway_resume_unknown_partitions_total", "Resumes naming partitions the topic does not have.")
	g.ClientProtocolErrors = f.counter("dashstream_gateway_client_protocol_errors_total", "Connections closed with 1002 because the client broke the WebSocket protocol.")

	r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "websocket_uptime_seconds", Help: "Seconds since the gateway started.",
	}, func() float64 { return time.Since(g.start).Seconds() }))

	// Seed the labelled series dashboards expect from the first scrape.
	for _, m := range modes {
		for _, v := range []*prometheus.CounterVec{g.ResumeRequests, g.ReplayMessages, g.ReplayGaps, g.ReplayGapMessages} {
			v.WithLabelValues(m)
		}
	}
	for _, s := range severities {
		g.ClientLagEvents.WithLabelValues(s)
		g.ClientLagMessages.WithLabelValues(s)
	}
	for _, s := range []string{"success", "error", "old_data_error"} {
		g.KafkaMessages.WithLabelValues(s)
	}
	g.DroppedMessages.WithLabelValues("lagged_receiver")
	g.DLQSends.WithLabelValues("init")
	g.DLQSendFailures.WithLabelValues("init")
	return g
}

// Partition formats a partition as a label value.
func Partition(p int32) string { return strconv.FormatInt(int64(p), 10) }

// Severity returns the upstream severity of a lag of n records.
func Severity(n int64) string {
	switch {
	case n >= 100:
		return "critical"
	case n >= 10:
		return "warning"
	}
	return "info"
}

type factory struct{ r *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.r.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.r.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.r.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.r.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.r.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.r.MustRegister(h)
	return h
}

package producer

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Message type labels (message_type): the upstream values plus the types
// upstream sent outside its ordered queue.
const (
	typeEvent         = "event"
	typeStateDiff     = "state_diff"
	typeCheckpoint    = "checkpoint"
	typeTokenChunk    = "token_chunk"
	typeToolExecution = "tool_execution"
	typeMetrics       = "metrics"
	typeError         = "error"
)

var messageTypes = []string{typeEvent, typeStateDiff, typeCheckpoint, typeTokenChunk, typeToolExecution, typeMetrics, typeError}

// Drop reasons (dashstream_telemetry_dropped_total{reason}).
const (
	dropQueueFull = "queue_full" // the producer's queue was full
	dropOversized = "oversized"  // larger than the message budget
	dropClosed    = "closed"     // emitted after Close
	dropInvalid   = "invalid"    // the protobuf encoder refused the message
)

var dropReasons = []string{dropQueueFull, dropOversized, dropClosed, dropInvalid}

// Degradation reasons (dashstream_state_diff_degraded_total{reason}): state
// streaming did less than asked. A full state sent because it is smaller than
// the patch is not one of them; dashstream_state_updates_total counts it.
const (
	degradedSerialization   = "serialization_failed"     // the state is not JSON
	degradedStateTooLarge   = "state_too_large"          // not even the full state fits: update dropped
	degradedPatchTooLarge   = "patch_too_large"          // the patch did not fit, the full state did
	degradedPatchLimits     = "patch_limits"             // ops, path length or forbidden segment: full state sent
	degradedManifestDropped = "graph_manifest_dropped"   // GraphStart left out graph_manifest
	degradedSchemaDropped   = "graph_schema_dropped"     // GraphStart left out graph_schema_json
	degradedInitialDropped  = "initial_state_dropped"    // GraphStart left out initial_state_json
	degradedGraphStartBare  = "graph_start_stripped"     // GraphStart kept only its identity
	degradedCheckpointLarge = "checkpoint_too_large"     // a checkpoint did not fit
	degradedTooLargeForUI   = "schema_over_consumer_cap" // schema/manifest over the UI's 2 MiB
)

var degradedReasons = []string{degradedSerialization, degradedStateTooLarge, degradedPatchTooLarge, degradedPatchLimits,
	degradedManifestDropped, degradedSchemaDropped, degradedInitialDropped, degradedGraphStartBare, degradedCheckpointLarge, degradedTooLargeForUI}

// State update kinds and why a full state was sent
// (dashstream_state_updates_total{kind,reason}).
const (
	kindPatch = "patch"
	kindFull  = "full"

	reasonDiff          = "diff"            // a patch
	reasonFirst         = "first"           // the run's first update
	reasonAfterLoss     = "after_loss"      // a message of the run was lost
	reasonSmaller       = "smaller"         // the patch was over 1.1x the state (upstream full_state_fallback)
	reasonPatchLimits   = "patch_limits"    // consumers would refuse the patch
	reasonPatchTooLarge = "patch_too_large" // the patch message did not fit
)

// metrics are the producer's Prometheus collectors. Several producers may
// share one registry: the second one reuses the collectors the first
// registered, so counters and the queue-depth gauge sum over the process
// instead of the last writer winning (upstream M-1040).
type metrics struct {
	dropped         *prometheus.CounterVec
	sendFailures    *prometheus.CounterVec
	degraded        *prometheus.CounterVec
	stateUpdates    *prometheus.CounterVec
	sent            prometheus.Counter
	sendFailuresAll prometheus.Counter
	queueDepth      prometheus.Gauge
	queueBytes      prometheus.Gauge
	dlqSends        prometheus.Counter
	dlqFailures     prometheus.Counter
	dlqDropped      prometheus.Counter

	// Per-producer copies for Stats.
	nSent, nSendFailures, nDropped, nDegraded, nPatches, nFull, nDLQSent, nDLQFailed, nDLQDropped atomic.Int64
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dashstream_telemetry_dropped_total",
			Help: "Messages dropped by the producer before reaching Kafka (queue full, over the size budget, after close). Each used up its sequence number, so consumers see the gap.",
		}, []string{"message_type", "reason"}),
		sendFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dashstream_telemetry_send_failures_total",
			Help: "Messages the Kafka client failed to deliver, by message type and error class (M-713).",
		}, []string{"message_type", "reason"}),
		degraded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dashstream_state_diff_degraded_total",
			Help: "State streaming that did less than asked (update skipped or dropped, patch replaced by a full state because of limits, GraphStart fields left out).",
		}, []string{"reason"}),
		stateUpdates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dashstream_state_updates_total",
			Help: "State updates sent, as a patch or a full state, and why a full state was chosen (information, not an alert).",
		}, []string{"kind", "reason"}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dashstream_messages_sent_total",
			Help: "Messages acknowledged by Kafka.",
		}),
		sendFailuresAll: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dashstream_send_failures_total",
			Help: "Messages the Kafka client failed to deliver (all types).",
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dashstream_telemetry_queue_depth",
			Help: "Messages accepted by the producers of this process and not yet acknowledged or failed.",
		}),
		queueBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dashstream_telemetry_queue_bytes",
			Help: "Bytes of the messages counted by dashstream_telemetry_queue_depth.",
		}),
		dlqSends: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dashstream_dlq_sends_total",
			Help: "Dead-letter records acknowledged by Kafka.",
		}),
		dlqFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dashstream_dlq_send_failures_total",
			Help: "Dead-letter records Kafka did not accept.",
		}),
		dlqDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dashstream_dlq_dropped_total",
			Help: "Dead-letter records not attempted because too many were in flight.",
		}),
	}
	if err := m.register(reg); err != nil {
		return nil, err
	}
	// Every label value we can emit exists from the start, so dashboards
	// see zeros rather than missing series.
	for _, t := range messageTypes {
		for _, r := range dropReasons {
			m.dropped.WithLabelValues(t, r)
		}
	}
	for _, r := range degradedReasons {
		m.degraded.WithLabelValues(r)
	}
	m.stateUpdates.WithLabelValues(kindPatch, reasonDiff)
	for _, r := range []string{reasonFirst, reasonAfterLoss, reasonSmaller, reasonPatchLimits, reasonPatchTooLarge} {
		m.stateUpdates.WithLabelValues(kindFull, r)
	}
	return m, nil
}

// register registers every collector on reg (nil: none), reusing a
// collector of the same description that is already there.
func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	adopt := func(c prometheus.Collector) (prometheus.Collector, error) {
		err := reg.Register(c)
		if err == nil {
			return c, nil
		}
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector, nil
		}
		return nil, err
	}
	var err error
	vec := func(dst **prometheus.CounterVec) {
		if err != nil {
			return
		}
		var c prometheus.Collector
		if c, err = adopt(*dst); err == nil {
			if v, ok := c.(*prometheus.CounterVec); ok {
				*dst = v
			}
		}
	}
	counter := func(dst *prometheus.Counter) {
		if err != nil {
			return
		}
		var c prometheus.Collector
		if c, err = adopt(*dst); err == nil {
			if v, ok := c.(prometheus.Counter); ok {
				*dst = v
			}
		}
	}
	gauge := func(dst *prometheus.Gauge) {
		if err != nil {
			return
		}
		var c prometheus.Collector
		if c, err = adopt(*dst); err == nil {
			if v, ok := c.(prometheus.Gauge); ok {
				*dst = v
			}
		}
	}
	vec(&m.dropped)
	vec(&m.sendFailures)
	vec(&m.degraded)
	vec(&m.stateUpdates)
	counter(&m.sent)
	counter(&m.sendFailuresAll)
	gauge(&m.queueDepth)
	gauge(&m.queueBytes)
	counter(&m.dlqSends)
	counter(&m.dlqFailures)
	counter(&m.dlqDropped)
	if err != nil {
		return fmt.Errorf("producer: register metrics: %w", err)
	}
	return nil
}

func (m *metrics) drop(msgType, reason string) {
	m.dropped.WithLabelValues(msgType, reason).Inc()
	m.nDropped.Add(1)
}

func (m *metrics) sendFailed(msgType, reason string) {
	m.sendFailures.WithLabelValues(msgType, reason).Inc()
	m.sendFailuresAll.Inc()
	m.nSendFailures.Add(1)
}

func (m *metrics) degrade(reason string) {
	m.degraded.WithLabelValues(reason).Inc()
	m.nDegraded.Add(1)
}

func (m *metrics) stateUpdate(kind, reason string) {
	m.stateUpdates.WithLabelValues(kind, reason).Inc()
	if kind == kindPatch {
		m.nPatches.Add(1)
	} else {
		m.nFull.Add(1)
	}
}

// Stats is a snapshot of one producer's counters since New (the Prometheus
// collectors may be shared with other producers; these are not).
type Stats struct {
	// Sent counts messages Kafka acknowledged.
	Sent int64
	// SendFailures counts messages the Kafka client failed to deliver.
	SendFailures int64
	// Dropped counts messages dropped before Kafka (queue full, oversized,
	// after Close).
	Dropped int64
	// Degraded counts state-streaming degradations.
	Degraded int64
	// Patches and FullStates count StateDiff messages handed to Kafka.
	Patches, FullStates int64
	// DLQSent, DLQFailed and DLQDropped count dead-letter records.
	DLQSent, DLQFailed, DLQDropped int64
	// Queued and QueuedBytes are the messages accepted and not yet
	// acknowledged or failed.
	Queued, QueuedBytes int64
}

package producer

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
)

// dlqMaxInFlight bounds the dead-letter records waiting to be written or in
// flight (upstream: 100); beyond it a record is dropped and counted.
const dlqMaxInFlight = 100

// dlqTimeout bounds one dead-letter write (upstream DEFAULT_DLQ_TIMEOUT_SECS).
const dlqTimeout = 5 * time.Second

// DLQRecord is the JSON value of a dead-letter record: the upstream
// DlqMessage fields (producer note §8), so existing DLQ tooling reads it.
// The payload is the framed Kafka value as it was to be sent, which was
// built from already redacted content, truncated to a bounded size.
type DLQRecord struct {
	OriginalPayloadBase64 string `json:"original_payload_base64"`
	// The four fields below are set only when the payload was truncated.
	OriginalPayloadSizeBytes     int    `json:"original_payload_size_bytes,omitempty"`
	OriginalPayloadIncludedBytes int    `json:"original_payload_included_bytes,omitempty"`
	OriginalPayloadTruncated     bool   `json:"original_payload_truncated,omitempty"`
	OriginalPayloadSHA256        string `json:"original_payload_sha256,omitempty"`
	Error                        string `json:"error"`
	SourceTopic                  string `json:"source_topic"`
	SourcePartition              int32  `json:"source_partition"`
	SourceOffset                 int64  `json:"source_offset"`
	Timestamp                    string `json:"timestamp"`
	ConsumerID                   string `json:"consumer_id"`
	ThreadID                     string `json:"thread_id"`
	TenantID                     string `json:"tenant_id"`
	ErrorType                    string `json:"error_type"`
	TraceID                      string `json:"trace_id"`
}

type dlqItem struct {
	value          []byte
	err            error
	thread, tenant string
	failedAt       time.Time
}

// dlq writes dead-letter records from one worker goroutine: the Kafka
// client's promises must not produce, so they only offer items here, without
// blocking.
type dlq struct {
	cl         *kgo.Client
	topic      string
	source     string
	maxPayload int
	m          *metrics

	items    chan dlqItem
	inflight atomic.Int64
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

func newDLQ(cl *kgo.Client, cfg Config, m *metrics) *dlq {
	// The JSON record carries the payload in base64 (4/3 larger) next to a
	// few hundred bytes of fields; it must itself fit a Kafka message.
	maxPayload := min(cfg.DLQMaxPayloadBytes, (cfg.MaxMessageBytes-recordOverhead-1024)*3/4)
	d := &dlq{
		cl: cl, topic: cfg.DLQTopic, source: cfg.Topic, maxPayload: max(maxPayload, 0), m: m,
		items: make(chan dlqItem, dlqMaxInFlight),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go d.loop()
	return d
}

// offer queues a failed payload without blocking; a full queue drops it.
func (d *dlq) offer(value []byte, err error, thread, tenant string) {
	select {
	case <-d.stop:
		d.m.dlqDropped.Inc()
		d.m.nDLQDropped.Add(1)
		return
	default:
	}
	select {
	case d.items <- dlqItem{value: value, err: err, thread: thread, tenant: tenant, failedAt: time.Now()}:
	default:
		d.m.dlqDropped.Inc()
		d.m.nDLQDropped.Add(1)
	}
}

func (d *dlq) loop() {
	defer close(d.done)
	for {
		select {
		case <-d.stop:
			return
		case it := <-d.items:
			d.write(it)
		}
	}
}

func (d *dlq) write(it dlqItem) {
	if d.inflight.Load() >= dlqMaxInFlight {
		d.m.dlqDropped.Inc()
		d.m.nDLQDropped.Add(1)
		return
	}
	traceID := uuid.NewString()
	value, err := json.Marshal(d.record(it, traceID))
	if err != nil { // only strings and numbers: cannot fail
		d.m.dlqFailures.Inc()
		d.m.nDLQFailed.Add(1)
		return
	}
	d.inflight.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), dlqTimeout)
	d.cl.TryProduce(ctx, &kgo.Record{Topic: d.topic, Key: []byte(traceID), Value: value}, func(_ *kgo.Record, err error) {
		cancel()
		d.inflight.Add(-1)
		if err != nil {
			d.m.dlqFailures.Inc()
			d.m.nDLQFailed.Add(1)
			return
		}
		d.m.dlqSends.Inc()
		d.m.nDLQSent.Add(1)
	})
}

func (d *dlq) record(it dlqItem, traceID string) DLQRecord {
	payload := it.value
	r := DLQRecord{
		Error:           fmt.Sprintf("Kafka send failed: %v", it.err),
		SourceTopic:     d.source,
		SourcePartition: -1,
		SourceOffset:    -1,
		Timestamp:       it.failedAt.UTC().Format(time.RFC3339Nano),
		ConsumerID:      "producer:" + it.tenant,
		ThreadID:        it.thread,
		TenantID:        it.tenant,
		ErrorType:       "kafka_send_error",
		TraceID:         traceID,
	}
	if len(payload) > d.maxPayload {
		sum := sha256.Sum256(payload)
		r.OriginalPayloadSizeBytes = len(payload)
		r.OriginalPayloadIncludedBytes = d.maxPayload
		r.OriginalPayloadTruncated = true
		r.OriginalPayloadSHA256 = hex.EncodeToString(sum[:])
		payload = payload[:d.maxPayload]
	}
	r.OriginalPayloadBase64 = base64.StdEncoding.EncodeToString(payload)
	return r
}

// close stops the worker and waits for it, or for ctx. Items still queued
// are dropped and counted.
func (d *dlq) close(ctx context.Context) error {
	d.stopOnce.Do(func() { close(d.stop) })
	select {
	case <-d.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		select {
		case <-d.items:
			d.m.dlqDropped.Inc()
			d.m.nDLQDropped.Add(1)
		default:
			return nil
		}
	}
}

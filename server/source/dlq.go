package source

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
)

// maxDLQPayload bounds the payload copied into a dead-letter record (K4).
const maxDLQPayload = 512 << 10

// dlqRecord is the upstream websocket-server's dead-letter JSON (§6.5).
type dlqRecord struct {
	TraceID          string  `json:"trace_id"`
	Timestamp        string  `json:"timestamp"`
	Error            string  `json:"error"`
	ErrorType        string  `json:"error_type"`
	PayloadSHA256    string  `json:"payload_sha256"`
	PayloadBase64    *string `json:"original_payload_base64"`
	TruncationNote   *string `json:"payload_truncation_note"`
	PayloadTruncated bool    `json:"original_payload_truncated,omitempty"`
	MessageSize      int     `json:"message_size"`
	FirstBytesHex    string  `json:"first_bytes_hex"`
	LastBytesHex     string  `json:"last_bytes_hex"`
	KafkaPartition   int32   `json:"kafka_partition"`
	KafkaOffset      int64   `json:"kafka_offset"`
	MessageCount     int64   `json:"message_count"`
	ThreadID         *string `json:"thread_id"`
	TenantID         *string `json:"tenant_id"`
	SourceTopic      string  `json:"source_topic"`
}

// sendDLQ writes a forensic record for an undecodable value. It never
// blocks ingest: a full producer buffer drops the record and counts it.
func (s *Source) sendDLQ(cl *kgo.Client, r *kgo.Record, value []byte, cause error, class string) {
	if s.cfg.DLQTopic == "" {
		return
	}
	s.mu.Lock()
	count := s.status.Received
	s.mu.Unlock()
	raw := r.Value
	if value != nil {
		raw = value
	}
	sum := sha256.Sum256(raw)
	rec := dlqRecord{
		TraceID:        uuid.NewString(),
		Timestamp:      time.Now().UTC().Format(time.RFC3339Nano),
		Error:          cause.Error(),
		ErrorType:      class,
		PayloadSHA256:  hex.EncodeToString(sum[:]),
		MessageSize:    len(raw),
		FirstBytesHex:  hexList(raw[:min(16, len(raw))]),
		KafkaPartition: r.Partition,
		KafkaOffset:    r.Offset,
		MessageCount:   count,
		SourceTopic:    s.cfg.Topic,
	}
	if len(raw) >= 16 {
		rec.LastBytesHex = hexList(raw[len(raw)-16:])
	}
	switch {
	case class == "payload_too_large":
		note := fmt.Sprintf("Payload too large (%d bytes); not encoded. SHA256: %s.", len(raw), rec.PayloadSHA256)
		rec.TruncationNote = &note
	case s.cfg.DLQIncludePayload:
		included := raw[:min(len(raw), maxDLQPayload)]
		b64 := base64.StdEncoding.EncodeToString(included)
		rec.PayloadBase64 = &b64
		if len(included) < len(raw) {
			rec.PayloadTruncated = true
			note := fmt.Sprintf("Payload truncated to its first %d of %d bytes. SHA256 of the whole payload: %s.", len(included), len(raw), rec.PayloadSHA256)
			rec.TruncationNote = &note
		}
	default:
		note := "Full payload omitted for security. SHA256: " + rec.PayloadSHA256 + ". Set DLQ_INCLUDE_FULL_PAYLOAD=true to include."
		rec.TruncationNote = &note
	}
	body, err := json.Marshal(rec)
	if err != nil {
		s.m.DLQSendFailures.WithLabelValues("encode").Inc()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	cl.TryProduce(ctx, &kgo.Record{Topic: s.cfg.DLQTopic, Key: []byte(rec.TraceID), Value: body}, func(_ *kgo.Record, err error) {
		cancel()
		switch {
		case err == nil:
			s.m.DLQSends.WithLabelValues(class).Inc()
		case errors.Is(err, kgo.ErrMaxBuffered):
			s.m.DLQSendFailures.WithLabelValues("backpressure").Inc()
		case strings.Contains(err.Error(), "deadline") || strings.Contains(err.Error(), "timeout"):
			s.m.DLQSendFailures.WithLabelValues("timeout").Inc()
		default:
			s.m.DLQSendFailures.WithLabelValues("kafka_error").Inc()
		}
	})
}

// hexList writes bytes as the upstream's debug-list form, "[0a, 1f, 00]".
func hexList(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

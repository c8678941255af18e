package source

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/server/metrics"
	"github.com/dashstream/dashstream/server/replay"
)

// process runs one record through the pipeline (upstream §6.3, in order).
func (s *Source) process(cl *kgo.Client, r *kgo.Record) {
	now := time.Now()
	s.mu.Lock()
	s.status.Received++
	s.status.LastMessage = now
	s.mu.Unlock()
	old := s.classifyOld(r)

	if r.Value == nil { // a tombstone: counted, never decoded or forwarded (M-1025)
		s.m.PayloadMissing.Inc()
		s.mu.Lock()
		s.status.Missing++
		s.mu.Unlock()
		if s.cfg.DecodeErrorPolicy == "pause" {
			s.pause(cl, r.Partition, fmt.Sprintf("record at offset %d has no value", r.Offset))
			return
		}
		s.skips.add(r.Partition, r.Offset)
		return
	}
	// The size check comes before any copy (M-1024).
	if len(r.Value) > s.cfg.MaxPayloadBytes {
		err := fmt.Errorf("%w: value of %d bytes exceeds %d", protocol.ErrTooLarge, len(r.Value), s.cfg.MaxPayloadBytes)
		s.rejected(cl, r, nil, err, old)
		return
	}
	// One copy, shared by the store, the broadcast and every connection; the
	// fetch buffer it came from is not retained.
	value := bytes.Clone(r.Value)
	msg, err := s.decoder.Decode(value)
	if err != nil {
		s.rejected(cl, r, value, err, old)
		return
	}
	rec := replay.Record{Partition: r.Partition, Offset: r.Offset, Value: value, Threads: s.threads(msg, now)}
	s.m.KafkaMessages.WithLabelValues("success").Inc()
	s.mu.Lock()
	s.status.Decoded++
	s.status.Forwarded++
	s.mu.Unlock()
	if s.cfg.Decoded != nil {
		s.cfg.Decoded(r.Partition, r.Offset, msg)
	}
	s.sink(rec)
}

// rejected handles a record that will not be forwarded: counts it, sends it
// to the dead-letter topic (new data only) and applies the decode-error policy.
func (s *Source) rejected(cl *kgo.Client, r *kgo.Record, value []byte, err error, old bool) {
	class := decodeErrorType(err)
	s.mu.Lock()
	if old {
		s.status.OldDataErrs++
	} else {
		s.status.DecodeErrs++
	}
	s.mu.Unlock()
	if old {
		s.m.OldDataErrors.Inc()
		s.m.KafkaMessages.WithLabelValues("old_data_error").Inc()
	} else {
		s.m.KafkaMessages.WithLabelValues("error").Inc()
		s.m.DecodeErrors.WithLabelValues(class).Inc()
		s.sendDLQ(cl, r, value, err, class)
	}
	if s.cfg.DecodeErrorPolicy == "pause" {
		s.pause(cl, r.Partition, fmt.Sprintf("record at offset %d: %v", r.Offset, err))
		return
	}
	s.skips.add(r.Partition, r.Offset)
}

// decodeErrorType maps a decode error to the websocket_decode_errors_total
// label: the upstream classes where they exist, and ours for failures
// upstream could not tell apart.
func decodeErrorType(err error) string {
	switch protocol.ErrorClass(err) {
	case "too_large":
		return "payload_too_large"
	case "invalid_protobuf":
		return "invalid_protobuf"
	case "corrupt_zstd":
		return "corrupt_zstd"
	case "missing_content_size":
		return "missing_content_size"
	case "empty":
		return "empty_payload"
	case "unframed":
		return "unframed"
	}
	return "unknown_decode_error"
}

// classifyOld reports whether r predates this session (catch-up data), by
// offset against the partition's head at session start, or by timestamp when
// configured (upstream §6.2).
func (s *Source) classifyOld(r *kgo.Record) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	head, known := s.heads[r.Partition]
	if !known {
		first, seen := s.firsts[r.Partition]
		if !seen {
			s.firsts[r.Partition] = r.Offset
			first = r.Offset
		}
		head = first
	}
	byOffset := r.Offset < head
	label := metrics.Partition(r.Partition)
	if byOffset {
		s.m.CatchupPhase.WithLabelValues(label).Set(1)
	} else if known && !s.caught[r.Partition] {
		s.caught[r.Partition] = true
		s.m.CatchupPhase.WithLabelValues(label).Set(0)
	}
	if s.cfg.OldDataUseTime {
		return !r.Timestamp.IsZero() && r.Timestamp.Before(s.began.Add(-s.cfg.OldDataGrace))
	}
	return byOffset
}

// threads extracts the replay index entries of a decoded message, checks
// sequences and measures producer-to-gateway latency on every header.
func (s *Source) threads(msg *pb.DashStreamMessage, now time.Time) []replay.ThreadSeq {
	if batch := msg.GetEventBatch(); batch != nil {
		maxSeq := map[string]uint64{}
		var order []string
		for _, ev := range batch.GetEvents() {
			h := ev.GetHeader()
			s.observeHeader(h, now)
			tid, seq := replay.NormalizeThreadID(h.GetThreadId()), h.GetSequence()
			if tid == "" || seq == 0 {
				continue
			}
			if _, seen := maxSeq[tid]; !seen {
				order = append(order, tid)
			}
			maxSeq[tid] = max(maxSeq[tid], seq)
		}
		if len(order) > 1 {
			s.m.MultiThreadBatches.Inc()
		}
		out := make([]replay.ThreadSeq, 0, len(order))
		for _, tid := range order {
			out = append(out, replay.ThreadSeq{Thread: tid, Seq: maxSeq[tid]})
		}
		return out
	}
	h := protocol.Header(msg)
	s.observeHeader(h, now)
	tid, seq := replay.NormalizeThreadID(h.GetThreadId()), h.GetSequence()
	if tid == "" || seq == 0 {
		return nil
	}
	return []replay.ThreadSeq{{Thread: tid, Seq: seq}}
}

func (s *Source) observeHeader(h *pb.Header, now time.Time) {
	if h == nil {
		return
	}
	s.seq.observe(replay.NormalizeThreadID(h.GetThreadId()), h.GetSequence())
	if ts := h.GetTimestampUs(); ts > 0 {
		lat := now.Sub(time.UnixMicro(ts))
		if lat < 0 || lat > time.Minute {
			s.m.ClockSkew.Inc()
		} else {
			s.m.E2ELatency.WithLabelValues("producer_to_consumer").Observe(float64(lat) / float64(time.Millisecond))
		}
	}
}

func containsAny(s string, subs ...string) bool {
	s = strings.ToLower(s)
	for _, sub := range subs {
		if strings.Contains(s, strings.ToLower(sub)) {
			return true
		}
	}
	return false
}

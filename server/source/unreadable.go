package source

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Gap is a range of offsets of a partition that the source could not read
// and skipped: records lost, which clients must hear of as a gap.
type Gap struct {
	Partition int32
	From, To  int64
	Reason    string
}

// GapFunc is told of every range the source skips.
type GapFunc func(Gap)

// unreadable reports whether a partition fetch error means the data at the
// fetch position cannot be read (a corrupt or missing batch), as opposed to
// a broker or network failure that a retry heals.
func unreadable(err error) bool {
	if errors.Is(err, kerr.UnknownServerError) || errors.Is(err, kerr.CorruptMessage) ||
		errors.Is(err, kerr.KafkaStorageError) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "crc") || strings.Contains(msg, "invalid record batch") ||
		strings.Contains(msg, "record batch") && strings.Contains(msg, "length")
}

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// readableAt asks the partition leader directly for the batch holding
// offset o and checks it: a broker error or a batch whose checksum fails
// means o cannot be read. An empty answer (o at the end) counts as readable.
func readableAt(ctx context.Context, cl *kgo.Client, topic string, id [16]byte, leader, p int32, o int64) (bool, error) {
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = 0
	req.MinBytes = 1
	req.MaxBytes = 1 << 20
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = p, o, 1<<20
	rp.CurrentLeaderEpoch, rp.LogStartOffset = -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl.Broker(int(leader)))
	if err != nil {
		return false, err
	}
	for _, t := range resp.Topics {
		for _, part := range t.Partitions {
			if part.Partition != p {
				continue
			}
			if part.ErrorCode != 0 {
				if ke := kerr.ErrorForCode(part.ErrorCode); ke == kerr.OffsetOutOfRange {
					return true, nil
				} else if unreadable(ke) {
					return false, nil
				} else {
					return false, ke
				}
			}
			raw := part.RecordBatches
			if len(raw) < 61 {
				return len(raw) == 0, nil
			}
			size := 12 + int(binary.BigEndian.Uint32(raw[8:12]))
			if size < 61 || size > len(raw) || raw[16] != 2 {
				return false, nil
			}
			return crc32.Checksum(raw[21:size], crc32c) == binary.BigEndian.Uint32(raw[17:21]), nil
		}
	}
	return false, fmt.Errorf("fetch answer without partition %d", p)
}

// nextReadable finds the first readable offset after bad (which cannot be
// read), below high: exponential steps, then a binary search between the
// last unreadable and the first readable probe. It assumes the unreadable
// offsets form one run, as a damaged stretch of a segment does; were there
// two runs within one search, the readable batch between them would be
// skipped too, and reported with them, never lost silently.
func nextReadable(ctx context.Context, probe func(int64) (bool, error), bad, high int64) (int64, error) {
	lo, hi := bad, int64(-1) // lo unreadable; hi readable
	for step := int64(1); ; step *= 2 {
		c := bad + step
		if c >= high {
			c = high
		}
		ok, err := probe(c)
		if err != nil {
			return 0, err
		}
		if ok {
			hi = c
			break
		}
		lo = c
		if c == high {
			return high, nil // nothing readable up to the end
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := probe(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// skipUnreadable moves partition p past the unreadable data at its fetch
// position, reports the range as a gap and logs it (once per partition per
// minute, with counts). It returns an error only when Kafka could not be
// asked, so the session retries.
func (s *Source) skipUnreadable(ctx context.Context, adm *kadm.Client, admin, cl *kgo.Client, p int32, cause error) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.StartBudget)
	defer cancel()
	topics, err := adm.ListTopics(ctx, s.cfg.Topic)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	td := topics[s.cfg.Topic]
	pd, ok := td.Partitions[p]
	if !ok || pd.Err != nil {
		return fmt.Errorf("partition %d: no leader known", p)
	}
	starts, err := adm.ListStartOffsets(ctx, s.cfg.Topic)
	if err != nil {
		return fmt.Errorf("start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, s.cfg.Topic)
	if err != nil {
		return fmt.Errorf("end offsets: %w", err)
	}
	so, _ := starts.Lookup(s.cfg.Topic, p)
	eo, _ := ends.Lookup(s.cfg.Topic, p)
	s.mu.Lock()
	pos, known := s.next[p]
	if head, ok := s.heads[p]; !known && ok && s.cfg.AutoOffsetReset == "latest" {
		pos, known = head, true // started at the end: nothing before the head was asked for
	}
	s.mu.Unlock()
	if !known || pos < so.Offset {
		pos = so.Offset
	}
	probe := func(o int64) (bool, error) { return readableAt(ctx, admin, s.cfg.Topic, td.ID, pd.Leader, p, o) }
	ok, err = probe(pos)
	if err != nil {
		return fmt.Errorf("probing offset %d: %w", pos, err)
	}
	if ok { // readable now: the error was passing
		return nil
	}
	next, err := nextReadable(ctx, probe, pos, eo.Offset)
	if err != nil {
		return fmt.Errorf("probing past offset %d: %w", pos, err)
	}
	cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{s.cfg.Topic: {p: {Epoch: -1, Offset: next}}})
	gap := Gap{Partition: p, From: pos, To: next - 1, Reason: cause.Error()}
	s.mu.Lock()
	s.next[p] = next
	s.status.Unreadable += next - pos
	s.status.LastError = fmt.Sprintf("partition %d: offsets %d..%d unreadable (%v); skipped", p, pos, next-1, cause)
	s.status.LastErrorAt = time.Now()
	s.mu.Unlock()
	s.m.UnreadableSkipped.Add(float64(next - pos))
	s.lossLog.Log("kafka: unreadable records skipped; clients are told of the gap", p,
		"partition", p, "from", pos, "to", next-1, "err", cause)
	if s.cfg.OnGap != nil {
		s.cfg.OnGap(gap)
	}
	return nil
}

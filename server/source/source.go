// Package source consumes the DashStream topic and hands every forwardable
// record, in offset order per partition, to the gateway.
//
// Every instance reads every partition by direct assignment (no consumer
// group), so instances scale out behind a load balancer and share one replay
// store; partitions added later are noticed. A partition starts after the
// replay store's newest offset, or at KAFKA_AUTO_OFFSET_RESET. Start-up never
// blocks: an unreachable Kafka leaves the source "not ready" with a reason
// while it retries with back-off, and it recovers by itself.
//
// Each record goes through the upstream pipeline, in order: tombstones are
// counted and never decoded; the size limit is checked before any copy;
// the value is copied once (so the fetch buffer is not retained) and decoded;
// failures are classified, sent to the dead-letter topic and then skipped or
// pause their partition (KAFKA_ON_DECODE_ERROR); catch-up records older than
// this session are classified as old data.
package source

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/server/internal/logthrottle"
	"github.com/dashstream/dashstream/server/metrics"
	"github.com/dashstream/dashstream/server/replay"
)

// Config configures a Source.
type Config struct {
	Brokers           []string
	Topic             string
	DLQTopic          string // "" disables the DLQ
	DLQIncludePayload bool
	AutoOffsetReset   string // earliest | latest
	DecodeErrorPolicy string // skip | pause
	MaxPayloadBytes   int
	OldDataUseTime    bool
	OldDataGrace      time.Duration
	// ClientOpts are extra franz-go options (security, see ClientOpts).
	ClientOpts []kgo.Opt
	// Refresh is how often partitions and reachability are re-checked
	// (default 10 s).
	Refresh time.Duration
	// StartBudget bounds the start-up metadata and watermark requests
	// (default 15 s, M-1028).
	StartBudget time.Duration
	// Decoded, when set, is given every forwarded record's decoded message
	// just before the sink gets the record (the run catalog reads it, so
	// nothing decodes a record twice). Same goroutine and order as Sink.
	Decoded func(partition int32, offset int64, msg *pb.DashStreamMessage)
	// TopicID is the topic's id the gateway's namespace was made with; a
	// topic found with another id (deleted and created again) is not read,
	// since its offsets name other records. Empty: the first id seen is
	// pinned.
	TopicID string
	// OnGap is told of offsets skipped because they could not be read.
	OnGap GapFunc
}

// Sink receives each forwardable record. It is called from the source's
// goroutine in offset order per partition and must not block for long.
type Sink func(replay.Record)

// StartFunc returns the offset a partition resumes at: the one after the
// replay store's newest record of p, when the store has one.
type StartFunc func(ctx context.Context, p int32) (next int64, ok bool)

// Status is the source's health, for /readyz and /health.
type Status struct {
	Ready       bool
	Reason      string // why not ready, or "" when ready
	Partitions  []int32
	Paused      map[int32]string // partition → why it is paused
	LastMessage time.Time        // zero: none yet
	LastError   string
	LastErrorAt time.Time
	Received    int64
	Forwarded   int64
	Decoded     int64
	DecodeErrs  int64
	OldDataErrs int64
	Missing     int64
	InfraErrors int64
	// Unreadable counts offsets skipped because Kafka could not read them.
	Unreadable int64
	// TopicID is the topic's id (base64url, as Kafka prints it).
	TopicID string
	Started time.Time
}

// Source is a running consumer; create it with New and run it with Run.
type Source struct {
	cfg     Config
	sink    Sink
	start   StartFunc
	m       *metrics.Gateway
	log     *slog.Logger
	decoder *protocol.Decoder
	seq     *sequenceValidator
	skips   *skipLog
	began   time.Time
	lossLog *logthrottle.Throttle
	errLog  *logthrottle.Throttle

	mu     sync.Mutex
	status Status
	next   map[int32]int64 // next offset to read per partition, when known
	heads  map[int32]int64 // high watermark per partition when this session began
	firsts map[int32]int64 // first offset seen per partition, when the head is unknown
	caught map[int32]bool
}

// New returns a Source; nothing connects until Run.
func New(cfg Config, sink Sink, start StartFunc, m *metrics.Gateway, log *slog.Logger) *Source {
	if cfg.Refresh <= 0 {
		cfg.Refresh = 10 * time.Second
	}
	if cfg.StartBudget <= 0 {
		cfg.StartBudget = 15 * time.Second
	}
	if cfg.MaxPayloadBytes <= 0 {
		cfg.MaxPayloadBytes = protocol.DefaultMaxPayloadBytes
	}
	now := time.Now()
	return &Source{
		cfg:     cfg,
		sink:    sink,
		start:   start,
		m:       m,
		log:     log,
		decoder: protocol.NewDecoder(protocol.WithMaxPayloadBytes(cfg.MaxPayloadBytes)),
		seq:     newSequenceValidator(100_000, m),
		skips:   newSkipLog(10_000),
		began:   now,
		lossLog: logthrottle.New(log, slog.LevelError, time.Minute),
		errLog:  logthrottle.New(log, slog.LevelWarn, time.Minute),
		next:    map[int32]int64{},
		status:  Status{Reason: "connecting to Kafka", Paused: map[int32]string{}, Started: now},
		heads:   map[int32]int64{},
		firsts:  map[int32]int64{},
		caught:  map[int32]bool{},
	}
}

// Status returns a snapshot of the source's health.
func (s *Source) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Partitions = slices.Clone(st.Partitions)
	st.Paused = make(map[int32]string, len(s.status.Paused))
	for p, why := range s.status.Paused {
		st.Paused[p] = why
	}
	return st
}

// KnownSkipped reports whether every offset in [from, to] of partition p is
// known to hold no forwardable record (a tombstone or an undecodable value
// this source skipped), so a replay need not look for it in Kafka.
func (s *Source) KnownSkipped(p int32, from, to int64) bool { return s.skips.covers(p, from, to) }

// Run consumes until ctx ends, reconnecting with back-off after any failure.
func (s *Source) Run(ctx context.Context) error {
	backoff := 500 * time.Millisecond
	for {
		err := s.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.fail(fmt.Errorf("kafka: %w", err))
		s.log.Warn("kafka source failed; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// fail records an infrastructure error and marks the source not ready.
func (s *Source) fail(err error) {
	s.m.InfraErrors.Inc()
	s.m.KafkaErrorsByType.WithLabelValues(classifyKafkaError(err)).Inc()
	s.mu.Lock()
	s.status.Ready = false
	s.status.Reason = err.Error()
	s.status.LastError = err.Error()
	s.status.LastErrorAt = time.Now()
	s.status.InfraErrors++
	s.mu.Unlock()
}

func (s *Source) setReady(partitions []int32) {
	s.mu.Lock()
	s.status.Ready = true
	s.status.Reason = ""
	s.status.Partitions = partitions
	s.mu.Unlock()
}

// session runs one client from connection to failure.
func (s *Source) session(ctx context.Context) error {
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.ClientID("dashstream-gateway"),
		kgo.FetchMaxPartitionBytes(int32(min(s.cfg.MaxPayloadBytes+(1<<20), 1<<30))),
		kgo.FetchMaxBytes(int32(min(4*(s.cfg.MaxPayloadBytes+(1<<20)), 1<<30))),
		kgo.BrokerMaxReadBytes(int32(min(4*(s.cfg.MaxPayloadBytes+(1<<20))+(1<<20), 1<<30))),
		kgo.MaxBufferedRecords(1000), // bounds the DLQ producer
		kgo.RetryTimeout(10 * time.Second),
	}, s.cfg.ClientOpts...)
	admin, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)

	startCtx, cancel := context.WithTimeout(ctx, s.cfg.StartBudget)
	partitions, err := s.partitions(startCtx, adm)
	if err != nil {
		cancel()
		return err
	}
	s.learnHeads(startCtx, adm)
	offsets := map[int32]kgo.Offset{}
	for _, p := range partitions {
		offsets[p] = s.startOffset(startCtx, p)
	}
	cancel()

	reset := kgo.NewOffset().AtStart()
	if s.cfg.AutoOffsetReset == "latest" {
		reset = kgo.NewOffset().AtEnd()
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.Topic: offsets}),
		kgo.ConsumeResetOffset(reset),
	)...)
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	defer cl.Close()
	s.setReady(partitions)
	s.log.Info("kafka source assigned", "topic", s.cfg.Topic, "partitions", len(partitions))

	ticker := time.NewTicker(s.cfg.Refresh)
	defer ticker.Stop()
	known := map[int32]bool{}
	for _, p := range partitions {
		known[p] = true
	}
	for {
		pollCtx, cancel := context.WithTimeout(ctx, s.cfg.Refresh)
		fetches := cl.PollRecords(pollCtx, 1000)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := s.handleFetches(ctx, adm, admin, cl, fetches); err != nil {
			return err
		}
		select {
		case <-ticker.C:
			if err := s.refresh(ctx, adm, cl, known); err != nil {
				return err
			}
		default:
		}
	}
}

// partitions lists the topic's partitions.
func (s *Source) partitions(ctx context.Context, adm *kadm.Client) ([]int32, error) {
	topics, err := adm.ListTopics(ctx, s.cfg.Topic)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	td, ok := topics[s.cfg.Topic]
	if !ok || td.Err != nil {
		if ok {
			return nil, fmt.Errorf("topic %q: %w", s.cfg.Topic, td.Err)
		}
		return nil, fmt.Errorf("topic %q does not exist", s.cfg.Topic)
	}
	if err := s.checkTopicID(td.ID); err != nil {
		return nil, err
	}
	ps := td.Partitions.Numbers()
	slices.Sort(ps)
	if len(ps) == 0 {
		return nil, fmt.Errorf("topic %q has no partitions", s.cfg.Topic)
	}
	return ps, nil
}

// TopicIDString prints a topic id as Kafka does (unpadded base64url); the
// zero id (a Kafka without topic ids) is "".
func TopicIDString(id kadm.TopicID) string {
	if id == (kadm.TopicID{}) {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// checkTopicID pins the topic's id and refuses a topic that was deleted and
// created again meanwhile: its offsets start over and would name other
// records under the same cursor.
func (s *Source) checkTopicID(raw kadm.TopicID) error {
	id := TopicIDString(raw)
	if id == "" {
		return nil
	}
	s.mu.Lock()
	pinned := s.cfg.TopicID
	if pinned == "" {
		pinned = s.status.TopicID
	}
	if pinned == "" || pinned == id {
		s.status.TopicID = id
		pinned = id
	}
	s.mu.Unlock()
	if pinned == id {
		return nil
	}
	err := fmt.Errorf("topic %q was deleted and created again (id %s, was %s): its offsets name other records now; restart the gateway to begin the new incarnation", s.cfg.Topic, id, pinned)
	s.lossLog.Log("kafka: the topic was recreated; not reading it under the old incarnation", "recreated", "err", err)
	return err
}

// learnHeads records each partition's high watermark at session start, to
// tell catch-up (old) records from new ones. It is bounded by ctx; partitions
// it misses fall back to their first offset seen.
func (s *Source) learnHeads(ctx context.Context, adm *kadm.Client) {
	ends, err := adm.ListEndOffsets(ctx, s.cfg.Topic)
	if err != nil {
		s.log.Warn("session head offsets unknown; old data is judged from the first offset seen", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			if _, seen := s.heads[o.Partition]; !seen {
				s.heads[o.Partition] = o.Offset
			}
		}
	})
}

func (s *Source) startOffset(ctx context.Context, p int32) kgo.Offset {
	if s.start != nil {
		if next, ok := s.start(ctx, p); ok {
			s.mu.Lock()
			s.next[p] = next
			s.mu.Unlock()
			return kgo.NewOffset().At(next)
		}
	}
	s.mu.Lock()
	delete(s.next, p) // unknown until the first record or the log start
	s.mu.Unlock()
	if s.cfg.AutoOffsetReset == "latest" {
		return kgo.NewOffset().AtEnd()
	}
	return kgo.NewOffset().AtStart()
}

// refresh re-checks reachability and adds partitions created since.
func (s *Source) refresh(ctx context.Context, adm *kadm.Client, cl *kgo.Client, known map[int32]bool) error {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.StartBudget)
	defer cancel()
	ps, err := s.partitions(rctx, adm)
	if err != nil {
		return err
	}
	added := map[int32]kgo.Offset{}
	for _, p := range ps {
		if !known[p] {
			known[p] = true
			added[p] = kgo.NewOffset().AtStart() // everything on a new partition is new
		}
	}
	if len(added) > 0 {
		cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.Topic: added})
		s.log.Info("kafka source noticed new partitions", "count", len(added))
	}
	s.setReady(ps)
	return nil
}

// handleFetches processes one poll; a fatal error ends the session. The
// records a partition returned come first: a fetch error stops a partition
// after them, so its position is right after the last one.
func (s *Source) handleFetches(ctx context.Context, adm *kadm.Client, admin, cl *kgo.Client, fetches kgo.Fetches) error {
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		for _, r := range fp.Records {
			if s.isPaused(r.Partition) {
				continue // the pausing record and everything after it wait for a restart
			}
			s.process(cl, r)
		}
		if n := len(fp.Records); n > 0 {
			s.mu.Lock()
			s.next[fp.Partition] = fp.Records[n-1].Offset + 1
			s.mu.Unlock()
		}
		if n := len(fp.Records); n > 0 {
			last := fp.Records[n-1].Offset
			s.m.ConsumerLag.WithLabelValues(metrics.Partition(fp.Partition)).Set(float64(max(0, fp.HighWatermark-last-1)))
		}
	})
	var fatal error
	fetches.EachError(func(t string, p int32, err error) {
		if fatal != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return
		}
		if errors.Is(err, kgo.ErrClientClosed) {
			fatal = err
			return
		}
		err = fmt.Errorf("fetch %s/%d: %w", t, p, err)
		s.fail(err)
		if !unreadable(err) {
			s.errLog.Log("kafka: fetch failed; retrying", p, "partition", p, "err", err)
			return
		}
		// Data the broker cannot serve would stop the partition for good:
		// skip past it and report the gap (M: never wedge, never silent).
		if serr := s.skipUnreadable(ctx, adm, admin, cl, p, err); serr != nil {
			s.errLog.Log("kafka: unreadable data could not be skipped yet; retrying", p, "partition", p, "err", err, "skip_err", serr)
			return
		}
		s.markReady()
	})
	return fatal
}

// markReady clears a not-ready state left by a fetch error once the
// partition moves again.
func (s *Source) markReady() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.status.Partitions) > 0 {
		s.status.Ready, s.status.Reason = true, ""
	}
}

func (s *Source) isPaused(p int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, paused := s.status.Paused[p]
	return paused
}

// pause stops consuming partition p, per KAFKA_ON_DECODE_ERROR=pause. The
// offending record is not passed on, so a restart retries it.
func (s *Source) pause(cl *kgo.Client, p int32, why string) {
	cl.PauseFetchPartitions(map[string][]int32{s.cfg.Topic: {p}})
	s.mu.Lock()
	s.status.Paused[p] = why
	n := len(s.status.Paused)
	s.mu.Unlock()
	s.m.PausedPartitions.Set(float64(n))
	s.log.Error("partition paused by KAFKA_ON_DECODE_ERROR=pause; restart the gateway after fixing the record", "partition", p, "why", why)
}

func classifyKafkaError(err error) string {
	msg := err.Error()
	switch {
	case containsAny(msg, "dns", "resolve", "no such host", "name"):
		return "dns_failure"
	case containsAny(msg, "timeout", "timed out", "deadline"):
		return "connection_timeout"
	case containsAny(msg, "broker", "connection refused", "reset by peer", "dial", "EOF"):
		return "broker_down"
	case containsAny(msg, "decode", "parse", "invalid"):
		return "decode_error"
	}
	return "unknown"
}

// TopicID returns the topic's id (TopicIDString), asking Kafka within ctx.
func TopicID(ctx context.Context, brokers []string, topic string, opts []kgo.Opt) (string, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		return "", err
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return "", fmt.Errorf("metadata: %w", err)
	}
	td, ok := topics[topic]
	if !ok || td.Err != nil {
		return "", fmt.Errorf("topic %q: %w", topic, errors.Join(errors.New("not found"), td.Err))
	}
	return TopicIDString(td.ID), nil
}

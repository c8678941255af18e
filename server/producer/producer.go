// Package producer is the Go producer of DashStream telemetry: what DashFlow's
// DashStreamCallback gives Rust graph runtimes, without its defects.
//
// A graph runtime creates one Producer per process and one Run per graph
// execution, and reports what happens: node start and end (with the state),
// progress and thinking, edges and branches, LLM token streams, tool calls,
// metrics, errors, and the run's end or failure. The Run turns each call into
// DashStream messages (protocol/pb) in the canonical order, fills their
// headers, and hands them to Kafka without ever blocking the caller.
//
// What it guarantees, where upstream did not (reference note §16):
//
//   - One sequence allocator and one ordered pipeline per run: every message
//     of a thread, from any goroutine, gets the next sequence from 1 and
//     reaches Kafka in sequence order (all go through the run's lock to the
//     client, with key = thread_id, one partition, idempotent writes).
//   - State is streamed as RFC 6902 patches (protocol/jsonpatch.Diff), with a
//     full state for the run's first update, when the patch would be over
//     1.1× the state, when consumers would refuse the patch, and after any
//     loss of one of the run's messages (drop, oversize, send failure), so
//     that no patch is ever based on a state the consumer may not have.
//     Every StateDiff carries state_hash = protocol/statehash of exactly the
//     state the consumer rebuilds, number literals included.
//   - Checkpoints (optional) carry uncompressed JSON and become the base of
//     later diffs only once Kafka has acknowledged them.
//   - Every user-content string (state values, attributes, token text,
//     thinking and progress text, tool arguments, results and errors, error
//     messages, metric tags) is redacted (server/redact) before hashing and
//     sending, unless redaction is disabled.
//   - Limits derive from one MaxMessageBytes and are checked on the assembled
//     message. An oversized GraphStart sheds graph_manifest, then
//     graph_schema_json, then initial_state_json, and is still sent.
//   - A bounded queue: a message that finds it full is dropped and counted
//     (dashstream_telemetry_dropped_total); failed sends are counted apart
//     (dashstream_telemetry_send_failures_total, M-713) and optionally
//     written to a DLQ; full states sent because the patch was larger are
//     information (dashstream_state_updates_total), not degradation.
//
// Delivery is at least once per message as far as Kafka's idempotent
// producer goes; nothing is retried by the application. Consumers dedupe on
// message_id.
package producer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Producer sends the runs of one process to one Kafka topic. It is safe for
// concurrent use; create it with New and stop it with Close.
type Producer struct {
	cfg     Config
	log     *slog.Logger
	m       *metrics
	sink    *sink
	cl      *kgo.Client
	owned   bool
	closed  atomic.Bool
	closing chan struct{}
}

// Option changes how New builds a Producer.
type Option func(*options)

type options struct {
	client     *kgo.Client
	registerer prometheus.Registerer
	logger     *slog.Logger
}

// WithClient makes the producer write through an existing client (an
// embedded broker's, a test's) instead of building one from the Config. The
// client's own settings then apply: build it with Config.KafkaOptions to get
// the producer's (acks=all, idempotence, CRC-32 partitioner, batch and
// buffer sizes). Close does not close a client given this way.
func WithClient(cl *kgo.Client) Option { return func(o *options) { o.client = cl } }

// WithRegisterer registers the producer's metrics on reg, typically the
// registry the process serves on /metrics. Without it the metrics are kept
// but not registered anywhere (Stats still reads them). Several producers
// may use the same registry; they share its collectors.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) { o.registerer = reg }
}

// WithLogger sets the logger (default slog.Default()). The producer never
// logs per message: drops and failures are logged at most once per 10 s with
// a count of what was not logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// New validates cfg (filling zero fields with defaults) and returns a
// producer. It does not wait for the brokers: an unreachable cluster shows up
// as failed sends, counted, never as a blocked caller.
func New(cfg Config, opts ...Option) (*Producer, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	m, err := newMetrics(o.registerer)
	if err != nil {
		return nil, err
	}
	p := &Producer{cfg: cfg, log: o.logger, m: m, cl: o.client, closing: make(chan struct{})}
	if p.cl == nil {
		kopts, err := cfg.KafkaOptions()
		if err != nil {
			return nil, err
		}
		if p.cl, err = kgo.NewClient(kopts...); err != nil {
			return nil, fmt.Errorf("producer: kafka client: %w", err)
		}
		p.owned = true
	}
	cl := p.cl
	p.sink = &sink{
		cl: cl, topic: cfg.Topic, m: m, log: o.logger,
		q: queue{cap: int64(cfg.QueueCapacity), maxBytes: int64(cfg.QueueMaxBytes), m: m},
		produce: func(rec *kgo.Record, promise func(*kgo.Record, error)) {
			cl.TryProduce(context.Background(), rec, promise)
		},
	}
	if cfg.DLQTopic != "" {
		p.sink.dlq = newDLQ(p.cl, cfg, m)
	}
	p.log.Info("dashstream producer started", "config", cfg)
	return p, nil
}

// Config returns the effective configuration (defaults filled in).
func (p *Producer) Config() Config { return p.cfg }

// Stats returns this producer's counters.
func (p *Producer) Stats() Stats {
	n, b := p.sink.q.len()
	m := p.m
	return Stats{
		Sent: m.nSent.Load(), SendFailures: m.nSendFailures.Load(), Dropped: m.nDropped.Load(),
		Degraded: m.nDegraded.Load(), Patches: m.nPatches.Load(), FullStates: m.nFull.Load(),
		DLQSent: m.nDLQSent.Load(), DLQFailed: m.nDLQFailed.Load(), DLQDropped: m.nDLQDropped.Load(),
		Queued: n, QueuedBytes: b,
	}
}

// Flush waits until every message handed to Kafka so far is acknowledged or
// failed, or until ctx is done (FlushTimeout when ctx has no deadline). After
// Close it returns ErrClosed.
func (p *Producer) Flush(ctx context.Context) error {
	if p.closed.Load() {
		return ErrClosed
	}
	return p.flush(ctx)
}

func (p *Producer) flush(ctx context.Context) error {
	ctx, cancel := p.bounded(ctx)
	defer cancel()
	if p.owned {
		// Stop lingering now rather than after the linger delay.
		if err := p.cl.Flush(ctx); err != nil {
			return p.flushErr(err)
		}
	}
	if err := p.sink.q.wait(ctx); err != nil {
		return p.flushErr(err)
	}
	return nil
}

func (p *Producer) flushErr(err error) error {
	n, _ := p.sink.q.len()
	return fmt.Errorf("producer: flush: %d messages still in flight: %w", n, err)
}

func (p *Producer) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || p.cfg.FlushTimeout == 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, p.cfg.FlushTimeout)
}

// Close stops the producer: later messages are dropped (reason "closed"),
// queued ones are flushed until ctx is done (FlushTimeout when ctx has no
// deadline), and then, if New built the client, what is still buffered is
// aborted and the client closed. Close returns by ctx's deadline; the error
// says how many messages were not delivered. Lost messages are counted as
// send failures with reason "closing", never silently.
func (p *Producer) Close(ctx context.Context) error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(p.closing)
	ctx, cancel := p.bounded(ctx)
	defer cancel()
	flushErr := p.flush(ctx)
	var errs []error
	if flushErr != nil {
		errs = append(errs, flushErr)
	}
	if p.sink.dlq != nil {
		if err := p.sink.dlq.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("producer: close dlq: %w", err))
		}
	}
	if p.owned {
		if flushErr != nil {
			// Fail what is left now: the promises count it. Give the abort
			// no more time than is left.
			_ = p.cl.AbortBufferedRecords(ctx)
		}
		p.closeClient(ctx)
	}
	n, _ := p.sink.q.len()
	if n > 0 {
		p.log.Warn("dashstream producer closed with undelivered messages", "undelivered", n)
	} else {
		p.log.Info("dashstream producer closed")
	}
	return errors.Join(errs...)
}

// closeClient closes the client, waiting at most until ctx is done: a
// client stuck on an unresponsive broker finishes closing in the background.
func (p *Producer) closeClient(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.cl.Close()
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

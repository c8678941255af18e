package replay

import (
	"context"
	"errors"
	"fmt"
	"github.com/dashstream/dashstream/server/internal/logthrottle"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// TieredConfig tunes a Tiered store. Zero fields take the defaults.
type TieredConfig struct {
	// QueueSize is how many records may wait for the durable store; when
	// the queue is full, further records are not written there (counted
	// as WriteDropped). Default 10,000. Keep it at most the front's record
	// bound, so that a record normally leaves the queue before it leaves
	// the front (otherwise a read below the front could find it in neither
	// for a moment).
	QueueSize int
	// QueueBytes bounds the value bytes not yet written (queued, or in the
	// batch being written), which stay alive while Redis is down. Default
	// 64 MiB.
	QueueBytes int64
	// BatchSize is the most records written in one round trip. Default 500.
	BatchSize int
	// WriteTimeout bounds one batch write or health probe. Default 2 s.
	WriteTimeout time.Duration
	// ReadTimeout bounds one durable read, within the caller's ctx.
	// Default 2 s.
	ReadTimeout time.Duration
	// RetryBackoff is the first wait before retrying a batch after the
	// durable store was unreachable; it doubles up to MaxBackoff. Default
	// 100 ms.
	RetryBackoff time.Duration
	// MaxBackoff caps the retry wait and is the interval of health probes
	// while the durable store is unreachable. Default 2 s.
	MaxBackoff time.Duration
	// Logger receives state changes (never one line per record); nil
	// means slog.Default().
	Logger *slog.Logger
	// Observe, when set, receives the duration of every durable operation
	// ("read" or "write"), e.g. for upstream's histogram
	// dashstream_websocket_redis_latency_ms{operation}. It must be cheap
	// and safe for concurrent use.
	Observe func(operation string, d time.Duration)
}

func (c TieredConfig) withDefaults() (TieredConfig, error) {
	def := func(v *time.Duration, d time.Duration, name string) error {
		if *v == 0 {
			*v = d
		}
		if *v < 0 {
			return fmt.Errorf("replay tiered: %s %v is negative", name, *v)
		}
		return nil
	}
	if c.QueueSize == 0 {
		c.QueueSize = 10_000
	}
	if c.BatchSize == 0 {
		c.BatchSize = 500
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = 64 << 20
	}
	if c.QueueSize < 1 || c.BatchSize < 1 || c.QueueBytes < 1 {
		return c, fmt.Errorf("replay tiered: QueueSize %d, QueueBytes %d and BatchSize %d must be positive", c.QueueSize, c.QueueBytes, c.BatchSize)
	}
	for _, d := range []struct {
		v    *time.Duration
		def  time.Duration
		name string
	}{
		{&c.WriteTimeout, 2 * time.Second, "WriteTimeout"},
		{&c.ReadTimeout, 2 * time.Second, "ReadTimeout"},
		{&c.RetryBackoff, 100 * time.Millisecond, "RetryBackoff"},
		{&c.MaxBackoff, 2 * time.Second, "MaxBackoff"},
	} {
		if err := def(d.v, d.def, d.name); err != nil {
			return c, err
		}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Tiered is a Store made of a memory front (the ring) and a durable store
// (Redis):
//
//   - Append writes the front synchronously and hands the record to a
//     bounded queue that one writer goroutine drains in batches into the
//     durable store. Append never waits for the durable store: when the
//     queue is full the record is not written there, and counted.
//   - The front holds a per-partition suffix of what was appended (see
//     Front), so a partition read whose cursor lies inside the front's
//     range is answered from memory alone. An older cursor reads the
//     durable store below the front's oldest offset first, then the front:
//     nothing is skipped and nothing is returned twice.
//   - When the durable store fails, reads return what the front holds with
//     an error wrapping ErrUnavailable (the caller fills the hole from
//     Kafka or reports it), and while it stays unreachable reads do not
//     wait for it. The writer keeps retrying its batch and probing, so
//     writes resume and Health turns ok by themselves when it returns.
//
// Tiered owns its writer goroutine, which Close stops; it owns neither
// store.
type Tiered struct {
	front   Front
	durable Durable
	cfg     TieredConfig
	log     *slog.Logger
	errLog  *logthrottle.Throttle // repeated write errors: one line a minute, then counts

	queue    chan writeItem
	stopping chan struct{} // closed by Close: drain, then exit
	done     chan struct{} // closed when the writer has exited
	abort    context.Context
	cancel   context.CancelFunc // ends in-flight writes when Close's ctx ends
	closing  sync.Once
	closed   atomic.Bool

	// writing is a mutex the writer holds during each durable write and
	// Clear takes (with a ctx, hence a channel), so a batch queued before a
	// Clear is never written after it.
	writing chan struct{}
	// gen is bumped by Clear; queued records of an older generation are
	// discarded instead of written.
	gen atomic.Uint64
	// queuedBytes is the value bytes not yet written: queued, or in the
	// batch the writer holds.
	queuedBytes atomic.Int64

	health healthState
	c      tieredCounters
}

// NewTiered starts a Tiered store and its writer.
func NewTiered(front Front, durable Durable, cfg TieredConfig) (*Tiered, error) {
	if front == nil || durable == nil {
		return nil, errors.New("replay tiered: a front and a durable store are both required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	abort, cancel := context.WithCancel(context.Background())
	t := &Tiered{
		front:    front,
		durable:  durable,
		cfg:      cfg,
		log:      cfg.Logger.With("component", "replay.tiered"),
		errLog:   logthrottle.New(cfg.Logger.With("component", "replay.tiered"), slog.LevelError, time.Minute),
		queue:    make(chan writeItem, cfg.QueueSize),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
		abort:    abort,
		cancel:   cancel,
		writing:  make(chan struct{}, 1),
	}
	t.health.init(t.log)
	go t.run()
	return t, nil
}

// Append stores rec in the front and queues it for the durable store. It
// fails only for a cancelled ctx or an invalid record; it never blocks.
func (t *Tiered) Append(ctx context.Context, rec Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("replay tiered: append: %w", err)
	}
	if !t.front.AppendFront(rec) {
		t.c.frontSkipped.Add(1)
	}
	t.enqueue(rec)
	return nil
}

// ReadPartition implements Store; see Tiered for the tiers' roles. On a
// durable failure the records returned are the front's (all above the
// hole) and the error wraps ErrUnavailable.
func (t *Tiered) ReadPartition(ctx context.Context, p int32, after int64, limit int) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	recs, oldest, held := t.front.ReadPartitionFront(p, after, limit)
	if held && after >= oldest-1 {
		// The cursor is inside the front's range, which is complete.
		t.c.memoryHits.Add(1)
		return recs, nil
	}
	if err := t.usable(); err != nil {
		return recs, fmt.Errorf("replay tiered: read partition %d after offset %d: %w", p, after, err)
	}
	rctx, cancel := context.WithTimeout(ctx, t.cfg.ReadTimeout)
	defer cancel()
	var older []Record
	var err error
	start := time.Now()
	if held {
		older, err = t.durable.ReadPartitionBefore(rctx, p, after, oldest, limit)
	} else {
		older, err = t.durable.ReadPartition(rctx, p, after, limit)
	}
	t.observe("read", start)
	if err != nil {
		return recs, t.durableFailed(ctx, fmt.Sprintf("read partition %d", p), err)
	}
	t.countDurableRead(len(older))
	if len(older) >= limit {
		return older[:limit], nil
	}
	if len(recs) > 0 {
		t.c.memoryHits.Add(1)
	}
	return append(older, recs[:min(len(recs), limit-len(older))]...), nil
}

// ReadThread implements Store. A thread's records can span partitions and
// need not follow offset order, so the front cannot prove it holds a
// thread's range completely: both tiers are read and their pages merged by
// sequence (the first limit of each tier contain the first limit of their
// union, so paging stays exact), the front winning duplicates. On a durable
// failure the front's records come with an error wrapping ErrUnavailable.
func (t *Tiered) ReadThread(ctx context.Context, thread string, after uint64, limit int) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	recs, err := t.front.ReadThread(ctx, thread, after, limit)
	if err != nil {
		return nil, fmt.Errorf("replay tiered: read thread from memory: %w", err)
	}
	if len(recs) > 0 {
		t.c.memoryHits.Add(1)
	}
	if err := t.usable(); err != nil {
		return recs, fmt.Errorf("replay tiered: read thread: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, t.cfg.ReadTimeout)
	defer cancel()
	start := time.Now()
	durable, err := t.durable.ReadThread(rctx, thread, after, limit)
	t.observe("read", start)
	if err != nil {
		return recs, t.durableFailed(ctx, "read thread", err)
	}
	t.countDurableRead(len(durable))
	return mergeBySeq(recs, durable, limit), nil
}

// mergeBySeq merges two pages sorted by their single thread sequence,
// keeping a's record when both hold a sequence, up to limit records.
func mergeBySeq(a, b []Record, limit int) []Record {
	if len(b) == 0 {
		return a[:min(len(a), limit)]
	}
	out := make([]Record, 0, min(limit, len(a)+len(b)))
	i, j := 0, 0
	for len(out) < limit && (i < len(a) || j < len(b)) {
		switch {
		case j == len(b) || i < len(a) && a[i].Threads[0].Seq < b[j].Threads[0].Seq:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].Threads[0].Seq < a[i].Threads[0].Seq:
			out = append(out, b[j])
			j++
		default: // the same sequence in both tiers
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// Bounds implements Store: the widest range of the two tiers. On a durable
// failure the front's bounds come with an error wrapping ErrUnavailable.
func (t *Tiered) Bounds(ctx context.Context, p int32) (oldest, newest int64, ok bool, err error) {
	oldest, newest, ok, err = t.front.Bounds(ctx, p)
	if err != nil {
		return 0, 0, false, fmt.Errorf("replay tiered: bounds from memory: %w", err)
	}
	if err := t.usable(); err != nil {
		return oldest, newest, ok, fmt.Errorf("replay tiered: bounds of partition %d: %w", p, err)
	}
	rctx, cancel := context.WithTimeout(ctx, t.cfg.ReadTimeout)
	defer cancel()
	do, dn, dok, err := t.durable.Bounds(rctx, p)
	if err != nil {
		return oldest, newest, ok, t.durableFailed(ctx, fmt.Sprintf("bounds of partition %d", p), err)
	}
	switch {
	case !dok:
	case !ok:
		oldest, newest, ok = do, dn, true
	default:
		oldest, newest = min(oldest, do), max(newest, dn)
	}
	return oldest, newest, ok, nil
}

// Partitions implements Store: the union of both tiers. On a durable
// failure the front's partitions come with an error wrapping
// ErrUnavailable.
func (t *Tiered) Partitions(ctx context.Context) ([]int32, error) {
	ps, err := t.front.Partitions(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay tiered: partitions from memory: %w", err)
	}
	if err := t.usable(); err != nil {
		return ps, fmt.Errorf("replay tiered: partitions: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, t.cfg.ReadTimeout)
	defer cancel()
	dps, err := t.durable.Partitions(rctx)
	if err != nil {
		return ps, t.durableFailed(ctx, "partitions", err)
	}
	ps = append(ps, dps...)
	slices.Sort(ps)
	return slices.Compact(ps), nil
}

// Clear empties both tiers and discards the records still queued for the
// durable store (they would otherwise reappear after the clear). It
// returns the front's entries plus the durable store's keys deleted. It
// tries the durable store even while it is marked unreachable.
func (t *Tiered) Clear(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	select {
	case t.writing <- struct{}{}:
	case <-ctx.Done():
		return 0, fmt.Errorf("replay tiered: clear: waiting for the write in flight: %w", ctx.Err())
	}
	defer func() { <-t.writing }()
	t.gen.Add(1)
	n, err := t.front.Clear(ctx)
	if err != nil {
		return n, fmt.Errorf("replay tiered: clear memory: %w", err)
	}
	dn, err := t.durable.Clear(ctx)
	n += dn
	if err != nil {
		return n, t.durableFailed(ctx, "clear", err)
	}
	t.health.succeeded()
	return n, nil
}

// usable fails fast while the durable store is known to be unreachable, so
// reads answer from memory at once instead of waiting for timeouts; the
// writer's retries and probes detect the recovery.
func (t *Tiered) usable() error {
	if h := t.health.snapshot(); !h.DurableOK {
		t.c.durableErrors.Add(1)
		return fmt.Errorf("%w: durable store unreachable since %s: %s", ErrUnavailable, h.Since.Format(time.RFC3339), h.LastError)
	}
	return nil
}

// durableFailed counts and wraps a durable error; unreachability marks the
// store degraded unless the caller's own ctx ended (its deadline says
// nothing about Redis).
func (t *Tiered) durableFailed(ctx context.Context, op string, err error) error {
	t.c.durableErrors.Add(1)
	if errors.Is(err, ErrUnavailable) && ctx.Err() == nil {
		t.health.failed(err)
	}
	return fmt.Errorf("replay tiered: %s: %w", op, err)
}

func (t *Tiered) observe(op string, start time.Time) {
	if t.cfg.Observe != nil {
		t.cfg.Observe(op, time.Since(start))
	}
}

func (t *Tiered) countDurableRead(n int) {
	t.health.succeeded()
	if n > 0 {
		t.c.durableHits.Add(1)
	} else {
		t.c.durableMisses.Add(1)
	}
}

var _ Store = (*Tiered)(nil)

package producer

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// queue bounds the records handed to the Kafka client and not yet settled
// (acknowledged or failed), in number and bytes. reserve never waits: a full
// queue is the caller's cue to drop and count. It is the producer's only
// buffer: the client's own limits are set above it.
type queue struct {
	mu            sync.Mutex
	n, bytes      int64
	cap, maxBytes int64
	// idle is made by a waiter while n > 0 and closed when n drops to 0.
	idle chan struct{}
	m    *metrics
}

func (q *queue) reserve(size int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n >= q.cap || q.bytes+int64(size) > q.maxBytes {
		return false
	}
	q.n++
	q.bytes += int64(size)
	q.m.queueDepth.Inc()
	q.m.queueBytes.Add(float64(size))
	return true
}

func (q *queue) release(size int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.n--
	q.bytes -= int64(size)
	q.m.queueDepth.Dec()
	q.m.queueBytes.Sub(float64(size))
	if q.n == 0 && q.idle != nil {
		close(q.idle)
		q.idle = nil
	}
}

func (q *queue) len() (n, bytes int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n, q.bytes
}

// wait returns when the queue is empty or ctx is done.
func (q *queue) wait(ctx context.Context) error {
	q.mu.Lock()
	if q.n == 0 {
		q.mu.Unlock()
		return nil
	}
	if q.idle == nil {
		q.idle = make(chan struct{})
	}
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// delivery is what the promise of one record needs to settle it.
type delivery struct {
	run     *Run
	msgType string
	size    int
	// checkpointID is adopted by the run as its base once Kafka has
	// acknowledged the checkpoint, never before (§16.3).
	checkpointID []byte
}

// sink hands encoded messages to Kafka asynchronously (TryProduce never
// blocks) and settles each in its promise: metrics, the run's loss flag,
// checkpoint adoption, the DLQ.
type sink struct {
	cl *kgo.Client
	// produce is cl.TryProduce; the state-stream fuzz test replaces it to
	// run without a broker.
	produce func(*kgo.Record, func(*kgo.Record, error))
	topic   string
	q       queue
	m       *metrics
	dlq     *dlq
	log     *slog.Logger

	dropLog, failLog throttle
}

// send hands one record to the client. It returns the drop reason when the
// record was not handed over ("" when it was). Records of one run are sent
// under the run's lock, so the client receives them in sequence order, and
// with one key per run they share a partition, whose order the idempotent
// client keeps.
func (s *sink) send(key, value []byte, d delivery) string {
	d.size = len(value) + len(key)
	if !s.q.reserve(d.size) {
		return dropQueueFull
	}
	rec := &kgo.Record{Key: key, Value: value, Topic: s.topic}
	s.produce(rec, func(r *kgo.Record, err error) { s.settle(r, err, d) })
	return ""
}

// settle runs in the client's promise goroutine, serially, so it must not
// block: everything here is a counter, an atomic or a non-blocking offer.
func (s *sink) settle(r *kgo.Record, err error, d delivery) {
	s.q.release(d.size)
	if err == nil {
		s.m.sent.Inc()
		s.m.nSent.Add(1)
		if d.checkpointID != nil {
			d.run.adoptCheckpoint(d.checkpointID)
		}
		return
	}
	d.run.noteAsyncLoss()
	class := ErrorClass(err)
	if class == ErrClassBufferFull {
		// Only reachable if the client's buffer is shared with other
		// producers: it is still a local drop, not a send failure.
		s.m.drop(d.msgType, dropQueueFull)
		s.noteDrop(d.msgType, dropQueueFull)
		return
	}
	s.m.sendFailed(d.msgType, class)
	if ok, suppressed := s.failLog.allow(); ok {
		s.log.Warn("telemetry send failed", "message_type", d.msgType, "class", class, "err", err,
			"thread_id", d.run.threadID, "similar_failures_not_logged", suppressed)
	}
	if s.dlq != nil && class != ErrClassClosing {
		s.dlq.offer(r.Value, err, d.run.threadID, d.run.tenantID)
	}
}

func (s *sink) noteDrop(msgType, reason string) {
	if ok, suppressed := s.dropLog.allow(); ok {
		n, b := s.q.len()
		s.log.Warn("telemetry dropped", "message_type", msgType, "reason", reason,
			"queued", n, "queued_bytes", b, "similar_drops_not_logged", suppressed)
	}
}

// throttle lets one log line through per interval and counts the rest, so a
// storm of drops never turns into a storm of log lines (upstream M-980).
type throttle struct {
	last       atomic.Int64
	suppressed atomic.Int64
}

const logInterval = 10 * time.Second

func (t *throttle) allow() (bool, int64) {
	now := time.Now().UnixNano()
	last := t.last.Load()
	if (last == 0 || now-last >= int64(logInterval)) && t.last.CompareAndSwap(last, now) {
		return true, t.suppressed.Swap(0)
	}
	t.suppressed.Add(1)
	return false, 0
}

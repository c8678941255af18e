package hub

import (
	"context"
	"errors"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/replay"
)

// replayBudget enforces REPLAY_MAX_TOTAL per record (upstream checked it per
// page and overshot).
type replayBudget struct {
	max, total int
	capped     bool
	// resumeAt is the offset of the first record a capped partition replay
	// did not send: where its continuation starts.
	resumeAt int64
}

func (b *replayBudget) take() bool {
	if b.total >= b.max {
		b.capped = true
		return false
	}
	b.total++
	return true
}

var errCapped = errors.New("replay budget exhausted")

// resume answers a resume request within REPLAY_TIMEOUT.
func (c *conn) resume(r *control.Resume) error {
	began := time.Now()
	ctx, cancel := context.WithTimeout(c.ctx, c.h.cfg.ReplayTimeout)
	defer cancel()
	var err error
	if r.Mode == control.ModePartition {
		err = c.resumePartitions(ctx, r)
	} else {
		err = c.resumeThreads(ctx, r)
	}
	c.h.m.ReplayLatency.WithLabelValues(r.Mode).Observe(float64(time.Since(began)) / float64(time.Millisecond))
	return c.replayEnded(ctx, err)
}

// replayEnded turns a replay that ran out of REPLAY_TIMEOUT into the
// upstream error and a close, and one that stopped because the connection
// must end into that ending; other outcomes pass through.
func (c *conn) replayEnded(ctx context.Context, err error) error {
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && c.ctx.Err() == nil:
		c.requestClose(control.ReplayTimeoutError(), websocket.StatusPolicyViolation, "replay timed out")
		return c.finish()
	case errors.Is(err, errClosing) && c.ctx.Err() == nil:
		return c.finish()
	}
	return err
}

// replayStep is one partition's part of a partition replay: from start (-1:
// the store's oldest), re-sending what the connection already has when
// resend is set (an explicit cursor is honoured even below what this
// connection was sent: the client may have lost it).
type replayStep struct {
	p      int32
	start  int64
	resend bool
}

// resumePartitions is partition mode (upstream §4.2 with its defects fixed).
// Partitions a capped burst did not finish are left to the connection's
// backlog, which the writer goes on replaying by itself (see backlog.go).
func (c *conn) resumePartitions(ctx context.Context, r *control.Resume) error {
	c.h.m.ResumeRequests.WithLabelValues(control.ModePartition).Inc()
	c.endBacklog() // a new resume is served by itself alone
	c.blocked = map[int32]bool{}
	partitions, unknown := c.partitionsFor(ctx, r.LastOffsetsByPartition)
	c.spend(requestCost + len(r.LastOffsetsByPartition))
	if len(unknown) > 0 {
		c.h.m.ResumeUnknownPartitions.Inc()
		c.warnOnce(warnUnknownPartitions, "resume named partitions the topic does not have; answered with an error",
			"ip", c.ip, "count", len(unknown), "first", unknown[0])
		if err := c.writeText(control.UnknownPartitionsError(unknown)); err != nil {
			return err
		}
	}

	if r.From == control.FromLatest {
		latest := map[int32]int64{}
		for _, p := range partitions {
			if _, newest, ok, _ := c.h.store.Bounds(ctx, p); ok {
				latest[p] = newest
				// Live records queued since connect that are not newer than
				// "latest" are not sent: the client asked for what follows.
				c.sent[p] = max(c.sent[p], newest)
			}
		}
		return c.writeText(&control.ReplayComplete{LastOffsetsByPartition: latest, Mode: control.FromLatest, Live: true})
	}

	plan, err := c.planPartitions(ctx, r, partitions)
	if err != nil {
		return err
	}
	budget := &replayBudget{max: c.burst(c.h.cfg.ReplayMaxTotal)}
	replayed := map[int32]int64{}
	for i, st := range plan {
		if err := c.replayPartition(ctx, st.p, st.start, st.resend, budget, replayed); err != nil {
			return err
		}
		if budget.capped {
			rest := append([]replayStep{{p: st.p, start: budget.resumeAt, resend: st.resend}}, plan[i+1:]...)
			c.startBacklog(r.From, rest, int64(budget.total), replayed)
			break
		}
	}
	c.spend(budget.total)
	done := &control.ReplayComplete{
		TotalReplayed:          int64(budget.total),
		LastOffsetsByPartition: replayed,
		Capped:                 budget.capped,
		Continuing:             budget.capped,
		Live:                   !budget.capped,
		Mode:                   r.From,
	}
	if budget.capped {
		done.Reason = "this burst stopped at the replay limit (REPLAY_MAX_TOTAL or the connection's replay rate); " +
			"the server sends the rest by itself, at the pace the client reads, then replay_complete with live=true"
	}
	c.h.m.ReplayMessages.WithLabelValues(control.ModePartition).Add(float64(budget.total))
	return c.writeText(done)
}

// partitionsFor returns the partitions a partition resume covers, sorted:
// every partition the replay store knows, every partition of the topic,
// and those of the client's map that exist. A partition of the map that
// exists nowhere is returned in unknown (sorted) and costs no request to
// Kafka. Until the topic's partitions are known (no Config.Partitions, or
// the source is not assigned yet) every partition of the map is taken, as
// upstream, so a client reconnecting to a restarting gateway is still
// served from Kafka.
func (c *conn) partitionsFor(ctx context.Context, offsets map[int32]int64) (partitions, unknown []int32) {
	known, err := c.h.store.Partitions(ctx)
	if err != nil && len(known) == 0 {
		c.warnOnce(warnStore, "replay store partitions unavailable", "err", err)
	}
	set := map[int32]bool{}
	for _, p := range known {
		set[p] = true
	}
	var topic []int32
	if c.h.cfg.Partitions != nil {
		topic = c.h.cfg.Partitions()
	}
	for _, p := range topic {
		set[p] = true
	}
	for p := range offsets {
		switch {
		case set[p]:
		case len(topic) == 0:
			set[p] = true
		default:
			unknown = append(unknown, p)
		}
	}
	slices.Sort(unknown)
	return slices.Sorted(maps.Keys(set)), unknown
}

// planPartitions decides where each partition's replay starts. With "from":
// "cursor", a cursor the log cannot hold (past the partition's end, or
// stored under another resume_namespace) is answered with cursor_stale
// before anything is replayed, and its partition replays from the oldest
// record retained, as if the client never had it.
func (c *conn) planPartitions(ctx context.Context, r *control.Resume, partitions []int32) ([]replayStep, error) {
	otherNamespace := r.Namespace != "" && c.h.cfg.Namespace != "" && r.Namespace != c.h.cfg.Namespace
	plan := make([]replayStep, 0, len(partitions))
	for _, p := range partitions {
		cur, has := r.LastOffsetsByPartition[p]
		if !has || r.From != control.FromCursor {
			// Earliest, or a partition the client does not know: the
			// store's oldest when the replay reaches it, and never anything
			// this connection was sent.
			plan = append(plan, replayStep{p: p, start: -1})
			continue
		}
		oldest, newest, ok, err := c.h.store.Bounds(ctx, p)
		if err != nil && !ok {
			c.warnOnce(warnStore, "replay store bounds unavailable", "partition", p, "err", err)
		}
		var stale func(p int32, requested, oldest int64) *control.CursorStale
		switch {
		case otherNamespace:
			stale = control.CursorOtherNamespace
		case c.pastEnd(ctx, p, cur, newest, ok):
			stale = control.CursorPastEnd
		}
		if stale == nil {
			// The client has everything up to its cursor: never send it
			// anything older on this partition, live or replayed.
			if prev, seen := c.sent[p]; !seen || prev < cur {
				c.sent[p] = cur
			}
			plan = append(plan, replayStep{p: p, start: cur + 1, resend: true})
			continue
		}
		c.h.m.CursorStale.Inc()
		// The notice names where the partition restarts, so a capped
		// replay's continuation reaching it later starts there too and
		// reports whatever was evicted meanwhile.
		from := int64(-1)
		if ok {
			from = oldest
		} else {
			oldest = 0
		}
		if err := c.writeText(stale(p, cur, oldest)); err != nil {
			return nil, err
		}
		plan = append(plan, replayStep{p: p, start: from, resend: true})
	}
	return plan, nil
}

// pastEnd reports whether cursor cur names no record of partition p: it is
// at or beyond the partition's high watermark, which only grows, so a record
// arriving meanwhile cannot make a valid cursor look stale. The store is
// asked first (a cursor it holds is valid); Kafka only for a cursor ahead of
// the store. When neither can tell (Kafka unreachable, nothing stored) the
// cursor is trusted.
func (c *conn) pastEnd(ctx context.Context, p int32, cur, storeNewest int64, stored bool) bool {
	if stored && cur <= storeNewest {
		return false
	}
	if c.h.deep == nil {
		return stored // the store is the whole log
	}
	_, high, err := c.h.deep.Bounds(ctx, p)
	if err != nil {
		c.warnOnce(warnDeep, "cannot check a resume cursor against Kafka", "partition", p, "err", err)
		return false
	}
	return cur >= high
}

// replayPartition sends partition p from offset start (-1: the store's
// oldest) up to the store's newest offset when it began; newer records come
// live. The part older than the store is read from Kafka (deep replay); holes
// inside the store are filled from Kafka or reported as gaps with their exact
// range. Unless resend, records this connection was already sent are
// skipped. What it sends is recorded in replayed (when not nil).
func (c *conn) replayPartition(ctx context.Context, p int32, start int64, resend bool, budget *replayBudget, replayed map[int32]int64) error {
	send := func(rec replay.Record) error {
		if c.quitting() {
			return errClosing
		}
		if last, ok := c.sent[rec.Partition]; ok && rec.Offset <= last && !resend {
			return nil
		}
		if !budget.take() {
			budget.resumeAt = rec.Offset
			return errCapped
		}
		if err := c.writePair(rec); err != nil {
			return err
		}
		c.sent[p] = max(c.sent[p], rec.Offset)
		if replayed != nil {
			replayed[p] = max(replayed[p], rec.Offset)
		}
		return nil
	}

	oldest, newest, ok, err := c.h.store.Bounds(ctx, p)
	if err != nil && !ok {
		c.warnOnce(warnStore, "replay store bounds unavailable", "partition", p, "err", err)
	}
	if start < 0 {
		if !ok {
			return nil
		}
		start = oldest
	}
	pos := start
	if !ok || start < oldest {
		upper := int64(math.MaxInt64) // nothing in the store: read Kafka to its end
		if ok {
			upper = oldest - 1
		}
		next, err := c.fill(ctx, p, pos, upper, true, send)
		if err != nil {
			return ignoreCap(err)
		}
		if !ok {
			return nil
		}
		pos = max(next, oldest)
	}
	pages := c.h.newPager()
	for pos <= newest {
		recs, rerr := c.h.store.ReadPartition(ctx, p, pos-1, pages.limit)
		pages.observe(recs)
		if rerr != nil && !errors.Is(rerr, replay.ErrUnavailable) {
			return rerr
		}
		for _, rec := range recs {
			if rec.Offset > newest {
				break
			}
			if rec.Offset > pos {
				next, err := c.fill(ctx, p, pos, rec.Offset-1, false, send)
				if err != nil {
					return ignoreCap(err)
				}
				pos = next
			}
			if err := send(rec); err != nil {
				return ignoreCap(err)
			}
			pos = rec.Offset + 1
		}
		if len(recs) == 0 || rerr != nil {
			// The store has nothing more (evicted meanwhile, or its durable
			// part is unreachable): the rest comes from Kafka or is a gap.
			if pos <= newest {
				if _, err := c.fill(ctx, p, pos, newest, false, send); err != nil {
					return ignoreCap(err)
				}
			}
			break
		}
	}
	return nil
}

func ignoreCap(err error) error {
	if errors.Is(err, errCapped) {
		return nil
	}
	return err
}

// fill covers offsets [from, to] of p that the store does not hold: offsets
// the source skipped are no loss; otherwise Kafka is asked (deep replay), and
// what Kafka no longer holds is reported: cursor_stale for the range in
// front of the store (leading), a gap for a hole inside it. Without Kafka the
// range is reported the same way, with its exact bounds. It returns the next
// offset to read.
func (c *conn) fill(ctx context.Context, p int32, from, to int64, leading bool, send func(replay.Record) error) (int64, error) {
	if to < from {
		return from, nil
	}
	if c.h.skips != nil && c.h.skips.KnownSkipped(p, from, to) {
		return to + 1, nil
	}
	if c.h.deep == nil {
		if to == math.MaxInt64 {
			return from, nil // nothing known about the partition at all
		}
		return to + 1, c.reportMissing(p, from, to, from, leading)
	}
	// What Kafka no longer holds is reported first, so the client hears of
	// a hole before the records after it (upstream order).
	logStart, _, err := c.h.deep.Bounds(ctx, p)
	if err != nil {
		return c.unavailable(ctx, p, from, to, err)
	}
	pos := from
	if from < logStart {
		gone := min(to, logStart-1)
		if err := c.reportMissing(p, from, gone, logStart, leading); err != nil {
			return to + 1, err
		}
		if gone == to {
			return to + 1, nil
		}
		pos = logStart
	}
	_, err = c.h.deep.Range(ctx, p, pos, to, func(rec replay.Record) error {
		if err := send(rec); err != nil {
			return err
		}
		c.h.m.DeepReplayRecords.Inc()
		pos = rec.Offset + 1
		return nil
	})
	switch {
	case errors.Is(err, errCapped) || errors.Is(err, errClosing):
		return pos, err
	case err != nil && ctx.Err() != nil:
		return pos, err
	case err != nil:
		return c.unavailable(ctx, p, pos, to, err)
	}
	if to == math.MaxInt64 {
		return pos, nil
	}
	return to + 1, nil
}

// unavailable reports a range Kafka could not be asked about. It may hold
// data that cannot be served now, so it is a gap (with its exact range),
// never cursor_stale, which promises the data is gone.
func (c *conn) unavailable(ctx context.Context, p int32, from, to int64, err error) (int64, error) {
	if ctx.Err() != nil {
		return from, err
	}
	c.warnOnce(warnDeep, "deep replay unavailable", "partition", p, "from", from, "to", to, "err", err)
	if to == math.MaxInt64 {
		return from, nil
	}
	return to + 1, c.reportMissing(p, from, to, from, false)
}

// reportMissing tells the client that [from, to] of p cannot be replayed:
// cursor_stale when the hole is in front of everything retained (the data is
// gone), a gap with the exact range otherwise.
func (c *conn) reportMissing(p int32, from, to, oldest int64, leading bool) error {
	if leading && from > 0 { // from 0 there is no cursor to call stale: a gap
		c.h.m.CursorStale.Inc()
		return c.writeText(control.StaleCursor(p, from-1, max(oldest, to+1)))
	}
	c.h.m.ReplayGaps.WithLabelValues(control.ModePartition).Inc()
	c.h.m.ReplayGapMessages.WithLabelValues(control.ModePartition).Add(float64(to - from + 1))
	return c.writeText(control.PartitionGap(p, from, to))
}

// resumeThreads is the legacy thread mode: every requested thread's records
// after its sequence, in sequence order, each record at most once, holes
// reported per thread with their sequence range, always ending with
// replay_complete (upstream sent nothing for an empty request). Replayed
// records may be older than what the connection already got live; they do
// not move its live position.
func (c *conn) resumeThreads(ctx context.Context, r *control.Resume) error {
	c.h.m.ResumeRequests.WithLabelValues(control.ModeThread).Inc()
	cursors := r.ThreadCursors()
	budget := &replayBudget{max: c.burst(c.h.cfg.ReplayMaxTotal)}
	defer func() { c.spend(requestCost + len(cursors) + budget.total) }()
	seen := map[[2]int64]bool{}
	for _, th := range slices.Sorted(maps.Keys(cursors)) {
		tid := replay.NormalizeThreadID(th)
		if tid == "" {
			continue
		}
		if err := c.replayThread(ctx, tid, cursors[th], budget, seen); err != nil {
			return ignoreCap(err)
		}
		if budget.capped {
			break
		}
	}
	c.h.m.ReplayMessages.WithLabelValues(control.ModeThread).Add(float64(budget.total))
	done := &control.ReplayComplete{TotalReplayed: int64(budget.total), Mode: control.ModeThread, Capped: budget.capped}
	if budget.capped {
		done.Reason = "replay limit reached (REPLAY_MAX_TOTAL or the connection's replay rate): resume the threads again from their last sequences to continue"
	}
	return c.writeText(done)
}

func (c *conn) replayThread(ctx context.Context, tid string, after uint64, budget *replayBudget, seen map[[2]int64]bool) error {
	want := after + 1
	pages := c.h.newPager()
	for {
		recs, err := c.h.store.ReadThread(ctx, tid, after, pages.limit)
		full := len(recs) == pages.limit
		pages.observe(recs)
		if err != nil && !errors.Is(err, replay.ErrUnavailable) {
			return err
		}
		for _, rec := range recs {
			seq := threadSeq(rec, tid)
			if seq > want {
				// An EventBatch is indexed at its highest sequence: look
				// inside before calling the difference a gap.
				if low := lowestSeq(rec, tid); low > want {
					if err := c.threadGap(tid, want, low-1); err != nil {
						return err
					}
				}
			}
			key := [2]int64{int64(rec.Partition), rec.Offset}
			if !seen[key] {
				if c.quitting() {
					return errClosing
				}
				if !budget.take() {
					return errCapped
				}
				if err := c.writePair(rec); err != nil {
					return err
				}
				seen[key] = true
			}
			want = max(want, seq+1)
			after = seq
		}
		if !full || err != nil {
			return nil
		}
	}
}

func (c *conn) threadGap(tid string, from, to uint64) error {
	c.h.m.ReplayGaps.WithLabelValues(control.ModeThread).Inc()
	c.h.m.ReplayGapMessages.WithLabelValues(control.ModeThread).Add(float64(to - from + 1))
	return c.writeText(control.ThreadGap(tid, from, to))
}

func threadSeq(rec replay.Record, tid string) uint64 {
	for _, ts := range rec.Threads {
		if ts.Thread == tid {
			return ts.Seq
		}
	}
	return 0
}

// lowestSeq is the lowest sequence of thread tid inside rec: its own for an
// ordinary message, the smallest inner one for an EventBatch.
func lowestSeq(rec replay.Record, tid string) uint64 {
	seq := threadSeq(rec, tid)
	msg, err := protocol.Decode(rec.Value)
	if err != nil {
		return seq
	}
	for _, ev := range msg.GetEventBatch().GetEvents() {
		h := ev.GetHeader()
		if replay.NormalizeThreadID(h.GetThreadId()) == tid && h.GetSequence() > 0 {
			seq = min(seq, h.GetSequence())
		}
	}
	return seq
}

// cursorReset answers cursor_reset. It moves only this connection to the
// latest offsets; the shared replay store is cleared only for an admin
// (upstream cleared it for everyone, on any request).
func (c *conn) cursorReset(r *control.CursorReset) error {
	ctx, cancel := context.WithTimeout(c.ctx, c.h.cfg.ReplayTimeout)
	defer cancel()
	c.spend(requestCost)
	c.endBacklog()
	latest := map[int32]int64{}
	parts, _ := c.h.store.Partitions(ctx)
	for _, p := range parts {
		if _, newest, ok, _ := c.h.store.Bounds(ctx, p); ok {
			latest[p] = newest
		}
	}
	admin := c.admin || c.h.gate.IsAdmin(r.AdminToken)
	var cleared bool
	var keys int64
	if admin {
		n, err := c.h.store.Clear(ctx)
		if err != nil {
			return c.writeText(&control.Error{Code: control.CodeInvalidControl, Message: "replay store not cleared: " + err.Error()})
		}
		cleared, keys = true, n
		c.h.log.Info("replay store cleared by an admin cursor_reset", "ip", c.ip, "keys", n)
	}
	c.blocked = map[int32]bool{}
	for p, o := range latest {
		c.sent[p] = max(c.sent[p], o)
	}
	return c.writeText(control.NewCursorResetComplete(latest, cleared, keys))
}

// pager sizes replay-store reads: at most PageSize records, and about
// PageBytes of values, learned from the records read so far.
type pager struct {
	limit, max, bytes int
}

func (h *Hub) newPager() *pager {
	return &pager{limit: min(h.cfg.PageSize, 64), max: h.cfg.PageSize, bytes: h.cfg.PageBytes}
}

func (pg *pager) observe(recs []replay.Record) {
	if len(recs) == 0 {
		return
	}
	total := 0
	for _, r := range recs {
		total += len(r.Value)
	}
	avg := max(1, total/len(recs))
	pg.limit = min(pg.max, max(1, pg.bytes/avg))
}

package hub

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/metrics"
)

// offer queues a live record without blocking. When the client's queue is
// full the record is not lost: the connection switches to lagging, records
// where each partition's miss began, and the writer catches up from the
// replay store (which already holds the record).
func (c *conn) offer(rec liveRecord) {
	if !c.lagging.Load() && c.live.push(rec) {
		return
	}
	c.lagMu.Lock()
	if _, ok := c.lagFrom[rec.Partition]; !ok {
		c.lagFrom[rec.Partition] = rec.Offset
	}
	c.lagN++
	first := !c.lagging.Swap(true)
	c.lagMu.Unlock()
	c.h.dropped.Add(1)
	c.h.m.DroppedMessages.WithLabelValues("lagged_receiver").Inc()
	if first {
		c.live.signal() // wakes the writer, which catches up first
	}
}

// catchUp replays, from the store, what this connection missed live. First
// it sends what is still queued: those records precede the ones that were
// dropped (nothing is queued while lagging). Then the lagging flag is cleared
// before reading the store, so every later record is either in the store
// range read here or queued afterwards (and filtered by the sent offsets):
// none falls between. A client lagging past the threshold in the window is
// disconnected instead.
func (c *conn) catchUp() error {
	for {
		rec, ok := c.live.pop()
		if !ok {
			break
		}
		if err := c.forward(rec); err != nil {
			return err
		}
	}
	c.lagMu.Lock()
	from := c.lagFrom
	missed := c.lagN
	c.lagFrom = map[int32]int64{}
	c.lagN = 0
	c.lagging.Store(false)
	c.lagMu.Unlock()

	sev := metrics.Severity(missed)
	c.h.m.ClientLagEvents.WithLabelValues(sev).Inc()
	c.h.m.ClientLagMessages.WithLabelValues(sev).Add(float64(missed))
	if c.tooSlow(missed) {
		c.h.m.SlowClientDisconnects.Inc()
		window := int64(c.h.cfg.SlowClientWindow / time.Second)
		d := control.BackpressureDisconnect(c.windowLag, c.h.cfg.SlowClientThreshold, window)
		d.CumulativeLag = c.lifetimeLag
		c.requestClose(d, websocket.StatusPolicyViolation, "too slow: reconnect and resume")
		return c.finish()
	}
	c.h.m.CatchUps.Inc()

	ctx, cancel := context.WithTimeout(c.ctx, c.h.cfg.ReplayTimeout)
	defer cancel()
	budget := &replayBudget{max: c.h.cfg.ReplayMaxTotal}
	for _, p := range slices.Sorted(maps.Keys(from)) {
		start := from[p]
		if last, ok := c.sent[p]; ok {
			start = min(start, last+1)
		}
		if c.blocked[p] {
			continue // a capped replay left it unfinished; the client's next resume covers it
		}
		if err := c.replayPartition(ctx, p, start, false, budget, nil); err != nil {
			return err
		}
		if budget.capped {
			// Could not catch up within one replay's budget: the client is
			// far behind; let it reconnect and resume.
			c.requestClose(control.BackpressureDisconnect(missed, c.h.cfg.SlowClientThreshold, int64(c.h.cfg.SlowClientWindow/time.Second)),
				websocket.StatusPolicyViolation, "too far behind: reconnect and resume")
			return c.finish()
		}
	}
	return nil
}

// tooSlow adds missed records to the slow-client window (reset when it has
// expired; lifetime when the window is 0) and reports whether the threshold
// is reached. Lag is counted per connection, so the threshold does not depend
// on how many clients there are (M-1026/M-1027).
func (c *conn) tooSlow(missed int64) bool {
	c.lifetimeLag += missed
	if w := c.h.cfg.SlowClientWindow; w > 0 && time.Since(c.windowStart) > w {
		c.windowStart = time.Now()
		c.windowLag = 0
	}
	c.windowLag += missed
	return c.h.cfg.SlowClientThreshold > 0 && c.windowLag >= c.h.cfg.SlowClientThreshold
}

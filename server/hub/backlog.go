package hub

import (
	"context"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/dashstream/dashstream/protocol/control"
)

// requestCost is what a request takes from its connection's replay
// allowance besides the records it sends: its fixed work (partition lists,
// store bounds), counted as that many records. It is also the least a
// connection must hold before a request or a replay page starts, so a
// client looping requests is held to ReplayRate/requestCost of them a
// second.
const requestCost = 100

// warnKind names a warning logged at most once per connection.
type warnKind uint8

const (
	warnStore warnKind = 1 << iota
	warnDeep
	warnUnknownPartitions
)

// replayState is a connection's replay bookkeeping; its writer owns it.
type replayState struct {
	allowance *rate.Limiter   // created on first use; nil when ReplayRate is 0
	waitTimer *time.Timer     // fires when the allowance covers the next work
	waiting   control.Message // a request waiting for the allowance
	backlog   *backlog        // what a capped partition replay left to send
	warned    warnKind
}

// backlog is the rest of a capped partition replay: the writer sends it by
// itself, one page at a time, taking the unfinished partitions in turn, and
// only after the live records queued before each page. Until a partition is
// finished its live records are not forwarded (they are in the store, and
// the page that finishes it reads up to the store's newest record).
type backlog struct {
	from     string       // the resume's "from", echoed when it ends
	steps    []replayStep // unfinished partitions, each from where it stopped
	turn     int          // the step whose page is next
	total    int64        // records sent for the resume so far
	replayed map[int32]int64
}

// ready is always ready: a select case that is taken when nothing else is.
var ready = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// startBacklog keeps the unfinished steps of a capped partition replay and
// holds back the live records of their partitions.
func (c *conn) startBacklog(from string, steps []replayStep, total int64, replayed map[int32]int64) {
	c.rs.backlog = &backlog{from: from, steps: slices.Clone(steps), total: total, replayed: replayed}
	for _, st := range steps {
		c.blocked[st.p] = true
	}
}

// endBacklog drops the rest of a capped replay (a new request replaces it).
func (c *conn) endBacklog() {
	if bl := c.rs.backlog; bl != nil {
		for _, st := range bl.steps {
			delete(c.blocked, st.p)
		}
	}
	c.rs.backlog = nil
}

// continueReplay sends one page of the backlog: first the live records
// queued now, so catching up never delays partitions that are live, then at
// most a page of the next unfinished partition. When the last partition is
// finished the client gets replay_complete with live=true, totals of the
// whole resume.
func (c *conn) continueReplay() error {
	for n := c.live.len(); n > 0; n-- {
		rec, ok := c.live.pop()
		if !ok {
			break
		}
		if err := c.forward(rec); err != nil {
			return err
		}
	}
	c.batch()
	bl := c.rs.backlog
	bl.turn %= len(bl.steps)
	st := &bl.steps[bl.turn]
	budget := &replayBudget{max: c.burst(min(c.h.cfg.PageSize, c.h.cfg.ReplayMaxTotal))}
	ctx, cancel := context.WithTimeout(c.ctx, c.h.cfg.ReplayTimeout)
	defer cancel()
	err := c.replayPartition(ctx, st.p, st.start, st.resend, budget, bl.replayed)
	c.spend(1 + budget.total)
	bl.total += int64(budget.total)
	c.h.m.ReplayMessages.WithLabelValues(control.ModePartition).Add(float64(budget.total))
	if err != nil {
		return c.replayEnded(ctx, err)
	}
	if budget.capped {
		st.start = budget.resumeAt
		bl.turn++
	} else {
		delete(c.blocked, st.p)
		bl.steps = slices.Delete(bl.steps, bl.turn, bl.turn+1)
	}
	if len(bl.steps) > 0 {
		return nil
	}
	c.rs.backlog = nil
	return c.writeText(&control.ReplayComplete{
		TotalReplayed: bl.total, LastOffsetsByPartition: bl.replayed, Mode: bl.from, Live: true,
	})
}

// replayGates tells the writer what replay work it may take now: the
// request queue (nil while a request waits for the allowance), ready when
// replay work of its own is due (a waiting request, else a page of the
// backlog; see replayWork), or a timer that fires when the allowance covers
// that work.
func (c *conn) replayGates(liveFlows bool) (<-chan control.Message, <-chan struct{}, <-chan time.Time) {
	reqs := c.reqs
	if c.rs.waiting != nil {
		reqs = nil
	} else if c.rs.backlog == nil || !liveFlows || len(c.reqs) > 0 {
		return reqs, nil, nil // a queued request goes before the backlog
	}
	if d := c.debt(); d > 0 {
		if c.rs.waitTimer == nil {
			c.rs.waitTimer = time.NewTimer(d)
		} else {
			c.rs.waitTimer.Reset(d)
		}
		return reqs, nil, c.rs.waitTimer.C
	}
	return reqs, ready, nil
}

// takeRequest serves a resume or cursor_reset now, or, when the connection
// has used up its replay allowance, keeps it until the allowance covers it
// and tells the client so. Only one request waits; further ones stay in the
// bounded queue, and beyond it the reader refuses them with an error.
func (c *conn) takeRequest(req control.Message) error {
	if d := c.debt(); d > 0 {
		c.rs.waiting = req
		c.h.m.ReplayRateLimited.Inc()
		return c.writeText(control.RateLimitedError(c.h.cfg.ReplayRate, d))
	}
	return c.handle(req)
}

// replayWork does the connection's own replay work when it is due: the
// request that waited for the allowance, else a page of the backlog.
func (c *conn) replayWork() error {
	if req := c.rs.waiting; req != nil {
		c.rs.waiting = nil
		c.batch()
		return c.handle(req)
	}
	return c.continueReplay()
}

// allowance returns the connection's bucket of replay work, nil when
// unlimited. It holds max(ReplayRate, ReplayMaxTotal) records, so a fresh
// connection's first resume gets a whole burst.
func (c *conn) allowance() *rate.Limiter {
	if c.h.cfg.ReplayRate <= 0 {
		return nil
	}
	if c.rs.allowance == nil {
		c.rs.allowance = rate.NewLimiter(rate.Limit(c.h.cfg.ReplayRate), max(c.h.cfg.ReplayRate, c.h.cfg.ReplayMaxTotal))
	}
	return c.rs.allowance
}

// burst returns how many records the next replay may send: want, or what
// the allowance holds when that is less.
func (c *conn) burst(want int) int {
	lim := c.allowance()
	if lim == nil {
		return want
	}
	return max(0, min(want, int(lim.Tokens())))
}

// spend takes n records from the allowance. Fixed costs may leave it in
// debt, which the connection's next work waits out.
func (c *conn) spend(n int) {
	lim := c.allowance()
	if lim == nil {
		return
	}
	now := time.Now()
	for n > 0 {
		k := min(n, lim.Burst())
		lim.ReserveN(now, k) // never refused for k ≤ burst: it may go into debt
		n -= k
	}
}

// debt returns how long the connection's next replay work must wait for its
// allowance to hold requestCost records (0: it may start now).
func (c *conn) debt() time.Duration {
	lim := c.allowance()
	if lim == nil {
		return 0
	}
	need := float64(min(requestCost, lim.Burst()))
	t := lim.Tokens()
	if t >= need {
		return 0
	}
	return time.Duration((need - t) / float64(lim.Limit()) * float64(time.Second))
}

// warnOnce logs a warning the first time its kind happens on the
// connection: a hostile client must not turn its frames into log lines.
func (c *conn) warnOnce(kind warnKind, msg string, args ...any) {
	if c.rs.warned&kind != 0 {
		return
	}
	c.rs.warned |= kind
	c.h.log.Warn(msg+" (logged once per connection)", args...)
}

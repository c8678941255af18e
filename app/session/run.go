package session

import (
	"context"
	"errors"
	"time"
)

// ErrRunning is returned by Run when the session already runs.
var ErrRunning = errors.New("session: already running")

// Run connects and keeps the session connected until ctx ends: it never
// gives up, reconnecting with exponential back-off and jitter. It returns
// ctx's error.
func (s *Session) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	nctx, cancel := context.WithCancel(ctx)
	var bg waitGroup
	bg.Go(func() { s.notify(nctx) })
	defer func() {
		cancel()
		bg.waitFor(time.Second)
		s.cur.Load().Flush()
	}()

	attempt := 0
	for {
		healthy, err := s.connect(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if healthy {
			attempt = 0
		}
		delay := backoff(attempt, s.cfg.BackoffBase, s.cfg.BackoffMax, s.rng)
		attempt++
		s.loop.reconnects++
		msg := "connection ended"
		if err != nil {
			msg = err.Error()
		}
		var ce *connError
		unreachable := errors.As(err, &ce) && (ce.Reason == "version" || ce.Reason == "dial")
		now := time.Now()
		s.updateHealth(func(h *Health) {
			h.State, h.Since = Reconnecting, now
			h.Attempt, h.NextRetry, h.LastError, h.Unreachable = attempt, now.Add(delay), msg, unreachable
			h.ReplayingThreads = s.heal.all()
		})
		s.publish(now, 0, true)
		s.cfg.Logger.Info("session: reconnecting", "attempt", attempt, "in", delay.Round(time.Millisecond), "why", msg)
		// A "retry now" from before this wait (while connected) is stale.
		select {
		case <-s.retryNow:
		default:
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		case <-s.retryNow:
			t.Stop()
		}
	}
}

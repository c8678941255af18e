// Package logthrottle rate-limits repeated log lines: the first occurrence
// of a kind is logged at once, later ones within the interval are counted,
// and the next line that is let through carries the count.
package logthrottle

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Throttle logs each key at most once per interval.
type Throttle struct {
	log   *slog.Logger
	level slog.Level
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	keys map[any]*entry
}

type entry struct {
	last       time.Time
	suppressed int64
}

// New returns a Throttle that logs at level, each key at most once per
// interval.
func New(log *slog.Logger, level slog.Level, interval time.Duration) *Throttle {
	return &Throttle{log: log, level: level, every: interval, now: time.Now, keys: map[any]*entry{}}
}

// maxKeys bounds the keys remembered; past it the oldest are forgotten.
const maxKeys = 1024

// Log logs msg with args unless a line of the same key was logged within
// the interval; it reports whether it logged. A line let through after
// suppressed ones carries "suppressed" (their count) and "since".
func (t *Throttle) Log(msg string, key any, args ...any) bool {
	now := t.now()
	t.mu.Lock()
	e, ok := t.keys[key]
	if ok && now.Sub(e.last) < t.every {
		e.suppressed++
		t.mu.Unlock()
		return false
	}
	var suppressed int64
	var since time.Time
	if ok {
		suppressed, since = e.suppressed, e.last
	} else {
		if len(t.keys) >= maxKeys {
			t.forgetOldest()
		}
		e = &entry{}
		t.keys[key] = e
	}
	e.last, e.suppressed = now, 0
	t.mu.Unlock()
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed, "since", since.Format(time.RFC3339))
	}
	t.log.Log(context.Background(), t.level, msg, args...)
	return true
}

// Suppressed returns how many lines of key were held back since the last
// one logged.
func (t *Throttle) Suppressed(key any) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.keys[key]; ok {
		return e.suppressed
	}
	return 0
}

func (t *Throttle) forgetOldest() {
	var oldest any
	var at time.Time
	for k, e := range t.keys {
		if oldest == nil || e.last.Before(at) {
			oldest, at = k, e.last
		}
	}
	delete(t.keys, oldest)
}

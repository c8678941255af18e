package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Logger adapts go-redis's internal logging to slog with a rate limit.
// go-redis prints a line for every failed dial, so while Redis is down it
// would log several lines per second; install it once at start with
// redis.SetLogger(redisstore.NewLogger(logger, 10*time.Second)) (go-redis's
// logger is process-wide, so the store does not install it itself).
type Logger struct {
	log   *slog.Logger
	every time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// NewLogger returns a Logger that writes at most one line per interval
// (every line when interval ≤ 0) and reports how many it suppressed.
func NewLogger(log *slog.Logger, interval time.Duration) *Logger {
	if log == nil {
		log = slog.Default()
	}
	return &Logger{log: log.With("component", "go-redis"), every: interval}
}

// Printf implements go-redis's internal.Logging.
func (l *Logger) Printf(ctx context.Context, format string, v ...any) {
	l.mu.Lock()
	now := time.Now()
	if l.every > 0 && !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	l.log.WarnContext(ctx, fmt.Sprintf(format, v...), "suppressed_since_last", suppressed)
}

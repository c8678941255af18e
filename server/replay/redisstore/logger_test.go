package redisstore

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLoggerRateLimitsAndCountsSuppressedLines(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(slog.New(slog.NewTextHandler(&buf, nil)), time.Hour)
	for i := range 5 {
		l.Printf(context.Background(), "dial failed %d", i)
	}
	if n := strings.Count(buf.String(), "dial failed"); n != 1 {
		t.Fatalf("%d lines within the interval, want 1:\n%s", n, buf.String())
	}
	l.last = time.Now().Add(-2 * time.Hour) // the interval has passed
	l.Printf(context.Background(), "dial failed again")
	if !strings.Contains(buf.String(), "suppressed_since_last=4") {
		t.Fatalf("suppressed count missing:\n%s", buf.String())
	}
}

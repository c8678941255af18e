package logthrottle

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestThrottle_OneLineThenCounts(t *testing.T) {
	var out bytes.Buffer
	th := New(slog.New(slog.NewTextHandler(&out, nil)), slog.LevelError, time.Minute)
	now := time.Unix(1000, 0)
	th.now = func() time.Time { return now }
	for range 75 {
		th.Log("redis write failed", "write", "err", "WRONGPASS")
	}
	th.Log("other kind", "other")
	if got := strings.Count(out.String(), "\n"); got != 2 {
		t.Fatalf("%d lines for 75 repeats and one other kind, want 2:\n%s", got, out.String())
	}
	if n := th.Suppressed("write"); n != 74 {
		t.Fatalf("suppressed %d, want 74", n)
	}
	now = now.Add(time.Minute)
	if !th.Log("redis write failed", "write") {
		t.Fatal("the next interval's line was held back")
	}
	if !strings.Contains(out.String(), "suppressed=74") {
		t.Fatalf("the count of held-back lines is missing:\n%s", out.String())
	}
}

func TestThrottle_KeysAreBounded(t *testing.T) {
	var out bytes.Buffer
	th := New(slog.New(slog.NewTextHandler(&out, nil)), slog.LevelWarn, time.Minute)
	for i := range 3 * maxKeys {
		th.Log("x", i)
	}
	if len(th.keys) > maxKeys {
		t.Fatalf("%d keys kept, bound %d", len(th.keys), maxKeys)
	}
}

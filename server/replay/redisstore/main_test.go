package redisstore

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestMain keeps go-redis's dial failures (expected in the tests that kill
// Redis) out of the test output.
func TestMain(m *testing.M) {
	redis.SetLogger(NewLogger(quietLog, 0))
	os.Exit(m.Run())
}

// quietLog discards; the stores' own logging is exercised, not shown.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

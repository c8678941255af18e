package session

import (
	"errors"
	"log/slog"
	"time"

	"github.com/dashstream/dashstream/app/cursors"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// Config configures a Session. Every zero field takes the default named in
// its comment.
type Config struct {
	// BaseURL is the gateway's origin, e.g. "http://localhost:8080". In the
	// browser it defaults to the page's origin; natively it is required.
	BaseURL string
	// Storage keeps the cursors: localStorage in the browser, memory
	// natively.
	Storage cursors.Storage
	// Store configures the run store (runstate.DefaultConfig()).
	Store runstate.Config
	// Logger receives connection-level events, never one line per
	// message (slog.Default()).
	Logger *slog.Logger

	// Decode decodes one binary frame (a protocol.Decoder with the server's
	// max_payload_bytes). Tests replace it to hang or fail on purpose.
	Decode func(value []byte) (*pb.DashStreamMessage, error)
	// DecodeTimeout bounds one decode (10 s): past it the frame is counted
	// as a "timeout" and the pipeline restarts on a new connection.
	DecodeTimeout time.Duration
	// QueueSize bounds the frames waiting for decode and for apply (1024
	// each). A full queue stops the reader, which leaves the backlog to the
	// server's per-client queue and replay store.
	QueueSize int

	// BackoffBase and BackoffMax shape the reconnect delay (500 ms, 30 s):
	// attempt n waits a random time in [d/2, d] with d = min(Max, Base·2^n).
	BackoffBase, BackoffMax time.Duration
	// Heartbeat is how often a ping is sent (15 s); HeartbeatTimeout how
	// long the socket may stay silent before it is replaced (45 s).
	Heartbeat, HeartbeatTimeout time.Duration
	// HealthPoll is how often the server's /health is read while connected
	// (5 s). StallAfter is how long the socket may go without a data frame
	// while the server reports traffic before the state is Stalled (10 s);
	// StallReconnect, how long a stall lasts before the socket is replaced
	// (30 s).
	HealthPoll, StallAfter, StallReconnect time.Duration
	// Tick is the apply loop's housekeeping period: runstate Tick, cursor
	// flush, watchdogs (250 ms).
	Tick time.Duration
	// NotifyEvery is the least time between two Subscribe callbacks
	// (100 ms, so at most 10 per second).
	NotifyEvery time.Duration
	// HealBatch is the most threads asked for in one thread replay (32).
	HealBatch int
	// HistoryRetry is the first wait before a followed run whose replay
	// did not bring its whole history is asked again (1 s; it doubles up
	// to 30 s).
	HistoryRetry time.Duration
	// RequestTimeout bounds an HTTP request and a WebSocket dial or write
	// (10 s).
	RequestTimeout time.Duration
}

// ErrNoBaseURL is returned by New when no gateway address is known.
var ErrNoBaseURL = errors.New("session: no BaseURL (required outside the browser)")

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.DecodeTimeout, 10*time.Second)
	def(&c.BackoffBase, 500*time.Millisecond)
	def(&c.BackoffMax, 30*time.Second)
	def(&c.Heartbeat, 15*time.Second)
	def(&c.HeartbeatTimeout, 45*time.Second)
	def(&c.HealthPoll, 5*time.Second)
	def(&c.StallAfter, 10*time.Second)
	def(&c.StallReconnect, 30*time.Second)
	def(&c.Tick, 250*time.Millisecond)
	def(&c.NotifyEvery, 100*time.Millisecond)
	def(&c.RequestTimeout, 10*time.Second)
	def(&c.HistoryRetry, time.Second)
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.HealBatch <= 0 {
		c.HealBatch = 32
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BaseURL == "" {
		c.BaseURL = pageOrigin()
	}
	if c.Storage == nil {
		c.Storage = defaultStorage()
	}
	return c
}

// Package redisstore is the Redis replay store, with exactly the key layout
// of the upstream websocket-server (reference §5.3) so that our gateway and
// an upstream one can share a Redis:
//
//	{prefix}:partition:{p}:offset:{o}  string  raw Kafka value               TTL
//	{prefix}:partition:{p}:offsets     ZSET    offset keys, scored by offset TTL refreshed per write
//	{prefix}:thread:{tid'}:seq:{s}     string  int32 LE p + int64 LE o + raw TTL
//	{prefix}:thread:{tid'}:sequences   ZSET    thread keys, scored by seq    TTL refreshed per write
//	{prefix}:partitions                SET     partition ids (ours)          TTL refreshed per write
//
// where prefix = "dashstream-replay:{resume_namespace}" (compute the
// namespace with control.ResumeNamespace) and tid' is the sanitised thread
// id (see sanitizeThreadID).
//
// Where it departs from upstream, and why:
//   - Index ZSETs get the TTL on every write, so an idle namespace vanishes
//     entirely one TTL after its last write (audit M-712).
//   - A batch of records is one pipelined round trip: SET NX EX, ZADD,
//     EXPIRE and the trim ZREMRANGEBYRANK key 0 -(max+1), with no ZCARD
//     (M-714). Trimming is exact per ZSET on every write, not on a global
//     cadence.
//   - A page read is one round trip: a Lua script (EVALSHA, EVAL on
//     NOSCRIPT) runs ZRANGEBYSCORE … LIMIT and MGET, drops members whose
//     value expired (ZREM) and keeps reading until the page is full, so a
//     short page always means the end and an expired member is never
//     returned nor reported as a hole twice.
//   - Thread ids are sanitised injectively (M-1032; see sanitizeThreadID).
//   - Partitions come from the {prefix}:partitions SET, not a keyspace SCAN
//     per page; a bounded SCAN is used only when the SET is absent (data
//     written by an upstream server alone).
//   - Appending an offset already stored keeps the first value (SET NX):
//     two gateways sharing a Redis append every record twice.
//   - Offsets and sequences are compared exactly (as decimal strings in the
//     scripts, parsed from members in Go), not as float64 scores, which lose
//     precision above 2^53.
//
// The store needs a standalone Redis (or a single-shard deployment): its
// scripts touch value keys named by ZSET members, which Redis Cluster does
// not allow. Errors caused by Redis being unreachable wrap
// replay.ErrUnavailable.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dashstream/dashstream/server/replay"
)

// Defaults, the upstream values and variable names.
const (
	// DefaultTTL is the life of every key after its last write
	// (REDIS_MESSAGE_TTL_SECS).
	DefaultTTL = 3600 * time.Second
	// DefaultMaxEntries bounds each ZSET (REDIS_MAX_SEQUENCES).
	DefaultMaxEntries = 10_000
	// DefaultClearTimeout bounds Clear (REDIS_CLEAR_TIMEOUT_SECS).
	DefaultClearTimeout = 5 * time.Second
	// DefaultScanLimit bounds the keys the fallback SCAN of Partitions
	// examines.
	DefaultScanLimit = 100_000
)

// Config tunes a Store. Zero fields take the defaults.
type Config struct {
	// TTL is how long keys live after their last write; whole seconds, at
	// least one (Redis's EX has second resolution, like upstream's SETEX).
	TTL time.Duration
	// MaxEntries is the most members each ZSET keeps; older ones are
	// trimmed on every write.
	MaxEntries int
	// ClearTimeout bounds Clear's SCAN and UNLINK loop.
	ClearTimeout time.Duration
	// ScanLimit bounds the keys Partitions' fallback SCAN examines.
	ScanLimit int
	// Logger receives rare events (fallback scans, clears); nil means
	// slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.TTL < time.Second || c.TTL%time.Second != 0 {
		return c, fmt.Errorf("redisstore: TTL %v is not a whole number of seconds ≥ 1s", c.TTL)
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.MaxEntries < 1 {
		return c, fmt.Errorf("redisstore: MaxEntries %d is not positive", c.MaxEntries)
	}
	if c.ClearTimeout == 0 {
		c.ClearTimeout = DefaultClearTimeout
	}
	if c.ClearTimeout < 0 {
		return c, fmt.Errorf("redisstore: ClearTimeout %v is negative", c.ClearTimeout)
	}
	if c.ScanLimit == 0 {
		c.ScanLimit = DefaultScanLimit
	}
	if c.ScanLimit < 0 {
		return c, fmt.Errorf("redisstore: ScanLimit %d is negative", c.ScanLimit)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// Store is a replay.Store (and replay.Durable) on Redis. It is safe for
// concurrent use.
type Store struct {
	client redis.UniversalClient
	owned  bool
	k      keys
	cfg    Config
	log    *slog.Logger

	roundTrips atomic.Uint64
	// loaded[i] is set once script i was sent by EVAL to this Redis.
	loaded [numScripts]atomic.Bool
}

// New returns a store on client under KeyPrefix(namespace). It does no I/O,
// so it succeeds while Redis is down; the client reconnects by itself. The
// caller keeps ownership of client.
func New(client redis.UniversalClient, namespace string, cfg Config) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	if namespace == "" {
		return nil, errors.New("redisstore: empty namespace")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{client: client, k: keys{prefix: KeyPrefix(namespace)}, cfg: cfg}
	s.log = cfg.Logger.With("component", "replay.redis", "prefix", s.k.prefix)
	return s, nil
}

// Client timeouts used by Open when the URL sets none: short enough that a
// dead Redis is noticed in about a second, since the gateway degrades to
// memory instead of waiting.
const (
	dialTimeout = time.Second
	ioTimeout   = 2 * time.Second
)

// Open connects to the Redis at url (redis://[user:pass@]host:port/db, or
// rediss://) and returns a store that owns the client; Close closes it.
func Open(url, namespace string, cfg Config) (*Store, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		// The parse error quotes the URL, password included.
		return nil, fmt.Errorf("redisstore: REDIS_URL does not parse as a redis:// or rediss:// URL (not shown: it may hold a password)")
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = dialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = ioTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = ioTimeout
	}
	// One dial attempt and one retry per command: a dead Redis must fail a
	// call in about DialTimeout, not after go-redis's default backoffs
	// (seconds), because callers fall back to memory rather than wait; the
	// retry still heals connections broken by a Redis restart.
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = 1
	}
	// Let callers' deadlines bound socket I/O too.
	opt.ContextTimeoutEnabled = true
	client := redis.NewClient(opt)
	s, err := New(client, namespace, cfg)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close closes the client if the store opened it.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redisstore: close: %w", err)
	}
	return nil
}

// Prefix returns the key prefix, "dashstream-replay:{namespace}".
func (s *Store) Prefix() string { return s.k.prefix }

// Config returns the effective configuration.
func (s *Store) Config() Config { return s.cfg }

// RoundTrips counts the commands and pipelines this store sent to Redis:
// one per page read, Bounds, Partitions or AppendBatch; two for a script
// call right after Redis lost its script cache (EVALSHA, then EVAL).
// Connection handshakes and go-redis's internal retries are not counted.
func (s *Store) RoundTrips() uint64 { return s.roundTrips.Load() }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	s.roundTrip()
	return s.fail("ping", s.client.Ping(ctx).Err())
}

// fail wraps err with the operation and, when Redis could not be reached or
// cannot serve, with replay.ErrUnavailable.
func (s *Store) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || !unavailable(err) {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	return fmt.Errorf("redisstore: %s: %w: %w", op, replay.ErrUnavailable, err)
}

// unavailable reports whether err means Redis cannot serve right now: any
// failure that is not a reply (connection refused or reset, timeouts, pool
// exhaustion, a closed client), and the replies of a server that is
// starting, read-only or busy. A reply such as WRONGTYPE is a real error.
func unavailable(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true
	}
	// A wrong password or missing permission cannot serve either; treating
	// it as an outage makes callers back off instead of retrying (and
	// reconnecting, since authentication fails at connect) per batch.
	for _, prefix := range []string{"LOADING", "READONLY", "MASTERDOWN", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "NOAUTH", "WRONGPASS", "NOPERM"} {
		if redis.HasErrorPrefix(err, prefix) {
			return true
		}
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "invalid password") || strings.Contains(msg, "invalid username-password") ||
		strings.Contains(msg, "auth")
}

var (
	_ replay.Store   = (*Store)(nil)
	_ replay.Durable = (*Store)(nil)
)

package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// The store counts its own round trips where it issues them, rather than
// with a client hook: a hook would also see the handshake of every new
// connection (HELLO, CLIENT SETINFO) and, on a shared client, other users'
// commands. go-redis's internal retries are not counted either.

// runScript runs a script in one round trip: EVAL the first time (Redis
// caches the script), then EVALSHA; when Redis has lost its script cache
// (restart, SCRIPT FLUSH) the EVALSHA fails with NOSCRIPT and one EVAL
// follows, which caches it again.
func (s *Store) runScript(ctx context.Context, script luaScript, keys []string, args ...any) *redis.Cmd {
	s.roundTrips.Add(1)
	loaded := &s.loaded[script.slot]
	if !loaded.Load() {
		cmd := script.Eval(ctx, s.client, keys, args...)
		if cmd.Err() == nil || isReply(cmd.Err()) {
			loaded.Store(true)
		}
		return cmd
	}
	cmd := script.EvalSha(ctx, s.client, keys, args...)
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		s.roundTrips.Add(1)
		cmd = script.Eval(ctx, s.client, keys, args...)
	}
	return cmd
}

// isReply reports whether err is an error reply of Redis (the script ran,
// or at least reached Redis).
func isReply(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply)
}

// roundTrip counts one command or pipeline about to be sent.
func (s *Store) roundTrip() { s.roundTrips.Add(1) }

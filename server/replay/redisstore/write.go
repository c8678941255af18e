package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/dashstream/dashstream/server/replay"
)

// Append stores one record in one round trip.
func (s *Store) Append(ctx context.Context, rec replay.Record) error {
	return s.AppendBatch(ctx, []replay.Record{rec})
}

// AppendBatch stores records in one pipelined round trip: per record, SET
// NX EX of the value key and ZADD to its ZSET, and the same per thread
// entry; then, once per ZSET touched, EXPIRE and the trim
// ZREMRANGEBYRANK key 0 -(MaxEntries+1); then SADD and EXPIRE of the
// partitions SET. The pipeline is not a transaction: each command is
// idempotent, so a batch cut short by a failure is simply appended again
// by the retry. A batch with an invalid record is refused as a whole.
func (s *Store) AppendBatch(ctx context.Context, recs []replay.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, rec := range recs {
		if err := rec.Validate(); err != nil {
			return fmt.Errorf("redisstore: append: %w", err)
		}
	}
	if len(recs) == 0 {
		return nil
	}
	ttl := s.cfg.TTL
	zsets := make([]string, 0, 2*len(recs))
	seen := make(map[string]struct{}, 2*len(recs))
	touch := func(key string) {
		if _, ok := seen[key]; !ok {
			seen[key] = struct{}{}
			zsets = append(zsets, key)
		}
	}
	partitions := make([]any, 0, 1)
	seenPart := make(map[int32]struct{}, 1)
	tids := make(map[string]string) // thread id → sanitised, once per batch

	s.roundTrip()
	_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, rec := range recs {
			offKey := s.k.offset(rec.Partition, rec.Offset)
			// SET NX: a second gateway appending the same record (or a
			// retry) keeps the first value, as the contract asks.
			pipe.SetNX(ctx, offKey, rec.Value, ttl)
			zkey := s.k.offsets(rec.Partition)
			pipe.ZAdd(ctx, zkey, redis.Z{Score: float64(rec.Offset), Member: offKey})
			touch(zkey)
			if _, ok := seenPart[rec.Partition]; !ok {
				seenPart[rec.Partition] = struct{}{}
				partitions = append(partitions, strconv.FormatInt(int64(rec.Partition), 10))
			}
			var packed []byte // built once per record, shared by its threads
			for _, ts := range rec.Threads {
				if !ts.Indexed() {
					continue
				}
				tid, ok := tids[ts.Thread]
				if !ok {
					tid = sanitizeThreadID(ts.Thread)
					tids[ts.Thread] = tid
				}
				if packed == nil {
					packed = encodeThreadValue(rec.Partition, rec.Offset, rec.Value)
				}
				seqKey := s.k.threadSeq(tid, ts.Seq)
				pipe.SetNX(ctx, seqKey, packed, ttl)
				tkey := s.k.sequences(tid)
				pipe.ZAdd(ctx, tkey, redis.Z{Score: float64(ts.Seq), Member: seqKey})
				touch(tkey)
			}
		}
		keep := int64(s.cfg.MaxEntries)
		for _, key := range zsets {
			pipe.Expire(ctx, key, ttl)
			pipe.ZRemRangeByRank(ctx, key, 0, -(keep + 1))
		}
		pipe.SAdd(ctx, s.k.partitions(), partitions...)
		pipe.Expire(ctx, s.k.partitions(), ttl)
		return nil
	})
	return s.fail(fmt.Sprintf("append %d records", len(recs)), err)
}

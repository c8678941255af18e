package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Bounds returns the oldest and newest offsets of p whose values still
// exist, in one round trip (a script around ZRANGE with scores; members
// whose value expired are removed on the way). Offsets are parsed from the
// members, not the float64 scores.
func (s *Store) Bounds(ctx context.Context, p int32) (oldest, newest int64, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, false, err
	}
	res, err := s.runScript(ctx, boundsScript, []string{s.k.offsets(p)}).Slice()
	if err != nil {
		return 0, 0, false, s.fail(fmt.Sprintf("bounds of partition %d", p), err)
	}
	if len(res) != 2 {
		return 0, 0, false, fmt.Errorf("redisstore: bounds of partition %d: script returned %d items", p, len(res))
	}
	lows, lok := edgeOffsets(res[0])
	highs, hok := edgeOffsets(res[1])
	if !lok || !hok {
		return 0, 0, false, nil
	}
	return slices.Min(lows), slices.Max(highs), true, nil
}

// edgeOffsets parses one tie group of boundsScript.
func edgeOffsets(v any) ([]int64, bool) {
	items, _ := v.([]any)
	var out []int64
	for _, it := range items {
		m, _ := it.(string)
		if o, err := parseOffsetMember(m); err == nil {
			out = append(out, o)
		}
	}
	return out, len(out) > 0
}

// Partitions lists the partitions holding records, ascending, from the
// {prefix}:partitions SET in one round trip. When the SET is absent (only
// an upstream server wrote this namespace), it falls back to SCAN MATCH
// {prefix}:partition:*:offsets, examining at most ScanLimit keys.
func (s *Store) Partitions(ctx context.Context) ([]int32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := s.runScript(ctx, partitionsScript, []string{s.k.partitions()}, s.k.prefix).Slice()
	if err != nil {
		return nil, s.fail("list partitions", err)
	}
	if len(res) == 0 {
		return nil, errors.New("redisstore: list partitions: empty script reply")
	}
	if present, _ := res[0].(int64); present == 0 {
		return s.scanPartitions(ctx)
	}
	ps := make([]int32, 0, len(res)-1)
	for _, it := range res[1:] {
		str, _ := it.(string)
		if p, err := strconv.ParseInt(str, 10, 32); err == nil && p >= 0 {
			ps = append(ps, int32(p))
		}
	}
	slices.Sort(ps)
	return slices.Compact(ps), nil
}

// scanCount is the COUNT hint of every SCAN.
const scanCount = 1000

// scanPartitions finds partitions the way upstream does, but bounded.
func (s *Store) scanPartitions(ctx context.Context) ([]int32, error) {
	var ps []int32
	var cursor uint64
	for examined := 0; ; examined += scanCount {
		if examined >= s.cfg.ScanLimit {
			s.log.Warn("replay partitions: SCAN stopped at its limit; the list may be incomplete", "scan_limit", s.cfg.ScanLimit)
			break
		}
		s.roundTrip()
		found, next, err := s.client.Scan(ctx, cursor, s.k.offsetsPattern(), scanCount).Result()
		if err != nil {
			return nil, s.fail("scan partitions", err)
		}
		for _, key := range found {
			if p, ok := parseOffsetsKey(key); ok {
				ps = append(ps, p)
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	slices.Sort(ps)
	return slices.Compact(ps), nil
}

// Clear deletes every key of the namespace (SCAN {prefix}:* and UNLINK per
// batch), within ClearTimeout, and returns how many keys it deleted. When
// the timeout or ctx ends the loop, the count so far comes with an error.
// Other namespaces are untouched.
func (s *Store) Clear(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ClearTimeout)
	defer cancel()
	var deleted int64
	var cursor uint64
	for {
		s.roundTrip()
		found, next, err := s.client.Scan(ctx, cursor, s.k.all(), scanCount).Result()
		if err != nil {
			return deleted, s.fail(fmt.Sprintf("clear (stopped after %d keys)", deleted), err)
		}
		if len(found) > 0 {
			s.roundTrip()
			n, err := s.client.Unlink(ctx, found...).Result()
			deleted += n
			if err != nil {
				return deleted, s.fail(fmt.Sprintf("clear (stopped after %d keys)", deleted), err)
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	s.log.Info("replay store cleared", "keys", deleted, "took", time.Since(start))
	return deleted, nil
}

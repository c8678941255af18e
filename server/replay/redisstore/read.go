package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/dashstream/dashstream/server/replay"
)

// exactScore is the largest integer a float64 score holds exactly (2^53).
// Below it an exclusive score bound is exact; at or above it the scripts
// use an inclusive bound and the exact decimal comparison does the rest.
const exactScore = 1 << 53

// bounds are the arguments that restrict a page read: ZRANGEBYSCORE's
// score bounds and the exact decimal cursors.
type bounds struct {
	minScore, maxScore string
	after, before      string // exact decimals, "" for none
}

// above restricts to numbers above digits; exact says digits is below
// 2^53, where an exclusive score bound is exact.
func (b *bounds) above(digits string, exact bool) {
	b.after = digits
	if exact {
		b.minScore = "(" + digits
	} else {
		b.minScore = digits
	}
}

// below restricts to numbers below digits; exact says digits is at most
// 2^53.
func (b *bounds) below(digits string, exact bool) {
	b.before = digits
	if exact {
		b.maxScore = "(" + digits
	} else {
		b.maxScore = digits
	}
}

func openBounds() bounds { return bounds{minScore: "-inf", maxScore: "+inf"} }

// offsetBounds restricts a partition page to after < offset (< before when
// hasBefore).
func offsetBounds(after int64, before int64, hasBefore bool) bounds {
	b := openBounds()
	if after >= 0 {
		b.above(strconv.FormatInt(after, 10), after < exactScore)
	}
	if hasBefore {
		b.below(strconv.FormatInt(before, 10), before <= exactScore)
	}
	return b
}

// pair is one (member, value) of a page.
type pair struct{ member, value string }

// readPage runs readScript: one round trip.
func (s *Store) readPage(ctx context.Context, zkey string, b bounds, limit, minLen int) ([]pair, error) {
	res, err := s.runScript(ctx, readScript, []string{zkey},
		b.minScore, b.maxScore, b.after, b.before, limit, minLen).Slice()
	if err != nil {
		return nil, err
	}
	if len(res)%2 != 0 {
		return nil, fmt.Errorf("read script returned %d items, not pairs", len(res))
	}
	out := make([]pair, 0, len(res)/2)
	for i := 0; i < len(res); i += 2 {
		m, ok1 := res[i].(string)
		v, ok2 := res[i+1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("read script returned %T and %T, not strings", res[i], res[i+1])
		}
		out = append(out, pair{m, v})
	}
	return out, nil
}

// ReadPartition returns up to limit records of p with offsets above after,
// in one round trip. Records carry no Threads (the offset keys hold only
// the value), and their Values are the caller's own copies.
func (s *Store) ReadPartition(ctx context.Context, p int32, after int64, limit int) ([]replay.Record, error) {
	return s.readPartition(ctx, p, offsetBounds(after, 0, false), limit)
}

// ReadPartitionBefore implements replay.Durable: ReadPartition restricted
// to offsets below before.
func (s *Store) ReadPartitionBefore(ctx context.Context, p int32, after, before int64, limit int) ([]replay.Record, error) {
	if before <= 0 || after >= before-1 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return s.readPartition(ctx, p, offsetBounds(after, before, true), limit)
}

func (s *Store) readPartition(ctx context.Context, p int32, b bounds, limit int) ([]replay.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	pairs, err := s.readPage(ctx, s.k.offsets(p), b, limit, 0)
	if err != nil {
		return nil, s.fail(fmt.Sprintf("read partition %d", p), err)
	}
	recs := make([]replay.Record, 0, len(pairs))
	for _, pr := range pairs {
		o, err := parseOffsetMember(pr.member)
		if err != nil {
			continue // the script only returns members ending in digits; be safe
		}
		recs = append(recs, replay.Record{Partition: p, Offset: o, Value: []byte(pr.value)})
	}
	// Scores tie above 2^53 and Redis orders ties by member bytes; put the
	// page in exact order (a no-op check otherwise).
	if !slices.IsSortedFunc(recs, byOffset) {
		slices.SortFunc(recs, byOffset)
	}
	return recs, nil
}

func byOffset(a, b replay.Record) int { return cmp.Compare(a.Offset, b.Offset) }

// ReadThread returns up to limit records indexed under thread with
// sequences above after, in one round trip. Each record's Threads is
// {thread, seq}; its partition and offset come from the value's 12-byte
// header. Values shorter than the header (upstream's legacy form) are
// skipped: their position is unknown.
func (s *Store) ReadThread(ctx context.Context, thread string, after uint64, limit int) ([]replay.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 || thread == "" {
		return nil, nil
	}
	b := openBounds()
	b.above(strconv.FormatUint(after, 10), after < exactScore)
	tid := sanitizeThreadID(thread)
	pairs, err := s.readPage(ctx, s.k.sequences(tid), b, limit, threadHeaderLen)
	if err != nil {
		return nil, s.fail("read thread", err)
	}
	recs := make([]replay.Record, 0, len(pairs))
	for _, pr := range pairs {
		seq, err := parseSeqMember(pr.member)
		if err != nil {
			continue
		}
		p, o, v, err := decodeThreadValue([]byte(pr.value))
		if err != nil {
			continue
		}
		recs = append(recs, replay.Record{Partition: p, Offset: o, Value: v, Threads: []replay.ThreadSeq{{Thread: thread, Seq: seq}}})
	}
	if !slices.IsSortedFunc(recs, bySeq) {
		slices.SortFunc(recs, bySeq)
	}
	return recs, nil
}

func bySeq(a, b replay.Record) int { return cmp.Compare(a.Threads[0].Seq, b.Threads[0].Seq) }

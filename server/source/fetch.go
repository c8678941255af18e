package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/server/replay"
)

// Fetcher reads ranges of a partition straight from Kafka: the deep replay
// of a resume whose cursor is older than the replay store, so that
// cursor_stale means the data is truly gone, not merely evicted.
type Fetcher struct {
	cfg     Config
	decoder *protocol.Decoder
	sem     chan struct{}

	mu    sync.Mutex
	admin *kgo.Client
}

// NewFetcher returns a fetcher that runs at most concurrency deep replays at
// once (each opens its own short-lived consumer).
func NewFetcher(cfg Config, concurrency int) *Fetcher {
	if cfg.MaxPayloadBytes <= 0 {
		cfg.MaxPayloadBytes = protocol.DefaultMaxPayloadBytes
	}
	return &Fetcher{
		cfg:     cfg,
		decoder: protocol.NewDecoder(protocol.WithMaxPayloadBytes(cfg.MaxPayloadBytes)),
		sem:     make(chan struct{}, max(1, concurrency)),
	}
}

// ErrFetchUnavailable wraps failures to reach Kafka during a deep replay.
var ErrFetchUnavailable = errors.New("kafka unavailable for deep replay")

func (f *Fetcher) clientOpts() []kgo.Opt {
	return append([]kgo.Opt{
		kgo.SeedBrokers(f.cfg.Brokers...),
		kgo.ClientID("dashstream-gateway-replay"),
		kgo.FetchMaxPartitionBytes(int32(min(f.cfg.MaxPayloadBytes+(1<<20), 1<<30))),
		kgo.FetchMaxBytes(int32(min(4*(f.cfg.MaxPayloadBytes+(1<<20)), 1<<30))),
		kgo.BrokerMaxReadBytes(int32(min(4*(f.cfg.MaxPayloadBytes+(1<<20))+(1<<20), 1<<30))),
		kgo.RetryTimeout(5 * time.Second),
	}, f.cfg.ClientOpts...)
}

func (f *Fetcher) adminClient() (*kadm.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.admin == nil {
		cl, err := kgo.NewClient(f.clientOpts()...)
		if err != nil {
			return nil, err
		}
		f.admin = cl
	}
	return kadm.NewClient(f.admin), nil
}

// Bounds returns partition p's log start offset (the oldest offset Kafka
// still holds) and its high watermark (one past the newest).
func (f *Fetcher) Bounds(ctx context.Context, p int32) (logStart, high int64, err error) {
	adm, err := f.adminClient()
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrFetchUnavailable, err)
	}
	starts, err := adm.ListStartOffsets(ctx, f.cfg.Topic)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: start offsets: %w", ErrFetchUnavailable, err)
	}
	ends, err := adm.ListEndOffsets(ctx, f.cfg.Topic)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: end offsets: %w", ErrFetchUnavailable, err)
	}
	s, ok1 := starts.Lookup(f.cfg.Topic, p)
	e, ok2 := ends.Lookup(f.cfg.Topic, p)
	if !ok1 || !ok2 || s.Err != nil || e.Err != nil {
		return 0, 0, fmt.Errorf("%w: partition %d: %w", ErrFetchUnavailable, p, errors.Join(s.Err, e.Err))
	}
	return s.Offset, e.Offset, nil
}

// Range calls fn, in offset order, for every forwardable record of partition
// p with an offset in [from, to]. Records the live source would not forward
// (tombstones, oversized or undecodable values) are skipped: they are no
// loss. It returns the partition's log start offset; offsets below it are
// gone from Kafka and were not read.
func (f *Fetcher) Range(ctx context.Context, p int32, from, to int64, fn func(replay.Record) error) (logStart int64, err error) {
	select {
	case f.sem <- struct{}{}:
		defer func() { <-f.sem }()
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	logStart, high, err := f.Bounds(ctx, p)
	if err != nil {
		return 0, err
	}
	start := max(from, logStart)
	end := min(to, high-1)
	if start > end {
		return logStart, nil
	}
	cl, err := kgo.NewClient(append(f.clientOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{f.cfg.Topic: {p: kgo.NewOffset().At(start)}}))...)
	if err != nil {
		return logStart, fmt.Errorf("%w: %w", ErrFetchUnavailable, err)
	}
	defer cl.Close()
	next := start // the next offset the range expects
	for {
		// Offsets below the high watermark are committed and come back at
		// once; a poll that returns nothing means the rest of the range holds
		// no data records (transaction markers, compaction), not that more
		// is coming, unless the broker cannot read what is there: that is
		// checked before the range is called complete.
		pollCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		fetches := cl.PollRecords(pollCtx, 500)
		cancel()
		if ctx.Err() != nil {
			return logStart, ctx.Err()
		}
		// The records come before the error: a fetch that fails on a batch
		// still returns the ones before it.
		var done bool
		var cbErr error
		fetches.EachRecord(func(r *kgo.Record) {
			if done || cbErr != nil || r.Partition != p {
				return
			}
			if r.Offset > end {
				done = true
				return
			}
			if r.Value != nil && len(r.Value) <= f.cfg.MaxPayloadBytes {
				value := bytes.Clone(r.Value)
				if _, err := f.decoder.Decode(value); err == nil {
					cbErr = fn(replay.Record{Partition: p, Offset: r.Offset, Value: value})
				}
			}
			next = r.Offset + 1
			if r.Offset >= end {
				done = true
			}
		})
		if cbErr != nil {
			return logStart, cbErr
		}
		if done {
			return logStart, nil
		}
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				ferr = errors.Join(ferr, err)
			}
		})
		if ferr != nil {
			return logStart, fmt.Errorf("%w: offset %d: %w", ErrFetchUnavailable, next, ferr)
		}
		if fetches.NumRecords() == 0 {
			if ok, err := f.readable(ctx, p, next); err != nil || !ok {
				return logStart, fmt.Errorf("%w: offset %d cannot be read (%v)", ErrFetchUnavailable, next, err)
			}
			return logStart, nil
		}
	}
}

// readable asks the partition's leader whether offset o can be read (see
// readableAt).
func (f *Fetcher) readable(ctx context.Context, p int32, o int64) (bool, error) {
	adm, err := f.adminClient()
	if err != nil {
		return false, err
	}
	topics, err := adm.ListTopics(ctx, f.cfg.Topic)
	if err != nil {
		return false, err
	}
	td := topics[f.cfg.Topic]
	pd, ok := td.Partitions[p]
	if !ok || pd.Err != nil {
		return false, fmt.Errorf("partition %d: no leader known", p)
	}
	f.mu.Lock()
	admin := f.admin
	f.mu.Unlock()
	return readableAt(ctx, admin, f.cfg.Topic, td.ID, pd.Leader, p, o)
}

// Close releases the fetcher's admin client.
func (f *Fetcher) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.admin != nil {
		f.admin.Close()
		f.admin = nil
	}
}

package replay_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
)

// fakeDurable is a replay.Durable kept in memory, whose availability and
// write progress a test controls.
type fakeDurable struct {
	*memory.Ring

	down    atomic.Bool
	calls   atomic.Int64 // durable operations attempted
	reads   atomic.Int64 // of which reads (not writes or pings)
	batches atomic.Int64

	mu   sync.Mutex
	gate chan struct{} // when non-nil, AppendBatch waits for it to close
}

func newFakeDurable(t testing.TB) *fakeDurable {
	t.Helper()
	r, err := memory.New(memory.Config{MaxRecords: 1 << 20, MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	return &fakeDurable{Ring: r}
}

func (f *fakeDurable) check(ctx context.Context) error {
	f.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.down.Load() {
		return fmt.Errorf("fake: %w: connection refused", replay.ErrUnavailable)
	}
	return nil
}

// hold makes AppendBatch wait until release.
func (f *fakeDurable) hold() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gate = make(chan struct{})
}

func (f *fakeDurable) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gate != nil {
		close(f.gate)
		f.gate = nil
	}
}

func (f *fakeDurable) AppendBatch(ctx context.Context, recs []replay.Record) error {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return fmt.Errorf("fake: %w: %w", replay.ErrUnavailable, ctx.Err())
		}
	}
	if err := f.check(ctx); err != nil {
		return err
	}
	f.batches.Add(1)
	for _, r := range recs {
		if err := f.Ring.Append(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeDurable) Append(ctx context.Context, r replay.Record) error {
	return f.AppendBatch(ctx, []replay.Record{r})
}

func (f *fakeDurable) ReadPartition(ctx context.Context, p int32, after int64, limit int) ([]replay.Record, error) {
	f.reads.Add(1)
	if err := f.check(ctx); err != nil {
		return nil, err
	}
	return f.Ring.ReadPartition(ctx, p, after, limit)
}

func (f *fakeDurable) ReadPartitionBefore(ctx context.Context, p int32, after, before int64, limit int) ([]replay.Record, error) {
	recs, err := f.ReadPartition(ctx, p, after, limit)
	for i, r := range recs {
		if r.Offset >= before {
			return recs[:i], err
		}
	}
	return recs, err
}

func (f *fakeDurable) ReadThread(ctx context.Context, thread string, after uint64, limit int) ([]replay.Record, error) {
	f.reads.Add(1)
	if err := f.check(ctx); err != nil {
		return nil, err
	}
	return f.Ring.ReadThread(ctx, thread, after, limit)
}

func (f *fakeDurable) Bounds(ctx context.Context, p int32) (int64, int64, bool, error) {
	f.reads.Add(1)
	if err := f.check(ctx); err != nil {
		return 0, 0, false, err
	}
	return f.Ring.Bounds(ctx, p)
}

func (f *fakeDurable) Partitions(ctx context.Context) ([]int32, error) {
	f.reads.Add(1)
	if err := f.check(ctx); err != nil {
		return nil, err
	}
	return f.Ring.Partitions(ctx)
}

func (f *fakeDurable) Clear(ctx context.Context) (int64, error) {
	if err := f.check(ctx); err != nil {
		return 0, err
	}
	return f.Ring.Clear(ctx)
}

func (f *fakeDurable) Ping(ctx context.Context) error { return f.check(ctx) }

var _ replay.Durable = (*fakeDurable)(nil)

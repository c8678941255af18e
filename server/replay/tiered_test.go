package replay_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
	"github.com/dashstream/dashstream/server/replay/replaytest"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newRing(t testing.TB, maxRecords int) *memory.Ring {
	t.Helper()
	r, err := memory.New(memory.Config{MaxRecords: maxRecords, MaxBytes: replaytest.MinValueBytes})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// newTiered starts a Tiered store closed at cleanup.
func newTiered(t testing.TB, front replay.Front, durable replay.Durable, cfg replay.TieredConfig) *replay.Tiered {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLog
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = 5 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 50 * time.Millisecond
	}
	ts, err := replay.NewTiered(front, durable, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = ts.Close(ctx)
	})
	return ts
}

// flushing makes a Tiered store read its own writes: it flushes the write
// queue before every read, so the conformance suite, which reads right
// after appending, also sees records that only reached the durable tier.
// The gateway never needs this: what it reads from the durable tier was
// written long before.
type flushing struct{ *replay.Tiered }

func (f flushing) flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return f.Flush(ctx)
}

func (f flushing) ReadPartition(ctx context.Context, p int32, after int64, limit int) ([]replay.Record, error) {
	if err := f.flush(ctx); err != nil {
		return nil, err
	}
	return f.Tiered.ReadPartition(ctx, p, after, limit)
}

func (f flushing) ReadThread(ctx context.Context, thread string, after uint64, limit int) ([]replay.Record, error) {
	if err := f.flush(ctx); err != nil {
		return nil, err
	}
	return f.Tiered.ReadThread(ctx, thread, after, limit)
}

func (f flushing) Bounds(ctx context.Context, p int32) (int64, int64, bool, error) {
	if err := f.flush(ctx); err != nil {
		return 0, 0, false, err
	}
	return f.Tiered.Bounds(ctx, p)
}

func (f flushing) Partitions(ctx context.Context) ([]int32, error) {
	if err := f.flush(ctx); err != nil {
		return nil, err
	}
	return f.Tiered.Partitions(ctx)
}

func (f flushing) Clear(ctx context.Context) (int64, error) {
	if err := f.flush(ctx); err != nil {
		return 0, err
	}
	return f.Tiered.Clear(ctx)
}

func rec(p int32, o int64, threads ...replay.ThreadSeq) replay.Record {
	return replay.Record{Partition: p, Offset: o, Value: fmt.Appendf(nil, "p%d/o%d", p, o), Threads: threads}
}

func appendAll(t testing.TB, s replay.Store, recs ...replay.Record) {
	t.Helper()
	for _, r := range recs {
		if err := s.Append(ctxT(t), r); err != nil {
			t.Fatal(err)
		}
	}
}

func offsetsOf(recs []replay.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Offset
	}
	return out
}

func rangeOf(from, to int64) []int64 {
	var out []int64
	for o := from; o <= to; o++ {
		out = append(out, o)
	}
	return out
}

// waitFor polls cond until it holds or a generous deadline passes; tests
// never assert durations.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTieredConformance_FakeDurable(t *testing.T) {
	for _, ringSize := range []int{replaytest.MinRecords, 100} {
		t.Run(fmt.Sprintf("ring%d", ringSize), func(t *testing.T) {
			replaytest.Run(t, func(t *testing.T) replay.Store {
				return flushing{newTiered(t, newRing(t, ringSize), newFakeDurable(t), replay.TieredConfig{})}
			})
		})
	}
}

func TestNewTieredRejectsMissingTiersAndBadConfig(t *testing.T) {
	if _, err := replay.NewTiered(nil, newFakeDurable(t), replay.TieredConfig{}); err == nil {
		t.Error("accepted a nil front")
	}
	if _, err := replay.NewTiered(newRing(t, 10), nil, replay.TieredConfig{}); err == nil {
		t.Error("accepted a nil durable store")
	}
	for _, cfg := range []replay.TieredConfig{{QueueSize: -1}, {QueueBytes: -1}, {BatchSize: -1}, {WriteTimeout: -1}, {MaxBackoff: -time.Second}} {
		if _, err := replay.NewTiered(newRing(t, 10), newFakeDurable(t), cfg); err == nil {
			t.Errorf("accepted %+v", cfg)
		}
	}
}

func TestTieredReadInsideTheRingDoesNotTouchTheDurableStore(t *testing.T) {
	d := newFakeDurable(t)
	ts := newTiered(t, newRing(t, 1000), d, replay.TieredConfig{})
	for o := range int64(100) {
		appendAll(t, ts, rec(0, 10+o))
	}
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	calls := d.calls.Load()
	for _, after := range []int64{9, 10, 50, 109, 500} {
		if _, err := ts.ReadPartition(ctxT(t), 0, after, 10); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.calls.Load() - calls; got != 0 {
		t.Fatalf("reads inside the ring's range made %d durable calls", got)
	}
	// Cursor 8 is below the ring's range (10 is its oldest, 9 may exist
	// elsewhere): the durable store is asked for offsets below 10 only.
	got, err := ts.ReadPartition(ctxT(t), 0, 8, 5)
	if err != nil || !slices.Equal(offsetsOf(got), []int64{10, 11, 12, 13, 14}) {
		t.Fatalf("ReadPartition(after=8) = %v, %v", offsetsOf(got), err)
	}
	if d.calls.Load() == calls {
		t.Fatal("a read below the ring's range did not consult the durable store")
	}
	if s := ts.Stats(); s.MemoryHits == 0 || s.DurableMisses == 0 {
		t.Errorf("stats = %+v", s)
	}
}

func TestTieredPagesFromTheDurableStoreIntoTheRingExactly(t *testing.T) {
	d := newFakeDurable(t)
	ts := newTiered(t, newRing(t, 50), d, replay.TieredConfig{})
	for o := range int64(200) {
		appendAll(t, ts, rec(0, o))
	}
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// The ring holds 150..199, the durable store 0..199. Upstream's bug
	// (§4.2) merged a capped Redis page with every newer memory record and
	// skipped the middle; every page size must visit 0..199 exactly once.
	for _, limit := range []int{1, 7, 49, 50, 51, 149, 150, 151, 1000} {
		var all []replay.Record
		cursor := int64(-1)
		for {
			page, err := ts.ReadPartition(ctxT(t), 0, cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			cursor = page[len(page)-1].Offset
		}
		if !slices.Equal(offsetsOf(all), rangeOf(0, 199)) {
			t.Fatalf("limit %d: read %v", limit, offsetsOf(all))
		}
	}
}

func TestTieredAppendNeverBlocksAndCountsDrops(t *testing.T) {
	d := newFakeDurable(t)
	d.hold() // the durable store hangs
	ts := newTiered(t, newRing(t, 1000), d, replay.TieredConfig{QueueSize: 10, BatchSize: 4, WriteTimeout: time.Minute})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for o := range int64(100) {
			_ = ts.Append(context.Background(), rec(0, o))
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Append blocked while the durable store hung")
	}
	got, err := ts.ReadPartition(ctxT(t), 0, -1, 1000)
	if err != nil || len(got) != 100 {
		t.Fatalf("memory holds %d records, %v", len(got), err)
	}
	if s := ts.Stats(); s.WriteDropped == 0 {
		t.Fatalf("no drops counted: %+v", s)
	}
	d.release()
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	s := ts.Stats()
	if s.Written+s.WriteDropped != 100 || s.Queued != 0 {
		t.Fatalf("written %d + dropped %d != 100 appended (queued %d)", s.Written, s.WriteDropped, s.Queued)
	}
}

func TestTieredQueueIsBoundedInBytes(t *testing.T) {
	d := newFakeDurable(t)
	d.hold()
	ts := newTiered(t, newRing(t, 1000), d, replay.TieredConfig{QueueBytes: 1000, WriteTimeout: time.Minute})
	big := make([]byte, 300)
	for o := range int64(10) {
		appendAll(t, ts, replay.Record{Partition: 0, Offset: o, Value: big})
	}
	if s := ts.Stats(); s.QueuedBytes > 1000 || s.WriteDropped < 7 {
		t.Fatalf("queued %d bytes, dropped %d; want ≤ 1000 bytes, ≥ 7 drops", s.QueuedBytes, s.WriteDropped)
	}
	d.release()
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if s := ts.Stats(); s.Written+s.WriteDropped != 10 || s.QueuedBytes != 0 {
		t.Fatalf("after the flush: %+v", s)
	}
}

func TestTieredDegradesAndRecoversByItself(t *testing.T) {
	d := newFakeDurable(t)
	ts := newTiered(t, newRing(t, 20), d, replay.TieredConfig{QueueSize: 1000, BatchSize: 8})
	for o := range int64(20) {
		appendAll(t, ts, rec(0, o, replay.ThreadSeq{Thread: "t", Seq: uint64(o) + 1}))
	}
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	d.down.Store(true)
	for o := int64(20); o < 40; o++ {
		appendAll(t, ts, rec(0, o, replay.ThreadSeq{Thread: "t", Seq: uint64(o) + 1}))
	}
	waitFor(t, "health to turn degraded", func() bool { return !ts.Health().DurableOK })
	h := ts.Health()
	if h.LastError == "" || h.LastErrorAt.IsZero() {
		t.Fatalf("health = %+v, want the last error", h)
	}

	// The ring holds 20..39; a cursor below it gets the ring's records and
	// ErrUnavailable, without waiting for the durable store.
	reads := d.reads.Load()
	got, err := ts.ReadPartition(ctxT(t), 0, 5, 100)
	if !errors.Is(err, replay.ErrUnavailable) || !slices.Equal(offsetsOf(got), rangeOf(20, 39)) {
		t.Fatalf("ReadPartition(after=5) while down = %v, %v", offsetsOf(got), err)
	}
	got, err = ts.ReadPartition(ctxT(t), 0, 25, 100)
	if err != nil || !slices.Equal(offsetsOf(got), rangeOf(26, 39)) {
		t.Fatalf("ReadPartition(after=25) while down = %v, %v", offsetsOf(got), err)
	}
	byThread, err := ts.ReadThread(ctxT(t), "t", 0, 100)
	if !errors.Is(err, replay.ErrUnavailable) || len(byThread) != 20 {
		t.Fatalf("ReadThread while down = %d records, %v", len(byThread), err)
	}
	if _, _, ok, err := ts.Bounds(ctxT(t), 0); !ok || !errors.Is(err, replay.ErrUnavailable) {
		t.Fatalf("Bounds while down: ok=%v, %v", ok, err)
	}
	if ps, err := ts.Partitions(ctxT(t)); !slices.Equal(ps, []int32{0}) || !errors.Is(err, replay.ErrUnavailable) {
		t.Fatalf("Partitions while down: %v, %v", ps, err)
	}
	if got := d.reads.Load() - reads; got != 0 {
		t.Fatalf("reads while degraded waited for the durable store %d times; they must fail fast", got)
	}

	d.down.Store(false)
	waitFor(t, "health to recover", func() bool { return ts.Health().DurableOK })
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// The batch held during the outage was retried: nothing was lost.
	got, err = ts.ReadPartition(ctxT(t), 0, -1, 100)
	if err != nil || !slices.Equal(offsetsOf(got), rangeOf(0, 39)) {
		t.Fatalf("after recovery = %v, %v", offsetsOf(got), err)
	}
	s := ts.Stats()
	if s.WriteFailures == 0 || s.Written != 40 || s.WriteDropped != 0 || s.DurableErrors == 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestTieredClearDiscardsQueuedWrites(t *testing.T) {
	d := newFakeDurable(t)
	d.hold()
	ts := newTiered(t, newRing(t, 100), d, replay.TieredConfig{BatchSize: 2})
	for o := range int64(10) {
		appendAll(t, ts, rec(0, o))
	}
	d.release()
	if _, err := ts.Clear(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	got, err := ts.ReadPartition(ctxT(t), 0, -1, 100)
	if err != nil || len(got) != 0 {
		t.Fatalf("after Clear: %v, %v; queued writes came back", offsetsOf(got), err)
	}
	s := ts.Stats()
	if s.Written+s.WriteCleared+s.WriteDropped != 10 {
		t.Fatalf("written %d + cleared %d + dropped %d != 10", s.Written, s.WriteCleared, s.WriteDropped)
	}
}

func TestTieredCloseDrainsTheQueue(t *testing.T) {
	d := newFakeDurable(t)
	ts, err := replay.NewTiered(newRing(t, 100), d, replay.TieredConfig{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	for o := range int64(50) {
		appendAll(t, ts, rec(0, o))
	}
	if err := ts.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Ring.ReadPartition(ctxT(t), 0, -1, 100); len(got) != 50 {
		t.Fatalf("the durable store got %d of 50 records", len(got))
	}
	if err := ts.Flush(ctxT(t)); !errors.Is(err, replay.ErrClosed) {
		t.Fatalf("Flush after Close = %v", err)
	}
	appendAll(t, ts, rec(0, 50)) // memory only now
	if s := ts.Stats(); s.WriteDropped != 1 {
		t.Fatalf("append after Close: dropped %d", s.WriteDropped)
	}
	if err := ts.Close(ctxT(t)); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestTieredCloseGivesUpWhenItsContextEnds(t *testing.T) {
	d := newFakeDurable(t)
	d.down.Store(true)
	ts, err := replay.NewTiered(newRing(t, 100), d, replay.TieredConfig{Logger: quietLog, RetryBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for o := range int64(30) {
		appendAll(t, ts, rec(0, o))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := ts.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want the deadline", err)
	}
	s := ts.Stats()
	if s.WriteDropped+s.Written != 30 || s.Queued != 0 {
		t.Fatalf("after Close: written %d dropped %d queued %d", s.Written, s.WriteDropped, s.Queued)
	}
}

func TestTieredRecordsBelowTheRingGoToTheDurableStoreOnly(t *testing.T) {
	d := newFakeDurable(t)
	ts := newTiered(t, newRing(t, 100), d, replay.TieredConfig{})
	appendAll(t, ts, rec(0, 50), rec(0, 51), rec(0, 10), rec(0, 52))
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if s := ts.Stats(); s.FrontSkipped != 1 {
		t.Fatalf("FrontSkipped = %d", s.FrontSkipped)
	}
	got, err := ts.ReadPartition(ctxT(t), 0, -1, 10)
	if err != nil || !slices.Equal(offsetsOf(got), []int64{10, 50, 51, 52}) {
		t.Fatalf("read = %v, %v", offsetsOf(got), err)
	}
}

func TestTieredThreadReadsMergeBothTiers(t *testing.T) {
	d := newFakeDurable(t)
	ts := newTiered(t, newRing(t, 5), d, replay.TieredConfig{})
	for o := range int64(12) {
		appendAll(t, ts, rec(int32(o%2), o, replay.ThreadSeq{Thread: "t", Seq: uint64(o) + 1}))
	}
	if err := ts.Flush(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	// An entry only the durable store knows, between the ring's.
	if err := d.Ring.Append(ctxT(t), rec(5, 100, replay.ThreadSeq{Thread: "t", Seq: 100})); err != nil {
		t.Fatal(err)
	}
	appendAll(t, ts, rec(0, 200, replay.ThreadSeq{Thread: "t", Seq: 200}))
	var seqs []uint64
	after := uint64(0)
	for {
		page, err := ts.ReadThread(ctxT(t), "t", after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			seqs = append(seqs, r.Threads[0].Seq)
		}
		after = page[len(page)-1].Threads[0].Seq
	}
	if want := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 100, 200}; !slices.Equal(seqs, want) {
		t.Fatalf("sequences %v, want %v", seqs, want)
	}
}

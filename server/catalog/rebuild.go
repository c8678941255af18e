package catalog

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/server/source"
)

// KafkaConfig is the Kafka the rebuild reads.
type KafkaConfig struct {
	Brokers []string
	Topic   string
	// ClientOpts are extra franz-go options (security).
	ClientOpts []kgo.Opt
	// MaxPayloadBytes is the largest value decoded, as on the live path.
	MaxPayloadBytes int
	// Poll is how often log start offsets (retention) and the topic's
	// partitions are read again (30 s).
	Poll time.Duration
}

// Run builds the catalog from the history Kafka retains and keeps it
// within retention until ctx ends, reconnecting with back-off after a
// failure. Without brokers it returns at once (the live feed alone then
// fills the catalog, from partitions read from their first offset).
func (c *Catalog) Run(ctx context.Context) error {
	k := c.cfg.Kafka
	if len(k.Brokers) == 0 || k.Topic == "" {
		return nil
	}
	backoff := 500 * time.Millisecond
	for {
		err := c.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		c.cfg.Logger.Warn("run catalog: reading Kafka failed; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (c *Catalog) clientOpts() []kgo.Opt {
	k := c.cfg.Kafka
	maxBytes := k.MaxPayloadBytes
	if maxBytes <= 0 {
		maxBytes = protocol.DefaultMaxPayloadBytes
	}
	return append([]kgo.Opt{
		kgo.SeedBrokers(k.Brokers...),
		kgo.ClientID("dashstream-gateway-catalog"),
		kgo.FetchMaxPartitionBytes(int32(min(maxBytes+(1<<20), 1<<30))),
		kgo.FetchMaxBytes(int32(min(4*(maxBytes+(1<<20)), 1<<30))),
		kgo.BrokerMaxReadBytes(int32(min(4*(maxBytes+(1<<20))+(1<<20), 1<<30))),
		kgo.RetryTimeout(10 * time.Second),
	}, k.ClientOpts...)
}

// session runs one admin client and, while some partition is not yet
// handed over to the live feed, one reader, until a failure or ctx ends.
func (c *Catalog) session(ctx context.Context) error {
	admin, err := kgo.NewClient(c.clientOpts()...)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	began := time.Now()
	if err := c.refresh(ctx, adm, true); err != nil {
		return err
	}
	r := &reader{c: c, warned: map[int32]time.Time{}}
	defer r.close()
	poll := c.cfg.Kafka.Poll
	if poll <= 0 {
		poll = 30 * time.Second
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	wasBuilding := c.Building()
	for {
		if err := r.follow(); err != nil {
			return err
		}
		due := false
		if r.cl == nil {
			select { // nothing left to read: only retention to watch
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
				due = true
			}
		} else if err := r.poll(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-tick.C:
			due = true
		default:
		}
		if due {
			if err := c.refresh(ctx, adm, false); err != nil {
				return err
			}
		}
		if wasBuilding && !c.Building() {
			wasBuilding = false
			st := c.Stats()
			c.cfg.Logger.Info("run catalog: retained history read", "runs", st.Runs, "records", st.Records,
				"took", time.Since(began).Round(time.Millisecond))
		}
	}
}

// refresh reads the log start offsets (dropping what left retention) and,
// at the start of a session, the end offsets the rebuild must reach.
func (c *Catalog) refresh(ctx context.Context, adm *kadm.Client, first bool) error {
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	topic := c.cfg.Kafka.Topic
	starts, err := adm.ListStartOffsets(rctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("log start offsets of %s: %w", topic, err)
	}
	var ends kadm.ListedOffsets
	if first {
		if ends, err = adm.ListEndOffsets(rctx, topic); err == nil {
			err = ends.Error()
		}
		if err != nil {
			return fmt.Errorf("end offsets of %s: %w", topic, err)
		}
	}
	s := map[int32]int64{}
	starts.Each(func(o kadm.ListedOffset) { s[o.Partition] = o.Offset })
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range s {
		c.part(p) // a partition the live feed has not touched yet
	}
	if first {
		ends.Each(func(o kadm.ListedOffset) { c.part(o.Partition).target = o.Offset })
	}
	for _, ps := range c.parts {
		// A live partition that made no progress towards its target since
		// the last look ends on records the live feed skips (tombstones,
		// undecodable values): nothing more will come below the target.
		if ps.live && ps.target > 0 && ps.covered < ps.target-1 && ps.covered == ps.lastLook {
			ps.target = -1
		}
		ps.lastLook = ps.covered
	}
	c.trim(s)
	c.updateBuilding()
	return nil
}

// updateBuilding recomputes Building. c.mu held.
func (c *Catalog) updateBuilding() {
	c.building = false
	for _, ps := range c.parts {
		if ps.target > 0 && ps.covered < ps.target-1 && !ps.drained {
			c.building = true
			return
		}
	}
}

// reader is the rebuild's consumer: it reads the partitions the live feed
// does not own yet, from just after what the catalog covers.
type reader struct {
	c        *Catalog
	warned   map[int32]time.Time // when a partition's fetch error was last logged
	decoders []*protocol.Decoder // one per decoding goroutine
	cl       *kgo.Client
	reading  map[int32]bool
	idle     int
}

// follow starts reading partitions that need it and stops those the live
// feed took over; with none left it closes the consumer.
func (r *reader) follow() error {
	c := r.c
	add := map[int32]kgo.Offset{}
	var drop []int32
	open := false
	c.mu.RLock()
	for p, ps := range c.parts {
		switch {
		case !ps.live && !r.reading[p]:
			add[p] = kgo.NewOffset().At(ps.covered + 1)
			open = true
		case !ps.live:
			open = true
		case r.reading[p]:
			drop = append(drop, p)
		}
	}
	c.mu.RUnlock()
	if !open {
		r.close()
		return nil
	}
	topic := c.cfg.Kafka.Topic
	if r.cl == nil {
		cl, err := kgo.NewClient(append(c.clientOpts(),
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: add}),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		)...)
		if err != nil {
			return fmt.Errorf("reader: %w", err)
		}
		r.cl, r.reading = cl, map[int32]bool{}
	} else if len(add) > 0 {
		r.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: add})
	}
	for p := range add {
		r.reading[p] = true
	}
	if len(drop) > 0 {
		r.cl.RemoveConsumePartitions(map[string][]int32{topic: drop})
		for _, p := range drop {
			delete(r.reading, p)
		}
	}
	return nil
}

func (r *reader) close() {
	if r.cl != nil {
		r.cl.Close()
		r.cl, r.reading = nil, nil
	}
}

// decode decodes a poll's records, on every core for a large batch
// (decoding is most of the rebuild's work), keeping their order.
func (r *reader) decode(recs []*kgo.Record) []decoded {
	out := make([]decoded, len(recs))
	workers := min(runtime.GOMAXPROCS(0), len(recs)/256+1, maxDecoders)
	for len(r.decoders) < workers {
		r.decoders = append(r.decoders, protocol.NewDecoder(protocol.WithMaxPayloadBytes(r.c.cfg.Kafka.MaxPayloadBytes)))
	}
	var wg sync.WaitGroup
	chunk := (len(recs) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(recs))
		if lo >= hi {
			break
		}
		dec := r.decoders[w]
		wg.Add(1)
		go func() { // owned by this call, which waits for it
			defer wg.Done()
			limit := dec.MaxPayloadBytes()
			for i := lo; i < hi; i++ {
				rec := recs[i]
				d := decoded{p: rec.Partition, off: rec.Offset}
				if rec.Value != nil && len(rec.Value) <= limit {
					// The fetch buffer is not kept: the decoded message
					// copies what it holds.
					if msg, err := dec.Decode(rec.Value); err == nil {
						d.msg = msg
					}
				}
				out[i] = d
			}
		}()
	}
	wg.Wait()
	return out
}

// maxDecoders bounds the rebuild's decoding goroutines.
const maxDecoders = 8

// decoded is a record read by the rebuild, decoded outside the lock.
type decoded struct {
	p   int32
	off int64
	msg *pb.DashStreamMessage // nil: nothing to fold
}

// poll reads one batch and folds it in (what came before data that cannot
// be read first).
func (r *reader) poll(ctx context.Context) (err error) {
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	fetches := r.cl.PollRecords(pctx, 10_000)
	cancel()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ferr error
	var damaged []int32
	fetches.EachError(func(t string, p int32, err error) {
		switch {
		case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		case errors.Is(err, kgo.ErrClientClosed):
			ferr = err
		case source.Unreadable(err):
			damaged = append(damaged, p)
		default:
			// The client retries, or has already moved past what it could
			// not use (a batch it cannot parse); as the live source does,
			// say so and go on.
			if now := time.Now(); now.Sub(r.warned[p]) >= time.Minute {
				r.warned[p] = now // once a minute per partition: the client repeats itself
				r.c.cfg.Logger.Warn("run catalog: fetch error", "topic", t, "partition", p, "err", err)
			}
		}
	})
	if ferr != nil {
		return ferr
	}
	defer func() {
		for _, p := range damaged {
			if err == nil {
				err = r.skipUnreadable(ctx, p)
			}
		}
	}()
	n := fetches.NumRecords()
	if n == 0 {
		return r.idlePoll(ctx)
	}
	r.idle = 0
	recs := make([]*kgo.Record, 0, n)
	fetches.EachRecord(func(rec *kgo.Record) { recs = append(recs, rec) })
	batch := r.decode(recs)
	c := r.c
	c.mu.Lock()
	for _, d := range batch {
		c.fromRebuild(d.p, d.off, d.msg)
		if ps := c.parts[d.p]; ps != nil {
			ps.drained = false
		}
	}
	c.updateBuilding()
	c.mu.Unlock()
	return nil
}

// idlePoll handles a poll that returned nothing. Records below the end
// offset come back at once, so three empty polls in a row mean the rest of
// each partition read up to its end most likely holds no data record (only
// transaction markers, or compacted away): the history counts as read
// (Building). Nothing is skipped for it: were records still to come (the
// client backing off after an error), the reader folds them in as usual.
//
// A partition still short of its end then may sit on data the client
// cannot use and will not report again (a batch it could not parse and
// says it skipped, though the broker serves the same bytes again): it is
// probed, and skipped past when unreadable.
func (r *reader) idlePoll(ctx context.Context) error {
	r.idle++
	if r.idle < 3 {
		return nil
	}
	c := r.c
	var short []int32
	c.mu.Lock()
	for p := range r.reading {
		if ps := c.parts[p]; ps != nil {
			if !ps.drained && ps.target > 0 && ps.covered < ps.target-1 {
				short = append(short, p)
			}
			ps.drained = true
		}
	}
	c.updateBuilding()
	c.mu.Unlock()
	for _, p := range short {
		if err := r.skipUnreadable(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// skipUnreadable moves the rebuild past data of partition p that Kafka
// cannot read, as the live source does (its runs lose those records in
// both, alike).
func (r *reader) skipUnreadable(ctx context.Context, p int32) error {
	c := r.c
	c.mu.RLock()
	ps := c.parts[p]
	c.mu.RUnlock()
	if ps == nil {
		return nil
	}
	c.mu.RLock()
	from := ps.covered + 1
	c.mu.RUnlock()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	next, err := source.NextReadable(sctx, r.cl, c.cfg.Kafka.Topic, p, from)
	cancel()
	if err != nil {
		return fmt.Errorf("skipping unreadable data of partition %d: %w", p, err)
	}
	if next <= from {
		return nil // readable now: the error was passing
	}
	c.mu.Lock()
	if ps := c.part(p); !ps.live && ps.covered < next-1 {
		c.stats.Unreadable += uint64(next - 1 - ps.covered)
		ps.covered = next - 1
		ps.drained = false // more to read after it
	}
	c.updateBuilding()
	c.mu.Unlock()
	r.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{c.cfg.Kafka.Topic: {p: {Epoch: -1, Offset: next}}})
	c.cfg.Logger.Warn("run catalog: unreadable records skipped", "partition", p, "from", from, "to", next-1)
	return nil
}

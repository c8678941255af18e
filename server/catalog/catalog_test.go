package catalog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol/runsummary"
	"github.com/dashstream/dashstream/server/metrics"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/source"
)

// runsOf returns n test runs of three graphs, every fourth failing, a
// second apart.
func runsOf(prefix string, n int, base int64) []spec {
	graphs := []string{"research", "support", "review"}
	out := make([]spec, n)
	for i := range out {
		out[i] = spec{thread: fmt.Sprintf("%s-%03d", prefix, i), graph: graphs[i%3], start: base + int64(i)*1_000_000, nodes: 1 + i%3}
		if i%4 == 3 {
			out[i].fail = "tool timed out"
		}
	}
	return out
}

// checkRuns asserts that c holds exactly runs, each counted once.
func checkRuns(t *testing.T, c *Catalog, runs []spec) {
	t.Helper()
	for _, r := range runs {
		s, ok := c.Get(r.thread)
		if !ok {
			t.Errorf("%s: missing", r.thread)
			continue
		}
		want := runsummary.Completed
		if r.fail != "" {
			want = runsummary.Failed
		}
		if s.Status != want || s.MessageCount != len(r.messages()) || s.NodeCount != r.nodes || s.LLMCalls != r.nodes ||
			s.TotalTokens != uint64(120*r.nodes) || s.GraphName != r.graph || s.Error != r.fail || s.StartedAt != runsummary.Time(r.start) {
			t.Errorf("%s: %+v, want %s with %d messages, %d nodes, graph %s", r.thread, s, want, len(r.messages()), r.nodes, r.graph)
		}
	}
	if n := c.Stats().Runs; n != len(runs) {
		t.Errorf("%d runs in the catalog, want %d", n, len(runs))
	}
}

func TestCatalog_BuildsFromTheRetainedHistory(t *testing.T) {
	kc := cluster(t, 3)
	runs := runsOf("hist", 30, t0)
	produce(t, producer(t, kc.ListenAddrs()), runs...)
	c := newKafkaCatalog(kc.ListenAddrs(), 0)
	running(t, c)
	waitFor(t, "the history", func() bool { return !c.Building() && c.Stats().Runs == len(runs) })
	checkRuns(t, c, runs)
	got := threads(all(t, c))
	want := make([]string, len(runs))
	for i, r := range runs {
		want[len(runs)-1-i] = r.thread // newest first
	}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// liveSource runs the gateway's real source into c, starting each
// partition where start says.
func liveSource(t *testing.T, brokers []string, c *Catalog, start source.StartFunc) {
	t.Helper()
	src := source.New(source.Config{Brokers: brokers, Topic: topic, DLQTopic: "", AutoOffsetReset: "earliest",
		DecodeErrorPolicy: "skip", Refresh: 200 * time.Millisecond, Decoded: c.Observe},
		func(replay.Record) {}, start, metrics.New(), quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = src.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func endOffsets(t *testing.T, brokers []string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

func TestCatalog_LiveFeedAndRebuildNeverCountARecordTwice(t *testing.T) {
	cases := []struct {
		name  string
		start func(ends map[int32]int64) source.StartFunc
	}{
		{"live from the first offset", func(map[int32]int64) source.StartFunc { return nil }},
		{"live from the end", func(ends map[int32]int64) source.StartFunc {
			return func(_ context.Context, p int32) (int64, bool) { return ends[p], true }
		}},
		{"live from the middle", func(ends map[int32]int64) source.StartFunc {
			return func(_ context.Context, p int32) (int64, bool) { return ends[p] / 2, true }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kc := cluster(t, 3)
			prod := producer(t, kc.ListenAddrs())
			history := runsOf("old", 40, t0)
			produce(t, prod, history...)
			c := newKafkaCatalog(kc.ListenAddrs(), 0)
			liveSource(t, kc.ListenAddrs(), c, tc.start(endOffsets(t, kc.ListenAddrs())))
			running(t, c)
			fresh := runsOf("new", 20, t0+3600_000_000)
			for _, r := range fresh { // while both feeds run
				produce(t, prod, r)
			}
			want := append(history, fresh...)
			waitFor(t, "every run, complete", func() bool {
				if c.Stats().Runs != len(want) || c.Building() {
					return false
				}
				s, _ := c.Get(fresh[len(fresh)-1].thread)
				return s.Status == runsummary.Completed || s.Status == runsummary.Failed
			})
			// More runs, one at a time, until the live feed has taken every
			// partition over (it does at its first record right after what
			// the rebuild covered).
			var tail []spec
			waitFor(t, "every partition handed over to the live feed", func() bool {
				c.mu.RLock()
				live := len(c.parts) == 3
				for _, ps := range c.parts {
					live = live && ps.live
				}
				c.mu.RUnlock()
				if !live {
					r := spec{thread: fmt.Sprintf("tail-%d", len(tail)), graph: "research", start: t0 + 7200_000_000 + int64(len(tail))*1e6, nodes: 1}
					produce(t, prod, r)
					tail = append(tail, r)
					time.Sleep(20 * time.Millisecond)
				}
				return live
			})
			// Every partition is the live feed's now: the next run comes by it.
			live := c.Stats().Live
			last := spec{thread: "last", graph: "research", start: t0 + 9000_000_000, nodes: 2}
			produce(t, prod, last)
			waitFor(t, "the last run", func() bool {
				s, _ := c.Get("last")
				return s.Status == runsummary.Completed
			})
			checkRuns(t, c, append(append(want, tail...), last))
			if got := c.Stats().Live - live; got != uint64(len(last.messages())) {
				t.Errorf("the live feed folded in %d records of the last run, want all %d", got, len(last.messages()))
			}
		})
	}
}

func TestCatalog_TwoInstancesReadingTheSameTopicBuildTheSameCatalog(t *testing.T) {
	kc := cluster(t, 4)
	prod := producer(t, kc.ListenAddrs())
	produce(t, prod, runsOf("a", 25, t0)...)
	ends := endOffsets(t, kc.ListenAddrs())
	// One instance's live feed starts at the first offset, the other's at
	// the end; they start at different moments.
	one := newKafkaCatalog(kc.ListenAddrs(), 0)
	liveSource(t, kc.ListenAddrs(), one, nil)
	running(t, one)
	produce(t, prod, runsOf("b", 10, t0+1000_000_000)...)
	two := newKafkaCatalog(kc.ListenAddrs(), 0)
	liveSource(t, kc.ListenAddrs(), two, func(_ context.Context, p int32) (int64, bool) { return ends[p], true })
	running(t, two)
	produce(t, prod, runsOf("c", 10, t0+2000_000_000)...)
	for _, c := range []*Catalog{one, two} {
		t.Cleanup(func() { t.Log(c.debugString()) })
		waitFor(t, "45 runs", func() bool {
			s, _ := c.Get("c-009")
			return c.Stats().Runs == 45 && s.Status == runsummary.Completed && !c.Building()
		})
	}
	a, b := mustJSON(t, all(t, one)), mustJSON(t, all(t, two))
	if a != b {
		t.Errorf("the two catalogs differ:\n%s\n%s", a, b)
	}
	if ga, gb := mustJSON(t, one.Graphs(0, 0)), mustJSON(t, two.Graphs(0, 0)); ga != gb {
		t.Errorf("graph aggregates differ:\n%s\n%s", ga, gb)
	}
}

func TestCatalog_RetentionDropsGoneRunsAndMarksTrimmedOnesIncomplete(t *testing.T) {
	kc := cluster(t, 1)
	prod := producer(t, kc.ListenAddrs())
	gone := spec{thread: "gone", graph: "g", start: t0, nodes: 2}             // offsets 0..7
	trimmed := spec{thread: "trimmed", graph: "g", start: t0 + 1e6, nodes: 2} // offsets 8..15
	kept := spec{thread: "kept", graph: "g", start: t0 + 2e6, nodes: 1}       // offsets 16..20
	produce(t, prod, gone, trimmed, kept)
	c := newKafkaCatalog(kc.ListenAddrs(), 0)
	running(t, c)
	waitFor(t, "three runs", func() bool { return c.Stats().Runs == 3 && !c.Building() })

	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var to kadm.Offsets
	to.Add(kadm.Offset{Topic: topic, Partition: 0, At: 10}) // inside "trimmed"
	if _, err := kadm.NewClient(cl).DeleteRecords(context.Background(), to); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "retention applied", func() bool { return c.Stats().DroppedByRetention == 1 })
	if _, ok := c.Get("gone"); ok {
		t.Error("a run whose records all left retention is still listed")
	}
	s, ok := c.Get("trimmed")
	if !ok || s.Status != runsummary.Incomplete || s.Outcome != runsummary.Completed || !s.Trimmed {
		t.Errorf("trimmed run: %+v, want incomplete (outcome completed, trimmed)", s)
	}
	if s, _ := c.Get("kept"); s.Status != runsummary.Completed {
		t.Errorf("kept run: %s", s.Status)
	}
	p := c.Query(Query{Status: runsummary.Incomplete})
	if p.Total != 1 || len(p.Runs) != 1 || p.Runs[0].ThreadID != "trimmed" {
		t.Errorf("status=incomplete: %+v", p)
	}
}

func TestCatalog_RebuildsAfterARestartOnTheSameDataFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kafka")
	cfg := source.EmbeddedConfig{DataDir: dir, Topics: []string{topic}, Partitions: 3, Retention: time.Hour, MaxBytes: 1 << 30}
	emb, err := source.StartEmbedded(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	runs := runsOf("r", 20, t0)
	prod, err := kgo.NewClient(kgo.SeedBrokers(emb.Brokers()...), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	produce(t, prod, runs...)
	prod.Close()
	before := newKafkaCatalog(emb.Brokers(), 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = before.Run(ctx) }()
	waitFor(t, "the first build", func() bool { return before.Stats().Runs == len(runs) && !before.Building() })
	cancel()
	<-done
	emb.Close()

	emb, err = source.StartEmbedded(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	after := newKafkaCatalog(emb.Brokers(), 0)
	running(t, after)
	waitFor(t, "the rebuild", func() bool { return after.Stats().Runs == len(runs) && !after.Building() })
	checkRuns(t, after, runs)
	if a, b := mustJSON(t, all(t, before)), mustJSON(t, all(t, after)); a != b {
		t.Errorf("the catalog after the restart differs:\n%s\n%s", a, b)
	}
}

func TestCatalog_EvictsTheEarliestStartedRunsPastItsBound(t *testing.T) {
	c := New(Config{MaxRuns: 3, Logger: quiet})
	runs := runsOf("r", 5, t0)
	off := int64(0)
	for _, r := range runs {
		off = feed(c, 0, off, r.messages()...)
	}
	if got := threads(all(t, c)); !slices.Equal(got, []string{"r-004", "r-003", "r-002"}) {
		t.Fatalf("kept %v, want the three started last", got)
	}
	if st := c.Stats(); st.EvictedByCount != 2 {
		t.Errorf("evicted %d, want 2", st.EvictedByCount)
	}
	// A late record of an evicted run does not bring a fragment of it back,
	// and a run older than everything kept is not kept.
	off = feed(c, 0, off, event("r-000", 99, t0+10e6, 0, "", nil))
	feed(c, 0, off, spec{thread: "ancient", graph: "g", start: t0 - 1e9, nodes: 1}.messages()...)
	if got := threads(all(t, c)); !slices.Equal(got, []string{"r-004", "r-003", "r-002"}) {
		t.Errorf("after late records: %v", got)
	}
	if p := c.Query(Query{}); p.Total != 3 {
		t.Errorf("total %d, want 3", p.Total)
	}
}

func TestCatalog_SummaryStaysSmall(t *testing.T) {
	c := New(Config{Logger: quiet})
	feed(c, 0, 0, spec{thread: "0b5e1c3a-8d4f-4a51-9a43-7f6c2d1e9b80", graph: "research_assistant", start: t0, nodes: 12, fail: "the search tool returned 503 three times"}.messages()...)
	if b := c.Stats().Bytes; b > 1024 {
		t.Errorf("a finished run holds %d bytes, want ≤ 1 KB", b)
	}
}

// TestCatalog_TheRebuildSkipsDataKafkaCannotRead: a batch in the middle of
// the embedded broker's segment is damaged on disk; the rebuild skips what
// cannot be read (as the live source does) and finishes, instead of
// retrying the same fetch for ever.
func TestCatalog_TheRebuildSkipsDataKafkaCannotRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kafka")
	emb, err := source.StartEmbedded(source.EmbeddedConfig{DataDir: dir, Topics: []string{topic}, Partitions: 1,
		Retention: time.Hour, MaxBytes: 1 << 30, TrimEvery: time.Hour}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	prod := producer(t, emb.Brokers())
	runs := runsOf("d", 40, t0)
	for _, r := range runs { // a batch per run
		produce(t, prod, r)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "partitions", topic+"-0", "*.dat"))
	if len(segs) == 0 {
		t.Fatal("no segment")
	}
	raw, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		raw[len(raw)/2+i] ^= 0xff
	}
	if err := os.WriteFile(segs[0], raw, 0o644); err != nil {
		t.Fatal(err)
	}
	c := newKafkaCatalog(emb.Brokers(), 0)
	running(t, c)
	t.Cleanup(func() { t.Log(c.debugString()) })
	// Depending on where the damage falls, Kafka cannot read a batch, or
	// serves a record that does not decode; either way the rebuild goes on.
	waitFor(t, "the rebuild past the damage", func() bool {
		st := c.Stats()
		return !c.Building() && st.Unreadable+st.Undecodable > 0
	})
	st := c.Stats()
	whole := 0
	for _, r := range runs {
		if s, ok := c.Get(r.thread); ok && s.MessageCount == len(r.messages()) {
			whole++
		}
	}
	if whole < 30 || whole == len(runs) {
		t.Errorf("%d of %d runs whole after skipping %d unreadable offsets and %d undecodable records; want all but the damaged batch's",
			whole, len(runs), st.Unreadable, st.Undecodable)
	}
}

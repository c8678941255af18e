package catalog

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol/runsummary"
	"github.com/dashstream/dashstream/server/internal/benchtable"
	"github.com/dashstream/dashstream/server/source"
)

// BenchmarkCatalog_BuildFromRetainedRecords builds the catalog from
// 1,000,000 records retained by the embedded broker (its log on disk, as
// in make run), against a plain franz-go consumer reading the same records
// without decoding them: the Kafka read floor, measured in the same run.
func BenchmarkCatalog_BuildFromRetainedRecords(b *testing.B) {
	const records = 1_000_000
	emb, err := source.StartEmbedded(source.EmbeddedConfig{DataDir: filepath.Join(b.TempDir(), "kafka"), Topics: []string{topic},
		Partitions: 4, Retention: 24 * time.Hour, MaxBytes: 1 << 40}, quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer emb.Close()
	prod, err := kgo.NewClient(kgo.SeedBrokers(emb.Brokers()...), kgo.DefaultProduceTopic(topic), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	n, bytes := 0, 0
	for i := 0; n < records; i++ {
		r := spec{thread: fmt.Sprintf("run-%07d", i), graph: []string{"research", "support", "review"}[i%3], start: t0 + int64(i)*1000, nodes: 3}
		if i%7 == 0 {
			r.fail = "the search tool returned 503"
		}
		var batch []*kgo.Record
		for _, m := range r.messages() {
			if n == records {
				break
			}
			v := encode(b, m)
			bytes += len(v)
			batch = append(batch, &kgo.Record{Key: []byte(r.thread), Value: v})
			n++
		}
		for _, rec := range batch {
			prod.Produce(context.Background(), rec, func(_ *kgo.Record, err error) {
				if err != nil {
					b.Error(err)
				}
			})
		}
	}
	if err := prod.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	prod.Close()
	b.Logf("%d records, %d value bytes, retained on disk", records, bytes)

	floor := func() time.Duration {
		began := time.Now()
		cl, err := kgo.NewClient(kgo.SeedBrokers(emb.Brokers()...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		for got := 0; got < records; {
			got += cl.PollRecords(context.Background(), 10_000).NumRecords()
		}
		return time.Since(began)
	}
	build := func() (time.Duration, Stats) {
		c := newKafkaCatalog(emb.Brokers(), 0)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		began := time.Now()
		go func() { defer close(done); _ = c.Run(ctx) }()
		for c.Stats().Records < records {
			time.Sleep(time.Millisecond)
		}
		took := time.Since(began)
		cancel()
		<-done
		return took, c.Stats()
	}
	b.ResetTimer()
	var ours, base time.Duration
	var st Stats
	for range b.N {
		base = floor()
		ours, st = build()
	}
	rate, baseRate := float64(records)/ours.Seconds(), float64(records)/base.Seconds()
	b.ReportMetric(rate, "records/s")
	b.ReportMetric(baseRate, "floor-records/s")
	b.Logf("built %d runs from %d records in %v (%.0f records/s); franz-go alone read them in %v (%.0f records/s)",
		st.Runs, st.Records, ours.Round(time.Millisecond), rate, base.Round(time.Millisecond), baseRate)
	benchtable.Print("catalog build from 1M retained records (records/s)", fmt.Sprintf("%.0f", rate), fmt.Sprintf("%.0f (franz-go read, no decode)", baseRate),
		fmt.Sprintf("%.2f", rate/baseRate), "≥ 200000", rate >= 200_000)
}

// hundredK returns a catalog of 100,000 runs (12 messages each, a fifth
// failed, five graphs).
func hundredK(b testing.TB) *Catalog {
	c := New(Config{Logger: quiet})
	graphs := []string{"research_assistant", "support_triage", "code_review", "essay_refiner", "market_research"}
	off := int64(0)
	for i := range 100_000 {
		r := spec{thread: fmt.Sprintf("%08x-1c3a-4d4f-9a43-7f6c2d1e%04x", i*2654435761, i%65536), graph: graphs[i%5], start: t0 + int64(i)*37_000, nodes: 3}
		if i%5 == 2 {
			r.fail = fmt.Sprintf("tool %d timed out after 30 s", i%17)
		}
		off = feed(c, int32(i%4), off, r.messages()...)
	}
	return c
}

// naivePage is the baseline: copy every run under the lock, sort, filter,
// cut a page (what a catalog without an ordered index would do).
func naivePage(c *Catalog, q Query) []runsummary.Summary {
	c.mu.RLock()
	rows := make([]*entry, 0, len(c.runs))
	for _, e := range c.runs {
		rows = append(rows, e)
	}
	c.mu.RUnlock()
	sort.Slice(rows, func(i, j int) bool { return newerFirst(rows[i].indexed(), rows[j].indexed()) })
	var out []runsummary.Summary
	for _, e := range rows {
		if (q.Status == "" || e.sum.Status == q.Status) && (q.Graph == "" || e.sum.GraphName == q.Graph) && e.sum.Matches(q.Text) {
			out = append(out, e.sum.Priced(c.cfg.Prices))
			if len(out) == q.Limit {
				break
			}
		}
	}
	return out
}

func p99(lat []time.Duration) time.Duration {
	slices.Sort(lat)
	return lat[(len(lat)*99+99)/100-1]
}

// sample runs fn for about two seconds (at least 200 times) and returns the
// latencies.
func sample(fn func()) []time.Duration {
	var lat []time.Duration
	end := time.Now().Add(2 * time.Second)
	for len(lat) < 200 || time.Now().Before(end) {
		t := time.Now()
		fn()
		lat = append(lat, time.Since(t))
	}
	return lat
}

// BenchmarkAPI_RunsPage100k measures GET /api/runs (handler and JSON) on
// 100,000 runs, p99 over a two-second sample, against the naive
// sort-everything page in the same run.
func BenchmarkAPI_RunsPage100k(b *testing.B) {
	c := hundredK(b)
	mux := http.NewServeMux()
	c.Routes(mux, nil)
	cases := []struct{ name, query string }{
		{"first page", "limit=50"},
		{"filtered page", "limit=50&status=failed&graph=code_review"},
		{"text search", "limit=50&q=timed+out+after"},
		{"deep page", "limit=50&since=" + rfc3339(runsummary.Time(t0+50_000*37_000)) + "&status=completed"},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			q, err := ParseQuery(values(tc.query))
			if err != nil {
				b.Fatal(err)
			}
			var ours, base []time.Duration
			for range b.N {
				ours = sample(func() {
					w := httptest.NewRecorder()
					mux.ServeHTTP(w, httptest.NewRequest("GET", "/api/runs?"+tc.query, nil))
					if w.Code != 200 {
						b.Fatal(w.Body.String())
					}
				})
				base = sample(func() { naivePage(c, q) })
			}
			po, pb := p99(ours), p99(base)
			b.ReportMetric(float64(ours[len(ours)/2].Microseconds())/1000, "p50-ms") // sorted by p99
			b.ReportMetric(float64(po.Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(pb.Microseconds())/1000, "naive-p99-ms")
			benchtable.Print("GET /api/runs, 100k runs, "+tc.name+" (p99)", po.Round(10*time.Microsecond).String(),
				pb.Round(10*time.Microsecond).String()+" (copy+sort+filter)", fmt.Sprintf("%.3f", po.Seconds()/pb.Seconds()), "≤ 20ms", po <= 20*time.Millisecond)
		})
	}
}

func rfc3339(t runsummary.Time) string { return t.Time().Format(time.RFC3339Nano) }

// BenchmarkCatalog_MemoryPerRun measures the heap 100,000 finished runs
// take, per run.
func BenchmarkCatalog_MemoryPerRun(b *testing.B) {
	var per float64
	var est int64
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := hundredK(b)
		runtime.GC()
		runtime.ReadMemStats(&after)
		per = float64(after.HeapAlloc-before.HeapAlloc) / 100_000
		est = c.Stats().Bytes / 100_000
		runtime.KeepAlive(c)
	}
	b.ReportMetric(per, "heap-bytes/run")
	b.ReportMetric(float64(est), "estimated-bytes/run")
	benchtable.Print("catalog memory per run (heap bytes)", fmt.Sprintf("%.0f", per), "-", "-", "≤ 1024", per <= 1024)
}

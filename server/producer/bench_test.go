package producer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Producer throughput for one run whose ~10 KB state changes a little at
// each of its 20 nodes (84 records: GRAPH_START with the initial state, then
// NODE_START, StateDiff, NODE_END and EDGE_TRAVERSAL per node, a final
// StateDiff and GRAPH_END), against the baseline of franz-go producing the
// same records, encoded beforehand, with the same client settings to the
// same in-process broker in the same run. Each iteration is one run; the
// timing includes the final flush, so every record is acknowledged.
//
// _Tree keeps the state as a jsontree updated through its methods (the
// producer's fast path: diffing and redaction cost what changed); _GoValue
// passes a map[string]any each time, encoded with encoding/json and parsed.

const benchNodes = 20

// cpuTime is the CPU time the process has used (user and system, every
// goroutine: producer, client and in-process broker). Reported per
// iteration as cpu-ns/op next to wall time, since this machine is shared and
// wall time depends on the neighbours.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchState is the ~10 KB state of the benchmark run, as JSON.
func benchState() []byte {
	var b strings.Builder
	b.WriteString(`{"run":{"graph":"bench","step":0,"trace_id":12345678901234567890},"scores":{"relevance":1.0,"accuracy":0.75},"messages":[`)
	for i := 0; b.Len() < 10_000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"role":"assistant","content":"step %d of the plan: search the filings, summarise each result with citations — café 東京","tokens":%d}`, i, i, 40+i)
	}
	b.WriteString(`],"notes":"start"}`)
	return []byte(b.String())
}

// benchTreeStates returns the states of the run as trees sharing structure.
func benchTreeStates(b testing.TB) []*jsontree.Node {
	s, err := jsontree.Parse(benchState())
	if err != nil {
		b.Fatal(err)
	}
	states := []*jsontree.Node{s}
	for i := 1; i <= benchNodes; i++ {
		run, _ := s.Get("run")
		step, _ := jsontree.NumberNode(fmt.Sprint(i))
		msgs, _ := s.Get("messages")
		msg := msgs.Index(i % msgs.Len())
		content, _ := jsontree.StringNode(fmt.Sprintf("revised at node %d", i))
		score, _ := jsontree.NumberNode(fmt.Sprintf("0.%d5", i))
		scores, _ := s.Get("scores")
		s = s.ObjectSet("run", run.ObjectSet("step", step)).
			ObjectSet("messages", msgs.ArraySet(i%msgs.Len(), msg.ObjectSet("content", content))).
			ObjectSet("scores", scores.ObjectSet("accuracy", score))
		states = append(states, s)
	}
	return states
}

// benchAppendStates returns states that change as an agent's usually do:
// each node appends a message to the conversation and bumps the step, so
// the canonical text before the end of "messages" stays as it was (the
// states of benchTreeStates instead change a message near the start, the
// worst case for resuming the hash).
func benchAppendStates(b testing.TB) []*jsontree.Node {
	s, err := jsontree.Parse(benchState())
	if err != nil {
		b.Fatal(err)
	}
	states := []*jsontree.Node{s}
	for i := 1; i <= benchNodes; i++ {
		run, _ := s.Get("run")
		step, _ := jsontree.NumberNode(fmt.Sprint(i))
		msgs, _ := s.Get("messages")
		msg, err := jsontree.Parse(fmt.Appendf(nil, `{"id":%d,"role":"assistant","content":"node %d: summarised the filings with citations — café 東京","tokens":%d}`, 1000+i, i, 30+i))
		if err != nil {
			b.Fatal(err)
		}
		s = s.ObjectSet("run", run.ObjectSet("step", step)).ObjectSet("messages", msgs.ArrayInsert(msgs.Len(), msg))
		states = append(states, s)
	}
	return states
}

// benchGoStates returns the same states as Go values.
func benchGoStates(b testing.TB) []any {
	var out []any
	for _, t := range benchTreeStates(b) {
		var v map[string]any
		dec := json.NewDecoder(strings.NewReader(t.String()))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			b.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func playBenchRun(p *Producer, thread string, states []any) {
	run := p.StartRun(RunStart{ThreadID: thread, GraphName: "bench", InitialState: states[0]})
	for i := 1; i <= benchNodes; i++ {
		node := fmt.Sprintf("node_%d", i)
		run.NodeStart(node)
		run.NodeEnd(node, states[i], time.Millisecond)
		run.Edge(node, fmt.Sprintf("node_%d", i+1))
	}
	run.End(states[benchNodes])
}

func benchConfig(addrs []string) Config {
	cfg := DefaultConfig()
	cfg.Brokers = addrs
	cfg.Topic = testTopic
	cfg.QueueCapacity = 1 << 20
	cfg.QueueMaxBytes = 1 << 30
	return cfg
}

func benchProducer(b *testing.B, states []any) {
	c := newCluster(b)
	p, err := New(benchConfig(c.ListenAddrs()), WithLogger(quietLogger()))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	playBenchRun(p, "warm-up", states)
	flush(b, p)
	before := p.Stats()
	b.ReportAllocs()
	cpu := cpuTime()
	i := 0
	for b.Loop() {
		playBenchRun(p, fmt.Sprintf("bench-%d", i), states)
		i++
	}
	flush(b, p)
	elapsed := b.Elapsed()
	prodCPU := cpuTime() - cpu
	b.ReportMetric(float64(prodCPU)/float64(b.N), "cpu-ns/op")
	st := p.Stats()
	if st.Dropped != 0 || st.SendFailures != 0 {
		b.Fatalf("lost messages: %+v", st)
	}
	b.ReportMetric(float64(st.Sent-before.Sent)/elapsed.Seconds(), "records/s")

	// The baseline, paired: the same number of runs' records, encoded
	// beforehand, produced by franz-go to the same topic of the same
	// broker, right after. x-baseline is producer throughput over
	// baseline throughput (the target is >= 0.5).
	base, baseCPU := franzBaseline(b, c, states, b.N, false)
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "baseline-ns/op")
	b.ReportMetric(float64(baseCPU.Nanoseconds())/float64(b.N), "baseline-cpu-ns/op")
	ratio := base.Seconds() / elapsed.Seconds()
	b.ReportMetric(ratio, "x-baseline")
	// One line of make bench's table: name | ours | baseline | ratio |
	// goal | met, in records/s (both sides produce the same records).
	records := float64(st.Sent - before.Sent)
	met := "no"
	if ratio >= 0.5 {
		met = "yes"
	}
	fmt.Printf("BENCHTABLE producer %s vs franz-go on pre-encoded records (records/s; CPU per run %.0f µs vs %.0f µs) | %.0f | %.0f | %.2f | >= 0.5 | %s\n",
		strings.TrimPrefix(b.Name(), "BenchmarkProducer_"), float64(prodCPU)/float64(b.N)/1e3, float64(baseCPU.Nanoseconds())/float64(b.N)/1e3,
		records/elapsed.Seconds(), records/base.Seconds(), ratio, met)
}

// franzBaseline produces n runs' worth of pre-encoded records with a
// franz-go client built from the producer's options and returns the wall
// and CPU time it took, flush included.
func franzBaseline(b *testing.B, c *kfake.Cluster, states []any, n int, standalone bool) (wall, cpu time.Duration) {
	capture, records := capturingProducer(b, nil)
	playBenchRun(capture, "bench", states)
	recs := records()
	opts, err := benchConfig(c.ListenAddrs()).KafkaOptions()
	if err != nil {
		b.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	var failed atomic.Int64
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.Add(1)
		}
	}
	// Produce blocks while the client's buffer is full: the fastest a
	// client can be fed without losing records.
	produceRun := func() {
		for _, r := range recs {
			cl.Produce(ctx, &kgo.Record{Topic: testTopic, Key: r.Key, Value: r.Value}, promise)
		}
	}
	produceRun() // warm up the connection and metadata
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if standalone {
		b.ResetTimer()
	}
	start, startCPU := time.Now(), cpuTime()
	for range n {
		produceRun()
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	wall, cpu = time.Since(start), cpuTime()-startCPU
	if failed.Load() != 0 {
		b.Fatalf("%d records failed", failed.Load())
	}
	return wall, cpu
}

func BenchmarkProducer_Run10KB_Tree(b *testing.B) {
	var states []any
	for _, s := range benchTreeStates(b) {
		states = append(states, s)
	}
	benchProducer(b, states)
}

func BenchmarkProducer_Run10KB_GoValue(b *testing.B) { benchProducer(b, benchGoStates(b)) }

// BenchmarkProducer_Run10KB_TreeAppend: the same run with states that grow
// at the end of the conversation, as the demo's and most agents' do.
func BenchmarkProducer_Run10KB_TreeAppend(b *testing.B) {
	var states []any
	for _, s := range benchAppendStates(b) {
		states = append(states, s)
	}
	benchProducer(b, states)
}

// BenchmarkProducer_Run10KB_TreeParallel plays runs from several goroutines
// at once, as a server with concurrent runs does: the producer's work is
// done by the goroutines that report, so it spreads over the cores.
func BenchmarkProducer_Run10KB_TreeParallel(b *testing.B) {
	var states []any
	for _, s := range benchTreeStates(b) {
		states = append(states, s)
	}
	c := newCluster(b)
	p, err := New(benchConfig(c.ListenAddrs()), WithLogger(quietLogger()))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	b.ReportAllocs()
	cpu := cpuTime()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			playBenchRun(p, fmt.Sprintf("bench-%d", next.Add(1)), states)
		}
	})
	flush(b, p)
	b.StopTimer()
	elapsed := b.Elapsed()
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	if st := p.Stats(); st.Dropped != 0 || st.SendFailures != 0 {
		b.Fatalf("lost messages: %+v", st)
	}
	b.ReportMetric(float64(p.Stats().Sent)/elapsed.Seconds(), "records/s")
	base, _ := franzBaseline(b, c, states, b.N, false)
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "baseline-ns/op")
	b.ReportMetric(base.Seconds()/elapsed.Seconds(), "x-baseline")
}

// BenchmarkFranz_PreEncoded is the baseline alone: the run's records,
// captured once from the producer, produced with a franz-go client built from
// the same options. (The producer benchmarks also measure it paired, for the
// same number of runs, and report the ratio as x-baseline.)
func BenchmarkFranz_PreEncoded(b *testing.B) {
	var states []any
	for _, s := range benchTreeStates(b) {
		states = append(states, s)
	}
	c := newCluster(b)
	b.ReportAllocs()
	wall, cpu := franzBaseline(b, c, states, b.N, true)
	b.ReportMetric(float64(wall.Nanoseconds())/float64(b.N), "wall-ns/op")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

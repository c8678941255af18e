package applybench

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/server/demo"
	"github.com/dashstream/dashstream/server/internal/kafkatest"
	"github.com/dashstream/dashstream/server/producer"
)

// The streams are recorded, not written by hand: the real producer sends
// them into the embedded broker (kfake) and they are read back, so they
// hold what the gateway would forward: full states, small and large
// diffs, token chunks, checkpoints, zstd frames. The same seed records the
// same content (message ids and timestamps differ from one recording to
// the next, which changes nothing either side does).

const topic = "dashstream-events"

// stream is the Kafka values of a recording, in the order a gateway would
// interleave its partitions (by record timestamp).
type stream struct {
	name   string
	values [][]byte
}

// blob is the stream as the pages load it: each value preceded by its
// length, uint32 little-endian.
func (s stream) blob() []byte {
	n := 0
	for _, v := range s.values {
		n += 4 + len(v)
	}
	out := make([]byte, 0, n)
	for _, v := range s.values {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(v)))
		out = append(out, v...)
	}
	return out
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// record runs play against a producer on a fresh embedded broker and
// returns every record it produced.
func record(tb testing.TB, name string, play func(ctx context.Context, p *producer.Producer) error) stream {
	tb.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, topic))
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	cfg := producer.DefaultConfig()
	cfg.Brokers = c.ListenAddrs()
	cfg.Topic = topic
	cfg.QueueCapacity = 1 << 20
	cfg.QueueMaxBytes = 1 << 30
	p, err := producer.New(cfg, producer.WithRegisterer(prometheus.NewRegistry()), producer.WithLogger(quiet()))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	defer func() { _ = p.Close(ctx) }()
	if err := play(ctx, p); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if err := p.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	if st := p.Stats(); st.Dropped != 0 || st.SendFailures != 0 {
		tb.Fatalf("%s: the producer lost messages: %+v", name, st)
	}
	recs := kafkatest.ReadAll(tb, c.ListenAddrs(), topic, time.Minute)
	slices.SortStableFunc(recs, func(a, b *kgo.Record) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	s := stream{name: name}
	for _, r := range recs {
		s.values = append(s.values, r.Value)
	}
	return s
}

// recordDemo records the demo's runs at a fixed seed: several graphs, LLM
// token streams, tool calls, retries, failures, checkpoints, quality
// metrics, states of a few kilobytes growing as the run goes.
func recordDemo(tb testing.TB, runs int) stream {
	return record(tb, fmt.Sprintf("demo-%d-runs", runs), func(ctx context.Context, p *producer.Producer) error {
		return demo.RunWithLogger(ctx, demo.Config{
			Seed: 2026, MaxRuns: runs, TimeScale: 0.0002, RunsPerMinute: 600,
			MaxConcurrentRuns: 8, FailureRate: 0.12,
		}, p, quiet())
	})
}

// recordSmallDiffs records runs whose state of about stateBytes changes by
// two values at each update (a step counter and a score): the apply
// loop's commonest message, a two-operation diff, on a state the hash
// covers whole. Runs are interleaved, as concurrent runs arrive.
func recordSmallDiffs(tb testing.TB, stateBytes, runs, updates int) stream {
	return record(tb, fmt.Sprintf("small-diffs-%dB", stateBytes), func(_ context.Context, p *producer.Producer) error {
		states := make([]*jsontree.Node, runs)
		handles := make([]*producer.Run, runs)
		for i := range runs {
			var err error
			if states[i], err = jsontree.Parse(agentState(stateBytes, uint64(i))); err != nil {
				return err
			}
			handles[i] = p.StartRun(producer.RunStart{ThreadID: fmt.Sprintf("small-%d-%03d", stateBytes, i), GraphName: "bench", InitialState: states[i]})
		}
		for u := 1; u <= updates; u++ {
			for i, s := range states {
				run, _ := s.Get("run")
				scores, _ := s.Get("scores")
				step, _ := jsontree.NumberNode(fmt.Sprint(u))
				acc, _ := jsontree.NumberNode(fmt.Sprintf("0.%03d", (u*7+i)%1000))
				states[i] = s.ObjectSet("run", run.ObjectSet("step", step)).ObjectSet("scores", scores.ObjectSet("accuracy", acc))
				handles[i].UpdateState(states[i])
			}
		}
		for _, h := range handles {
			h.End(nil)
		}
		return nil
	})
}

var words = strings.Fields(`the agent plans a search over recent filings then calls the retrieval tool
and summarises each result with citations before the critic node scores relevance accuracy
completeness and routes back to the planner when the score is below threshold — café naïve 東京 ✓`)

// agentState returns a JSON object of about approx bytes shaped like an LLM
// agent's state: a conversation, a plan, tool results, scores written as
// integral floats (1.0), an integer above 2^53.
func agentState(approx int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(approx)))
	sentence := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = words[r.IntN(len(words))]
		}
		return strings.Join(ws, " ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"run":{"graph":"research_assistant","thread_id":"thread-%04d","step":0,"trace_id":12345678901234567890},`, seed)
	b.WriteString(`"scores":{"relevance":1.0,"accuracy":0.875,"completeness":0.5},"plan":[`)
	for i := range 6 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"step":%d,"node":"node_%d","done":%t}`, i, i, i < 3)
	}
	b.WriteString(`],"tool_results":{"search":{"calls":3,"last":{"query":"quarterly revenue","hits":[1,2,3]}}},"messages":[`)
	for i := 0; b.Len() < approx-120; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"role":%q,"content":%q,"tokens":%d,"score":%d.0}`,
			i, []string{"user", "assistant", "tool"}[i%3], sentence(6+r.IntN(20)), 20+r.IntN(400), r.IntN(2))
	}
	b.WriteString(`],"scratchpad":{"notes":"` + sentence(8) + `","iteration":3}}`)
	return []byte(b.String())
}

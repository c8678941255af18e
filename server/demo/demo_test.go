package demo

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runsummary"
	"github.com/dashstream/dashstream/protocol/statehash"
	"github.com/dashstream/dashstream/server/internal/kafkatest"
	"github.com/dashstream/dashstream/server/producer"
	"github.com/dashstream/dashstream/server/producer/streamcheck"
)

const topic = "dashstream-events"

// testTimeout bounds every wait, so a bug fails the test instead of hanging
// it; it is not a performance assertion.
const testTimeout = 90 * time.Second

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type env struct {
	cluster *kfake.Cluster
	p       *producer.Producer
}

func newEnv(t *testing.T, change func(*producer.Config)) *env {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg := producer.DefaultConfig()
	cfg.Brokers = c.ListenAddrs()
	cfg.Topic = topic
	if change != nil {
		change(&cfg)
	}
	p, err := producer.New(cfg, producer.WithRegisterer(prometheus.NewRegistry()), producer.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return &env{cluster: c, p: p}
}

// play runs the demo to completion and returns every record it produced.
func (e *env) play(t *testing.T, cfg Config) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := RunWithLogger(ctx, cfg, e.p, quiet()); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the demo did not finish its runs in time")
	}
	if err := e.p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.p.Stats(); st.Dropped != 0 || st.SendFailures != 0 {
		t.Fatalf("producer lost messages: %+v", st)
	}
	return consumeAll(t, e.cluster.ListenAddrs())
}

func consumeAll(t *testing.T, addrs []string) []*kgo.Record {
	t.Helper()
	return kafkatest.ReadAll(t, addrs, topic, testTimeout)
}

var forbidden = []string{FakeSecret, strings.TrimPrefix(FakeSecret, "sk-"), strings.TrimPrefix(FakeBearer, "Bearer ")}

// TestDemo_EveryStreamIsConsistentWhenReadBack: every record of a few dozen
// concurrent demo runs, read back from the broker and decoded: per-thread
// sequences 1, 2, 3... with no gap or repeat, each patch applied to the
// previous state gives the state_hash sent, the first update is a full
// state, no fake secret appears anywhere; and the runs show what the demo
// promises (all graphs, failures, retries, tokens, checkpoints, quality
// metrics, literals, non-ASCII text, several partitions, several KB of
// state, patches, full states and zstd framing).
func TestDemo_EveryStreamIsConsistentWhenReadBack(t *testing.T) {
	e := newEnv(t, func(c *producer.Config) { c.CheckpointInterval = 4 })
	recs := e.play(t, Config{Seed: 42, MaxRuns: 24, TimeScale: 0.0005, RunsPerMinute: 600, MaxConcurrentRuns: 6, FailureRate: 0.12})
	rep := streamcheck.Check(recs, streamcheck.Options{RequireEnd: true, Forbidden: forbidden})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rep.Threads) != 24 {
		t.Fatalf("%d threads, want 24", len(rep.Threads))
	}
	if len(rep.Partitions) < 3 {
		t.Errorf("runs on partitions %v only", rep.Partitions)
	}
	graphsSeen := map[string]int{}
	failed, redacted, bigState := 0, 0, 0
	var literals, bigInts, nonASCII bool
	patches, fulls, checkpoints := 0, 0, 0
	for _, th := range rep.Threads {
		graphsSeen[th.GraphName]++
		if th.Failed {
			failed++
		}
		patches += th.Patches
		fulls += th.FullStates
		checkpoints += th.Checkpoints
		for _, s := range th.States {
			canon := string(statehash.CanonicalizeTree(s))
			literals = literals || strings.Contains(canon, `:1.0`) || strings.Contains(canon, `"threshold":0.80`)
			bigInts = bigInts || strings.Contains(canon, `"trace_id":1234567890123`)
			nonASCII = nonASCII || strings.ContainsAny(canon, "東éü✓")
			if strings.Contains(canon, "[OPENAI_KEY]") {
				redacted++
			}
			if len(canon) > 4000 {
				bigState++
			}
		}
	}
	for _, g := range Graphs() {
		if graphsSeen[g.Name] == 0 {
			t.Errorf("graph %s never ran (seen %v)", g.Name, graphsSeen)
		}
	}
	if failed == 0 || failed > 12 {
		t.Errorf("%d of 24 runs failed", failed)
	}
	if rep.ByKind["event:EVENT_TYPE_NODE_ERROR"] == 0 || rep.ByKind["event:EVENT_TYPE_GRAPH_ERROR"] != failed {
		t.Errorf("NODE_ERROR %d, GRAPH_ERROR %d, failed runs %d", rep.ByKind["event:EVENT_TYPE_NODE_ERROR"], rep.ByKind["event:EVENT_TYPE_GRAPH_ERROR"], failed)
	}
	for _, kind := range []string{"token_chunk", "tool_execution", "metrics", "checkpoint", "event:EVENT_TYPE_CONDITIONAL_BRANCH",
		"event:EVENT_TYPE_PARALLEL_START", "event:EVENT_TYPE_PARALLEL_END", "event:EVENT_TYPE_NODE_PROGRESS",
		"event:EVENT_TYPE_NODE_THINKING", "event:EVENT_TYPE_HUMAN_INTERRUPT", "event:EVENT_TYPE_NODE_WARNING",
		"event:EVENT_TYPE_LLM_START", "event:EVENT_TYPE_LLM_END"} {
		if rep.ByKind[kind] == 0 {
			t.Errorf("no %s in the stream (%v)", kind, rep.ByKind)
		}
	}
	if patches == 0 || fulls < 24 || checkpoints == 0 || rep.ZstdFramed == 0 {
		t.Errorf("patches %d, full states %d, checkpoints %d, zstd-framed %d", patches, fulls, checkpoints, rep.ZstdFramed)
	}
	if !literals || !bigInts || !nonASCII || redacted == 0 || bigState == 0 {
		t.Errorf("literal 1.0 %v, big integers %v, non-ASCII %v, redacted secrets %d, states over 4 KB %d",
			literals, bigInts, nonASCII, redacted, bigState)
	}
	stages, quality := map[pb.ToolExecution_ExecutionStage]int{}, 0
	for _, th := range rep.Threads {
		for _, m := range th.Messages {
			if te := m.GetToolExecution(); te != nil {
				stages[te.GetStage()]++
			}
			if mt := m.GetMetrics(); mt != nil && mt.GetScope() == "quality" {
				quality++
			}
		}
	}
	// Every LLM call is announced by its node (LLM_START names the request
	// id of its chunks), and a finished one reports realistic usage, which
	// the run summaries add up.
	for id, th := range rep.Threads {
		started, streamed := map[string]string{}, map[string]bool{}
		sum := runsummary.New(id)
		for _, m := range th.Messages {
			sum.Observe(m, runsummary.Position{Offset: -1})
			if ev := m.GetEvent(); ev.GetEventType() == pb.EventType_EVENT_TYPE_LLM_START {
				started[ev.GetLlmRequestId()] = ev.GetNodeId()
			}
			if tc := m.GetTokenChunk(); tc != nil {
				streamed[tc.GetRequestId()] = true
			}
		}
		for req := range streamed {
			if started[req] == "" {
				t.Errorf("%s: LLM call %s has no LLM_START naming its node", id, req)
			}
		}
		if sum.LLMCalls > sum.Errors && sum.PromptTokens < 300*uint64(sum.LLMCalls-sum.Errors) {
			t.Errorf("%s: %d prompt tokens over %d calls", id, sum.PromptTokens, sum.LLMCalls)
		}
	}
	if stages[pb.ToolExecution_EXECUTION_STAGE_RETRYING] == 0 || stages[pb.ToolExecution_EXECUTION_STAGE_COMPLETED] == 0 {
		t.Errorf("tool stages %v", stages)
	}
	if quality != 24-failed {
		t.Errorf("%d quality metrics for %d completed runs", quality, 24-failed)
	}
}

// summary is what must be identical between two plays of one seed: per
// thread, the graph, the final state, every LLM response's text, and the
// multiset of messages by kind and node. (Timing only changes the order in
// which parallel branches interleave.)
func summary(rep *streamcheck.Report) map[string]string {
	out := map[string]string{}
	for id, th := range rep.Threads {
		var parts []string
		texts := map[string]string{}
		for _, m := range th.Messages {
			switch {
			case m.GetEvent() != nil:
				parts = append(parts, m.GetEvent().GetEventType().String()+" "+m.GetEvent().GetNodeId())
			case m.GetTokenChunk() != nil:
				texts[m.GetTokenChunk().GetRequestId()] += m.GetTokenChunk().GetText()
				parts = append(parts, "token")
			case m.GetToolExecution() != nil:
				te := m.GetToolExecution()
				parts = append(parts, "tool "+te.GetCallId()+" "+te.GetStage().String()+" "+string(te.GetArguments())+string(te.GetResult()))
			default:
				parts = append(parts, "other")
			}
		}
		for req, text := range texts {
			parts = append(parts, req+":"+text)
		}
		sort.Strings(parts)
		final := ""
		if th.State != nil {
			final = string(statehash.CanonicalizeTree(th.State))
		}
		out[id] = th.GraphName + "\n" + final + "\n" + strings.Join(parts, "\n")
	}
	return out
}

// TestDemo_FixedSeedGivesTheSameRuns: two plays with one seed produce the
// same thread ids and the same content; another seed does not.
func TestDemo_FixedSeedGivesTheSameRuns(t *testing.T) {
	cfg := Config{Seed: 7, MaxRuns: 10, TimeScale: 0.0005, RunsPerMinute: 600, MaxConcurrentRuns: 4, FailureRate: 0.3}
	play := func(cfg Config) map[string]string {
		rep := streamcheck.Check(newEnv(t, nil).play(t, cfg), streamcheck.Options{RequireEnd: true})
		if err := rep.Err(); err != nil {
			t.Fatal(err)
		}
		return summary(rep)
	}
	a, b := play(cfg), play(cfg)
	if len(a) != 10 || len(b) != 10 {
		t.Fatalf("%d and %d threads", len(a), len(b))
	}
	for id, sa := range a {
		sb, ok := b[id]
		if !ok {
			t.Fatalf("thread %s only in the first play", id)
		}
		if sa != sb {
			t.Fatalf("thread %s differs between plays:\n%s\n----\n%s", id, sa, sb)
		}
	}
	cfg.Seed = 8
	for id := range play(cfg) {
		if _, ok := a[id]; ok {
			t.Fatalf("thread %s also came from another seed", id)
		}
	}
}

// TestDemo_StopsPromptlyWhenCancelled: in real time, cancelling the context
// ends Run soon, and every run it started ends with GRAPH_END or GRAPH_ERROR.
func TestDemo_StopsPromptlyWhenCancelled(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := DefaultConfig()
	cfg.Seed = 3
	go func() { done <- RunWithLogger(ctx, cfg, e.p, quiet()) }()
	deadline := time.Now().Add(testTimeout)
	for e.p.Stats().Sent < 20 {
		if time.Now().After(deadline) {
			t.Fatal("the demo sent nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Run did not return after cancel")
	}
	flushCtx, fc := context.WithTimeout(context.Background(), testTimeout)
	defer fc()
	if err := e.p.Flush(flushCtx); err != nil {
		t.Fatal(err)
	}
	rep := streamcheck.Check(consumeAll(t, e.cluster.ListenAddrs()), streamcheck.Options{RequireEnd: true, Forbidden: forbidden})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rep.Threads) < 3 {
		t.Fatalf("%d runs at once; the initial burst starts 3", len(rep.Threads))
	}
	stopped := 0
	for _, th := range rep.Threads {
		last := th.Messages[len(th.Messages)-1].GetEvent()
		if last.GetEventType() == pb.EventType_EVENT_TYPE_GRAPH_ERROR && last.GetAttributes()["error"].GetStringValue() == errStopped.Error() {
			stopped++
		}
	}
	if stopped == 0 {
		t.Fatal("no run reported the stop")
	}
}

// TestGraphs_AreDrawable: 4 to 8 nodes each, edges between known nodes,
// every UI node type used, distinct schema ids.
func TestGraphs_AreDrawable(t *testing.T) {
	types := map[string]bool{}
	ids := map[string]bool{}
	for _, g := range Graphs() {
		if n := len(g.Nodes); n < 4 || n > 8 {
			t.Errorf("%s has %d nodes", g.Name, n)
		}
		names := map[string]bool{}
		for _, n := range g.Nodes {
			names[n.Name] = true
			types[n.NodeType] = true
		}
		if !names[g.EntryPoint] {
			t.Errorf("%s: entry point %s is not a node", g.Name, g.EntryPoint)
		}
		for _, e := range g.Edges {
			if !names[e.From] || !names[e.To] {
				t.Errorf("%s: edge %s -> %s leaves the graph", g.Name, e.From, e.To)
			}
		}
		ids[g.ID()] = true
	}
	for _, want := range []string{"transform", "llm", "tool", "router", "aggregator", "validator", "human_in_loop", "checkpoint", "custom"} {
		if !types[want] {
			t.Errorf("node type %s unused", want)
		}
	}
	if len(ids) != 4 {
		t.Errorf("schema ids %v", ids)
	}
}

// TestConfigFromEnv_ReadsTheDemoVariables and rejects bad values by name.
func TestConfigFromEnv_ReadsTheDemoVariables(t *testing.T) {
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := ConfigFromEnv(get(map[string]string{
		EnvSeed: "99", EnvRunsPerMinute: "30", EnvMaxConcurrentRuns: "2", EnvTimeScale: "0.5",
		EnvFailureRate: "0", EnvTenantID: "acme", EnvMaxRuns: "5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != 99 || c.RunsPerMinute != 30 || c.MaxConcurrentRuns != 2 || c.TimeScale != 0.5 || c.FailureRate != 0 || c.TenantID != "acme" || c.MaxRuns != 5 {
		t.Fatalf("%+v", c)
	}
	for name, v := range map[string]string{EnvSeed: "-1", EnvRunsPerMinute: "0", EnvMaxConcurrentRuns: "x", EnvTimeScale: "-2",
		EnvFailureRate: "1.5", EnvMaxRuns: "-3"} {
		if _, err := ConfigFromEnv(get(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v", name, v, err)
		}
	}
}

// TestEnabled_DefaultsOnOnlyWithTheEmbeddedBroker.
func TestEnabled_DefaultsOnOnlyWithTheEmbeddedBroker(t *testing.T) {
	tests := []struct {
		value     string
		realKafka bool
		want      bool
		wantErr   bool
	}{
		{"", false, true, false},
		{"", true, false, false},
		{"true", true, true, false},
		{"0", false, false, false},
		{"perhaps", false, false, true},
	}
	for _, tt := range tests {
		got, err := Enabled(func(string) string { return tt.value }, tt.realKafka)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("Enabled(%q, real=%v) = %v, %v", tt.value, tt.realKafka, got, err)
		}
	}
}

// TestConfig_FlagsWinOverTheEnvironment.
func TestConfig_FlagsWinOverTheEnvironment(t *testing.T) {
	c, err := ConfigFromEnv(func(k string) string { return map[string]string{EnvSeed: "5", EnvTimeScale: "2"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"--demo-seed", "6"}); err != nil {
		t.Fatal(err)
	}
	if c.Seed != 6 || c.TimeScale != 2 {
		t.Fatalf("%+v", c)
	}
}

// FuzzConfigFromEnv: any values either fail or give a Config that
// validates.
func FuzzConfigFromEnv(f *testing.F) {
	f.Add("1", "30", "4", "0.5", "0.1", "5")
	f.Add("-1", "NaN", "0", "Inf", "2", "x")
	f.Fuzz(func(t *testing.T, seed, rate, conc, scale, fail, maxRuns string) {
		env := map[string]string{EnvSeed: seed, EnvRunsPerMinute: rate, EnvMaxConcurrentRuns: conc,
			EnvTimeScale: scale, EnvFailureRate: fail, EnvMaxRuns: maxRuns}
		c, err := ConfigFromEnv(func(k string) string { return env[k] })
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted %+v does not validate: %v", c, err)
		}
	})
}

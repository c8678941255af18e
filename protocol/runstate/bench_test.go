package runstate

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/internal/fixture"
	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// Benchmarks. In the browser:
//
//	GOOS=js GOARCH=wasm go test -run '^$' -bench . -exec wasmbrowsertest ./protocol/runstate/
//
// BenchmarkApply_SmallDiff is the apply loop's hot path; its baseline,
// measured in the same run, is BenchmarkApply_SmallDiff_PatchAndHashOnly:
// the patch and the state hash alone, the work no store can avoid.

// smallDiffs returns a run's GraphStart on a state of about stateBytes and
// a cycle of diffs with two replace operations each (a step counter and a
// score), with their state hashes; the states repeat with the cycle, so
// the diffs can be replayed forever with rising sequences.
func smallDiffs(b *testing.B, stateBytes int) (*pb.DashStreamMessage, []*pb.DashStreamMessage) {
	initial := fixture.State(stateBytes)
	start := graphStart("bench", 1, string(initial))
	state, err := jsontree.Parse(initial)
	if err != nil {
		b.Fatal(err)
	}
	const cycle = 1024
	msgs := make([]*pb.DashStreamMessage, cycle)
	for i := range cycle {
		ops := []*pb.DiffOperation{
			replace("/run/step", strconv.Itoa(i)),
			replace("/scores/accuracy", fmt.Sprintf("0.%03d", i%1000)),
		}
		p, err := jsonpatch.FromDiffOperations(ops)
		if err != nil {
			b.Fatal(err)
		}
		if state, err = p.Apply(state); err != nil {
			b.Fatal(err)
		}
		h := statehash.SumTree(state)
		msgs[i] = &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{
			Header: header("bench", 0, 2), Operations: ops, StateHash: h[:],
		}}}
	}
	return start, msgs
}

// benchApply measures the apply loop on small diffs. After the usual
// b.Loop measurement (which also warms the code up: in the browser,
// WebAssembly starts in a baseline tier and hot functions are recompiled
// optimized a while later), it times five more rounds of the same number
// of diffs and reports their median as diffs/s, with the slowest and
// fastest rounds: one figure from a noisy shared machine means little.
func benchApply(b *testing.B, stateBytes int, goal float64) {
	start, msgs := smallDiffs(b, stateBytes)
	s := NewStore(Config{})
	s.Apply(start, meta(0))
	seq := uint64(1)
	apply := func() {
		seq++
		m := msgs[(seq-2)%uint64(len(msgs))]
		m.GetStateDiff().Header.Sequence = seq
		if o := s.Apply(m, Meta{Received: t0}); o.Disposition != Applied {
			b.Fatalf("seq %d: %v", seq, o.Disposition)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		apply()
	}
	b.StopTimer()
	n := max(b.N, 2000)
	rates := make([]float64, 5)
	for i := range rates {
		t := time.Now()
		for range n {
			apply()
		}
		rates[i] = float64(n) / time.Since(t).Seconds()
	}
	if r := s.Run("bench"); !r.Trusted() || r.Integrity().HashesVerified == 0 {
		b.Fatalf("integrity %+v", r.Integrity())
	}
	slices.Sort(rates)
	b.ReportMetric(rates[2], "diffs/s")
	b.ReportMetric(rates[0], "diffs/s-slowest")
	b.ReportMetric(rates[4], "diffs/s-fastest")
	if goal > 0 && runtime.GOOS == "js" {
		met := "no"
		if rates[2] >= goal {
			met = "yes"
		}
		// One line of make bench's table (name | ours | baseline | ratio
		// | goal | met); the goal is absolute, so no baseline.
		fmt.Printf("BENCHTABLE Apply_SmallDiff in Chromium wasm (diffs/s, median of 5; slowest %.0f, fastest %.0f) | %.0f | - | - | >= %.0f | %s\n",
			rates[0], rates[4], rates[2], goal, met)
	}
}

// BenchmarkApply_SmallDiff: a 2-operation diff on a ~1 KB agent state, hash
// verified, event logged, keyframe bookkeeping: the per-message cost of the
// apply loop. The state_hash covers the whole state, so the cost grows
// with the state: see the 2 KB and 10 KB variants.
func BenchmarkApply_SmallDiff(b *testing.B) { benchApply(b, 1<<10, 50_000) }

// BenchmarkApply_SmallDiff_2KBState: the same on a ~2 KB state.
func BenchmarkApply_SmallDiff_2KBState(b *testing.B) { benchApply(b, 2<<10, 0) }

// BenchmarkApply_SmallDiff_10KBState: the same diff on a ~10 KB state (the
// hash covers the whole state, so it grows with it).
func BenchmarkApply_SmallDiff_10KBState(b *testing.B) { benchApply(b, 10<<10, 0) }

// BenchmarkApply_SmallDiff_PatchAndHashOnly is the baseline: converting,
// applying and hashing the same diffs (canonical text into a reused buffer,
// as the store does) with no store around them.
func BenchmarkApply_SmallDiff_PatchAndHashOnly(b *testing.B) {
	start, msgs := smallDiffs(b, 1<<10)
	text, _ := attrString(start.GetEvent().GetAttributes(), "initial_state_json")
	state, _ := jsontree.Parse([]byte(text))
	i := 0
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		d := msgs[i%len(msgs)].GetStateDiff()
		i++
		p, err := jsonpatch.FromDiffOperations(d.GetOperations())
		if err != nil {
			b.Fatal(err)
		}
		if state, err = p.Apply(state); err != nil {
			b.Fatal(err)
		}
		buf = statehash.AppendCanonical(buf[:0], state)
		if h := sha256.Sum256(buf); string(h[:]) != string(d.GetStateHash()) {
			b.Fatal("hash mismatch")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "diffs/s")
}

// BenchmarkDecodeApply_SmallDiff: Kafka value in, run updated: decode
// (raw framing) plus apply.
func BenchmarkDecodeApply_SmallDiff(b *testing.B) {
	start, msgs := smallDiffs(b, 1<<10)
	s := NewStore(Config{})
	s.Apply(start, meta(0))
	values := make([][]byte, len(msgs))
	for i := range msgs {
		msgs[i].GetStateDiff().Header.Sequence = uint64(i + 2)
		v, err := protocol.Encode(msgs[i])
		if err != nil {
			b.Fatal(err)
		}
		values[i] = v
	}
	if values[0][0] != protocol.FrameRaw {
		b.Fatalf("small diff framed 0x%02x", values[0][0])
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if i == len(values) { // a new run, same messages
			b.StopTimer()
			s = NewStore(Config{})
			s.Apply(start, meta(0))
			i = 0
			b.StartTimer()
		}
		m, err := protocol.Decode(values[i])
		if err != nil {
			b.Fatal(err)
		}
		i++
		if o := s.Apply(m, Meta{Received: t0}); o.Disposition != Applied {
			b.Fatal(o.Disposition)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkDecodeApply_FullState10KB_Zstd: a zstd-framed full state of about
// 10 KB: decompress, decode, parse, hash.
func BenchmarkDecodeApply_FullState10KB_Zstd(b *testing.B) {
	state := string(fixture.State(10 << 10))
	s := NewStore(Config{})
	m := fullState(b, "bench", 1, state)
	v, err := protocol.Encode(m)
	if err != nil {
		b.Fatal(err)
	}
	if v[0] != protocol.FrameZstd {
		b.Fatalf("full state framed 0x%02x", v[0])
	}
	seq := uint64(0)
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := protocol.Decode(v)
		if err != nil {
			b.Fatal(err)
		}
		seq++
		m.GetStateDiff().Header.Sequence = seq
		if o := s.Apply(m, Meta{Received: t0}); o.Disposition != Applied {
			b.Fatal(o.Disposition)
		}
	}
}

// BenchmarkFollow100Runs1000Msgs follows 100 concurrent realistic runs of
// 1,000 messages each (interleaved, as one Kafka topic delivers them) and
// reports the heap in use afterwards, with the store alive and everything
// else collected. Target: ≤ 150 MB.
func BenchmarkFollow100Runs1000Msgs(b *testing.B) {
	const runs, perRun = 100, 1000
	var heapMB float64
	for b.Loop() {
		b.StopTimer()
		gens := make([]*realisticRun, runs)
		for i := range gens {
			gens[i] = newRealisticRun(fmt.Sprintf("thread-%03d", i), uint64(i))
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		s := NewStore(Config{})
		b.StartTimer()
		for step := range perRun {
			for i, g := range gens {
				m := g.next()
				if o := s.Apply(m, Meta{Partition: int32(i % 8), Offset: int64(step*runs + i), Received: t0.Add(time.Duration(step) * time.Millisecond)}); o.Disposition != Applied {
					b.Fatalf("%s step %d: %v", g.thread, step, o.Disposition)
				}
			}
		}
		b.StopTimer()
		gens = nil
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heapMB = float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc)) / (1 << 20)
		st := s.Stats()
		if st.Runs != runs || st.CorruptedRuns != 0 || st.GapRuns != 0 || st.Applied != runs*perRun {
			b.Fatalf("stats %+v", st)
		}
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(heapMB, "heapMB")
	b.ReportMetric(float64(runs*perRun*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// realisticRun produces the message stream of an LLM agent run as the
// upstream producer orders it (§4.2): GraphStart with schema and initial
// state; per node NODE_START, token chunks and tool calls for some, a
// StateDiff with hash, NODE_END with duration, EDGE_TRAVERSAL; metrics now
// and then. The state holds a conversation capped at 24 messages, so it
// stays a few kilobytes.
type realisticRun struct {
	r      *rand.Rand
	thread string
	seq    uint64
	state  *jsontree.Node
	queue  []*pb.DashStreamMessage
	step   int
}

var agentNodes = []string{"planner", "retriever", "researcher", "critic", "writer"}

func newRealisticRun(thread string, seed uint64) *realisticRun {
	g := &realisticRun{r: rand.New(rand.NewPCG(seed, 42)), thread: thread}
	initial := `{"run":{"graph":"research_assistant","thread_id":"` + thread + `","step":0},"scores":{"relevance":1.0,"accuracy":0.5},"messages":[],"plan":[]}`
	g.state, _ = jsontree.Parse([]byte(initial))
	g.seq++
	g.queue = append(g.queue, graphStart(thread, g.seq, initial))
	return g
}

func (g *realisticRun) hdr(typ pb.MessageType) *pb.Header {
	g.seq++
	return header(g.thread, g.seq, typ)
}

func (g *realisticRun) next() *pb.DashStreamMessage {
	for len(g.queue) == 0 {
		g.node()
	}
	m := g.queue[0]
	g.queue = g.queue[1:]
	return m
}

// node queues the messages of one node execution.
func (g *realisticRun) node() {
	g.step++
	name := agentNodes[g.step%len(agentNodes)]
	q := []*pb.DashStreamMessage{{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header: g.hdr(1), EventType: pb.EventType_EVENT_TYPE_NODE_START, NodeId: name,
		Attributes: map[string]*pb.AttributeValue{"config_version": iattr(3), "config_hash": sattr("9f2c1e")},
	}}}}
	if name == "researcher" || name == "writer" {
		for i := range 6 {
			q = append(q, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: &pb.TokenChunk{
				Header: g.hdr(3), RequestId: fmt.Sprintf("req-%d", g.step), Text: sentence(g.r, 6), ChunkIndex: uint32(i), IsFinal: i == 5, Model: "gpt-x",
			}}})
		}
	}
	if name == "retriever" {
		call := fmt.Sprintf("call-%d", g.step)
		for _, st := range []pb.ToolExecution_ExecutionStage{pb.ToolExecution_EXECUTION_STAGE_STARTED, pb.ToolExecution_EXECUTION_STAGE_COMPLETED} {
			q = append(q, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: &pb.ToolExecution{
				Header: g.hdr(4), CallId: call, ToolName: "search", Stage: st, Arguments: []byte(`{"query":"` + sentence(g.r, 4) + `"}`), DurationUs: 120000,
			}}})
		}
	}
	// The node's state change: a message appended (the oldest dropped past
	// 24), the step counter, a score.
	ops := []*pb.DiffOperation{
		add("/messages/-", fmt.Sprintf(`{"role":"assistant","node":%q,"content":%q,"tokens":%d,"score":1.0}`, name, sentence(g.r, 12), 20+g.r.IntN(300))),
		replace("/run/step", strconv.Itoa(g.step)),
		replace("/scores/accuracy", fmt.Sprintf("0.%03d", g.r.IntN(1000))),
	}
	if g.state.Len() > 0 {
		if msgs, ok := g.state.Get("messages"); ok && msgs.Len() >= 24 {
			ops = append(ops, op(pb.DiffOperation_OP_TYPE_REMOVE, "/messages/0", ""))
		}
	}
	p, err := jsonpatch.FromDiffOperations(ops)
	if err != nil {
		panic(err)
	}
	if g.state, err = p.Apply(g.state); err != nil {
		panic(err)
	}
	h := statehash.SumTree(g.state)
	q = append(q, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{Header: g.hdr(2), Operations: ops, StateHash: h[:]}}})
	q = append(q, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header: g.hdr(1), EventType: pb.EventType_EVENT_TYPE_NODE_END, NodeId: name, DurationUs: int64(100000 + g.r.IntN(900000)),
	}}})
	if g.step%4 == 0 {
		q = append(q, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Metrics{Metrics: &pb.Metrics{
			Header: g.hdr(6), Scope: "node", ScopeId: name,
			Metrics: map[string]*pb.MetricValue{"latency_ms": {Value: &pb.MetricValue_FloatValue{FloatValue: g.r.Float64() * 1000}, Unit: "ms", Type: pb.MetricValue_METRIC_TYPE_GAUGE}},
			Tags:    map[string]string{"thread_id": g.thread, "model": "gpt-x"},
		}}})
	}
	q = append(q, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header: g.hdr(1), EventType: pb.EventType_EVENT_TYPE_EDGE_TRAVERSAL, NodeId: name,
	}}})
	g.queue = append(g.queue, q...)
}

var benchWords = []string{"the", "agent", "plans", "a", "search", "over", "recent", "filings", "then", "summarises", "each", "result", "with", "citations", "café", "東京"}

func sentence(r *rand.Rand, n int) string {
	b := make([]byte, 0, 8*n)
	for i := range n {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, benchWords[r.IntN(len(benchWords))]...)
	}
	return string(b)
}

// BenchmarkDecodeApply_TokenChunk: decode and apply a streamed LLM
// response's chunks, the commonest message of a live run (four in five of
// the demo's): a new response every 64 chunks, each chunk a few words.
func BenchmarkDecodeApply_TokenChunk(b *testing.B) {
	s := NewStore(Config{})
	s.Apply(graphStart("bench", 1, `{"step":0}`), meta(0))
	const cycle = 4096
	values := make([][]byte, cycle)
	for i := range cycle {
		c := &pb.TokenChunk{Header: header("bench", 0, pb.MessageType_MESSAGE_TYPE_TOKEN_CHUNK),
			RequestId: fmt.Sprintf("req-%d", i/64), Text: fmt.Sprintf(" word%d and", i), ChunkIndex: uint32(i % 64)}
		if i%64 == 0 {
			c.Model = "llama-3.1-70b-instruct"
		}
		if i%64 == 63 {
			c.IsFinal, c.FinishReason = true, pb.TokenChunk_FINISH_REASON_STOP
		}
		values[i] = nil
		v, err := protocol.Encode(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: c}})
		if err != nil {
			b.Fatal(err)
		}
		values[i] = v
	}
	seq := uint64(1)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		m, err := protocol.Decode(values[(seq-2)%cycle])
		if err != nil {
			b.Fatal(err)
		}
		m.GetTokenChunk().Header.Sequence = seq
		if o := s.Apply(m, Meta{Received: t0}); o.Disposition != Applied {
			b.Fatalf("seq %d: %v", seq, o.Disposition)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

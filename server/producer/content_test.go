package producer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
	"github.com/dashstream/dashstream/server/producer/streamcheck"
)

// TestRun_RedactsEveryUserContentString: a secret placed in every field that
// carries user content never reaches Kafka, and its marker does.
func TestRun_RedactsEveryUserContentString(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), nil)
	secret := "sk-" + strings.Repeat("L3ak", 6)
	s := "key=" + secret
	schema := &GraphSchema{Name: "g", EntryPoint: "a", Description: s, Nodes: []SchemaNode{{Name: "a", NodeType: NodeLLM, Description: s}}}
	run := p.StartRun(RunStart{
		ThreadID: "secrets", GraphName: "g " + s, Schema: schema,
		Manifest:     map[string]any{"doc": s},
		InitialState: map[string]any{"prompt": s},
		Attributes:   Attrs{"nested": map[string]any{"list": []any{s, 1}}, "plain": s},
	})
	run.NodeStart("a", Attrs{"config": s})
	run.NodeProgress("a", s, 0.5)
	run.NodeThinking("a", s, 1)
	run.NodeSubstep("a", s, s)
	run.NodeWarning("a", s)
	run.Token(TokenChunk{RequestID: "r", Text: s})
	run.Tool(ToolCall{CallID: "c", Name: "http", Stage: pb.ToolExecution_EXECUTION_STAGE_FAILED,
		Arguments: map[string]any{"header": "Bearer " + strings.Repeat("t0k", 10), "q": s},
		Result:    json.RawMessage(`{"echo":"` + s + `"}`), Error: s})
	run.Tool(ToolCall{CallID: "c2", Name: "raw", Result: []byte("not json " + s)})
	run.Metrics(Metrics{Scope: "node", ScopeID: "a", Values: map[string]Metric{"note": {Value: s}}, Tags: map[string]string{"t": s}})
	run.Error(ErrorInfo{Code: "E1", Message: s, StackTrace: s, Context: map[string]string{"c": s}, Suggestions: []string{s}})
	run.ConditionalBranch("a", "b", s)
	run.NodeError("a", errors.New(s))
	run.NodeEnd("a", map[string]any{"messages": []any{map[string]any{"content": s}}, secret: "keys are not content"}, time.Millisecond)
	run.Event(pb.EventType_EVENT_TYPE_HUMAN_INTERRUPT, "a", Attrs{"why": s})
	run.Fail(errors.New(s))
	flush(t, p)

	rep := streamcheck.Check(consumeAll(t, c.ListenAddrs(), testTopic), streamcheck.Options{})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	th := rep.Threads["secrets"]
	var all strings.Builder
	for _, m := range th.Messages {
		all.WriteString(m.String())
	}
	text := all.String()
	// The only occurrence left is the state member name, which is not
	// content (consumers address it in patches).
	if n := strings.Count(text, secret); n != 1 {
		t.Fatalf("secret appears %d times in the stream; want only the member name", n)
	}
	if n := strings.Count(text, "[OPENAI_KEY]"); n < 25 {
		t.Fatalf("marker appears %d times", n)
	}
	if !strings.Contains(text, "Bearer [TOKEN]") {
		t.Fatal("bearer token not redacted in tool arguments")
	}
}

// TestRun_RedactionCanBeTurnedOff: DisableRedaction sends text as given.
func TestRun_RedactionCanBeTurnedOff(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) { c.DisableRedaction = true })
	secret := "sk-" + strings.Repeat("L3ak", 6)
	run := p.StartRun(RunStart{ThreadID: "plain"})
	run.NodeEnd("a", map[string]any{"k": secret}, 0)
	flush(t, p)
	th := check(t, c.ListenAddrs(), streamcheck.Options{}).Threads["plain"]
	if !strings.Contains(th.State.String(), secret) {
		t.Fatalf("state %s", th.State)
	}
}

// TestRun_StateDiffDisabledSendsNoState: no initial state, no diffs, no
// checkpoints (upstream M-667).
func TestRun_StateDiffDisabledSendsNoState(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) { c.DisableStateDiff = true; c.CheckpointInterval = 1 })
	run := p.StartRun(RunStart{ThreadID: "nostate", InitialState: map[string]any{"a": 1}})
	run.NodeEnd("a", map[string]any{"a": 2}, 0)
	run.Checkpoint()
	run.End(map[string]any{"a": 3})
	flush(t, p)
	rep := check(t, c.ListenAddrs(), streamcheck.Options{RequireEnd: true})
	if rep.ByKind["state_diff"] != 0 || rep.ByKind["checkpoint"] != 0 {
		t.Fatalf("kinds %v", rep.ByKind)
	}
	if _, ok := rep.Threads["nostate"].Messages[0].GetEvent().GetAttributes()["initial_state_json"]; ok {
		t.Fatal("initial_state_json sent")
	}
}

// TestRun_UnserializableStateIsSkippedAndCounted: the node's NODE_END still
// goes out; the consumer's state stays consistent.
func TestRun_UnserializableStateIsSkippedAndCounted(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), nil)
	run := p.StartRun(RunStart{ThreadID: "bad-state"})
	run.NodeEnd("a", json.RawMessage(`{"a":`), 0)
	run.NodeEnd("b", map[string]any{"f": math.Inf(1)}, 0)
	run.NodeEnd("c", map[string]any{"ch": make(chan int)}, 0)
	run.NodeEnd("d", map[string]any{"ok": true}, 0)
	flush(t, p)
	rep := check(t, c.ListenAddrs(), streamcheck.Options{})
	if got := counter(p.m.degraded.WithLabelValues(degradedSerialization)); got != 3 {
		t.Fatalf("degraded{serialization_failed} = %d", got)
	}
	if rep.ByKind["event:EVENT_TYPE_NODE_END"] != 4 || rep.ByKind["state_diff"] != 1 {
		t.Fatalf("kinds %v", rep.ByKind)
	}
}

// TestPatchJSONSize_MatchesThePatchDocument: the size weighed against the
// full state is exactly the length of the JSON Patch text.
func TestPatchJSONSize_MatchesThePatchDocument(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	keys := []string{"a", "b", "q\"uote", "back\\slash", "ctl\x01", "tab\t", "é", "a/b", "m~n"}
	gen := func() *jsontree.Node {
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteString(":")
			switch r.IntN(3) {
			case 0:
				b.WriteString(`[1,2.0,"x"]`)
			case 1:
				b.WriteString(`{"n":null}`)
			default:
				b.WriteString("12345678901234567890")
			}
		}
		b.WriteByte('}')
		n, err := jsontree.Parse([]byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for range 200 {
		a, b := gen(), gen()
		if r.IntN(3) == 0 {
			b, _ = b.ObjectRemove(keys[r.IntN(len(keys))])
		}
		patch := jsonpatch.Diff(a, b)
		if got, want := patchJSONSize(patch.ToDiffOperations()), len(patch.AppendJSON(nil)); got != want {
			t.Fatalf("size %d, document %d: %s", got, want, patch.AppendJSON(nil))
		}
	}
	moved, err := jsonpatch.Parse([]byte(`[{"op":"move","from":"/a","path":"/b"},{"op":"copy","from":"/b","path":"/c"},{"op":"test","path":"/c","value":1}]`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := patchJSONSize(moved.ToDiffOperations()), len(moved.AppendJSON(nil)); got != want {
		t.Fatalf("move/copy/test: size %d, document %d", got, want)
	}
}

// TestGraphSchema_ID matches the upstream recipe (value computed
// independently with Python's hashlib).
func TestGraphSchema_ID(t *testing.T) {
	s := &GraphSchema{
		EntryPoint: "router",
		Nodes:      []SchemaNode{{Name: "router"}, {Name: "tool"}, {Name: "llm"}, {Name: "aggregator"}},
		Edges: []SchemaEdge{
			{From: "router", To: "tool", EdgeType: EdgeConditional},
			{From: "router", To: "llm", EdgeType: EdgeConditional},
			{From: "tool", To: "aggregator", EdgeType: EdgeDirect},
			{From: "llm", To: "aggregator", EdgeType: EdgeParallel},
		},
	}
	if got := s.ID(); got != "8c38ba11dfd08dec" {
		t.Fatalf("schema_id %s", got)
	}
}

// TestAttrs_ConvertGoValues: each Go type maps to its AttributeValue.
func TestAttrs_ConvertGoValues(t *testing.T) {
	p := &Producer{cfg: DefaultConfig()}
	type custom struct{ A int }
	n := 5
	got := p.attrs(Attrs{
		"s": "x", "b": true, "i": int8(-3), "u": uint64(7), "big": uint64(math.MaxUint64), "f": float32(0.5),
		"d": 1500 * time.Microsecond, "num": json.Number("1.0"), "bytes": []byte{1}, "err": errors.New("e"),
		"list": []int{1, 2}, "map": map[string]string{"k": "v"}, "ptr": &n, "nilptr": (*int)(nil), "nil": nil,
		"struct": custom{A: 1}, "bad\xffkey": "v",
	})
	want := map[string]string{
		"s": `string_value:"x"`, "b": `bool_value:true`, "i": `int_value:-3`, "u": `int_value:7`,
		"big": `string_value:"18446744073709551615"`, "f": `float_value:0.5`, "d": `int_value:1500`,
		"num": `string_value:"1.0"`, "bytes": `bytes_value:"\x01"`, "err": `string_value:"e"`,
		"list": `array_value:{values:{int_value:1} values:{int_value:2}}`, "map": `map_value:{values:{key:"k" value:{string_value:"v"}}}`,
		"ptr": `int_value:5`, "struct": `string_value:"{1}"`, "bad\uFFFDkey": `string_value:"v"`,
	}
	if len(got) != len(want) {
		t.Errorf("%d attributes, want %d: %v", len(got), len(want), got)
	}
	for k, w := range want {
		g := strings.ReplaceAll(got[k].String(), "  ", " ")
		if g != w {
			t.Errorf("%s: got %s, want %s", k, g, w)
		}
	}
}

// TestMetrics_ProducersSharingARegistrySumTheirCounters: a second producer
// on the same registry adopts the first one's collectors instead of failing
// or clobbering them (upstream M-1040).
func TestMetrics_ProducersSharingARegistrySumTheirCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	m1, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m1.drop(typeEvent, dropQueueFull)
	m2.drop(typeEvent, dropQueueFull)
	m1.queueDepth.Inc()
	m2.queueDepth.Inc()
	if got := counter(m1.dropped.WithLabelValues(typeEvent, dropQueueFull)); got != 2 {
		t.Fatalf("shared drop counter %d", got)
	}
	if got := counter(m2.queueDepth); got != 2 {
		t.Fatalf("shared queue depth %d", got)
	}
	if m1.nDropped.Load() != 1 || m2.nDropped.Load() != 1 {
		t.Fatal("per-producer stats are not separate")
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "dashstream_") {
			t.Errorf("metric %s outside the dashstream_ namespace", f.GetName())
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "thread_id" {
					t.Errorf("%s has a thread_id label", f.GetName())
				}
			}
		}
	}
}

// TestRun_ChainedHashesMatchStatehash: over many versions of a state, made
// from the previous one with jsontree's update methods (so versions share
// containers) and now and then passed as JSON text instead (so they share
// none), every state_hash the run sends is statehash's over the state a
// consumer rebuilds, and the final state is the last one given.
func TestRun_ChainedHashesMatchStatehash(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	leaf := func() *jsontree.Node {
		lits := []string{`1`, `1.0`, `"x"`, `"é \"q\" \u0001"`, `null`, `true`, `12345678901234567890`, `{"deep":[1,{"k":"` + strings.Repeat("v", 60) + `"}]}`}
		n, err := jsontree.Parse([]byte(lits[r.IntN(len(lits))]))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	state, err := jsontree.Parse([]byte(`{"messages":[],"scores":{"a":1.0},"meta":{"name":"` + strings.Repeat("m", 80) + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	p, records := capturingProducer(t, func(c *Config) { c.DisableRedaction = true })
	run := p.StartRun(RunStart{ThreadID: "chain", InitialState: state})
	for v := range 200 {
		msgs, _ := state.Get("messages")
		switch r.IntN(4) {
		case 0:
			state = state.ObjectSet("messages", msgs.ArrayInsert(msgs.Len(), leaf()))
		case 1:
			if msgs.Len() > 0 {
				state = state.ObjectSet("messages", msgs.ArraySet(r.IntN(msgs.Len()), leaf()))
			}
		case 2:
			scores, _ := state.Get("scores")
			state = state.ObjectSet("scores", scores.ObjectSet(fmt.Sprint("k", r.IntN(20)), leaf()))
		case 3:
			if msgs.Len() > 0 {
				state = state.ObjectSet("messages", msgs.ArrayRemove(r.IntN(msgs.Len())))
			}
		}
		if v%7 == 0 { // now and then the same state as text: no shared nodes
			run.UpdateState(json.RawMessage(state.String()))
		} else {
			run.UpdateState(state)
		}
	}
	run.End(nil)
	rep := streamcheck.Check(records(), streamcheck.Options{RequireEnd: true})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	th := rep.Threads["chain"]
	if th == nil || th.Patches < 150 {
		t.Fatalf("stream %+v", th)
	}
	if got, want := statehash.CanonicalizeTree(th.State), statehash.CanonicalizeTree(state); !bytes.Equal(got, want) {
		t.Fatalf("rebuilt state\n %s\nwant\n %s", got, want)
	}
}

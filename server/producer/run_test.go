package producer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
	"github.com/dashstream/dashstream/server/producer/streamcheck"
)

// TestRun_LinearRunEmitsTheCanonicalOrder: upstream's order for A → B →
// END (producer note §4.2), with our additions: the edge's to attribute,
// duration_us as an attribute, parent_id.
func TestRun_LinearRunEmitsTheCanonicalOrder(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), nil)
	run := p.StartRun(RunStart{ThreadID: "linear-1", GraphName: "linear", InitialState: json.RawMessage(`{"counter":0}`)})
	run.NodeStart("A")
	run.NodeEnd("A", json.RawMessage(`{"counter":1}`), 120*time.Millisecond)
	run.Edge("A", "B")
	run.NodeStart("B")
	run.NodeEnd("B", json.RawMessage(`{"counter":2}`), 80*time.Millisecond)
	run.Edge("B", "__end__")
	run.End(json.RawMessage(`{"counter":2}`))
	flush(t, p)

	rep := check(t, c.ListenAddrs(), streamcheck.Options{RequireEnd: true})
	th := rep.Threads["linear-1"]
	var got []string
	for _, m := range th.Messages {
		if ev := m.GetEvent(); ev != nil {
			got = append(got, strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_")+" "+ev.GetNodeId())
		} else {
			got = append(got, "STATE_DIFF")
		}
	}
	want := []string{"GRAPH_START ", "NODE_START A", "STATE_DIFF", "NODE_END A", "EDGE_TRAVERSAL A",
		"NODE_START B", "STATE_DIFF", "NODE_END B", "EDGE_TRAVERSAL B", "STATE_DIFF", "GRAPH_END "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("order\n got %v\nwant %v", got, want)
	}
	for i, s := range th.Sequences {
		if s != uint64(i+1) {
			t.Fatalf("sequences %v", th.Sequences)
		}
	}
	nodeEnd := th.Messages[3].GetEvent()
	if nodeEnd.GetDurationUs() != 120_000 || nodeEnd.GetAttributes()["duration_us"].GetIntValue() != 120_000 {
		t.Errorf("NODE_END duration: field %d, attribute %v", nodeEnd.GetDurationUs(), nodeEnd.GetAttributes()["duration_us"])
	}
	if string(nodeEnd.GetHeader().GetParentId()) != string(th.Messages[1].GetEvent().GetHeader().GetMessageId()) {
		t.Error("NODE_END parent_id is not the NODE_START message_id")
	}
	if to := th.Messages[4].GetEvent().GetAttributes()["to"].GetStringValue(); to != "B" {
		t.Errorf("edge to = %q", to)
	}
	if got := statehash.CanonicalizeTree(th.State); string(got) != `{"counter":2}` {
		t.Errorf("final state %s", got)
	}
}

// TestRun_SequencesGaplessAcrossGoroutines: messages of one run emitted from
// many goroutines at once reach Kafka with sequences 1..N in offset order,
// and the state stays consistent.
func TestRun_SequencesGaplessAcrossGoroutines(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), nil)
	run := p.StartRun(RunStart{ThreadID: "concurrent-1", InitialState: map[string]any{"n": 0}})
	const goroutines, each = 8, 150
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := fmt.Sprintf("worker_%d", g)
			run.NodeStart(node)
			for i := range each {
				switch i % 5 {
				case 0:
					run.Token(TokenChunk{RequestID: node, Text: "tok ", ChunkIndex: uint32(i)})
				case 1:
					run.NodeProgress(node, "working", float64(i)/each)
				case 2:
					run.Tool(ToolCall{CallID: fmt.Sprint(g, i), Name: "search", Stage: pb.ToolExecution_EXECUTION_STAGE_STARTED})
				case 3:
					run.NodeEnd(node, map[string]any{"worker": g, "i": i, "pad": strings.Repeat("x", i)}, time.Millisecond)
				case 4:
					run.Metrics(Metrics{Scope: "node", ScopeID: node, Values: map[string]Metric{"i": Counter(int64(i), "")}})
				}
			}
		}()
	}
	wg.Wait()
	run.End(map[string]any{"n": 1})
	flush(t, p)
	rep := check(t, c.ListenAddrs(), streamcheck.Options{RequireEnd: true})
	th := rep.Threads["concurrent-1"]
	// Per goroutine: NODE_START, each call, and a StateDiff for each of
	// the each/5 NodeEnd calls; then the final StateDiff and GRAPH_END.
	if want := 1 + goroutines*(1+each+each/5) + 2; len(th.Sequences) != want {
		t.Fatalf("%d messages, want %d", len(th.Sequences), want)
	}
	for i, s := range th.Sequences {
		if s != uint64(i+1) {
			t.Fatalf("offset order gives sequence %d at position %d", s, i)
		}
	}
	if st := p.Stats(); st.Dropped != 0 || st.SendFailures != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestRun_StateStreaming: the first update is a full state, small changes to
// a larger state are patches, the 1.1x rule picks a full state when the patch
// is larger, and every input form keeps number literals exactly.
func TestRun_StateStreaming(t *testing.T) {
	big := strings.Repeat("lorem ipsum ", 40)
	tree, err := jsontree.Parse([]byte(`{"score":1.0,"id":12345678901234567890,"text":"` + big + `","n":0}`))
	if err != nil {
		t.Fatal(err)
	}
	one, _ := jsontree.NumberNode("1")
	tests := []struct {
		name      string
		states    []any
		wantKinds string // f = full, p = patch
		wantFinal string // canonical JSON
	}{
		{"raw JSON keeps 1.0 and big integers",
			[]any{json.RawMessage(`{"score":1.0,"id":12345678901234567890,"text":"` + big + `"}`),
				json.RawMessage(`{"score":0.5,"id":12345678901234567890,"text":"` + big + `"}`)},
			"fp", `{"id":12345678901234567890,"score":0.5,"text":"` + big + `"}`},
		{"a Go map with json.Number literals",
			[]any{map[string]any{"score": json.Number("1.0"), "text": big}, map[string]any{"score": json.Number("2.0"), "text": big}},
			"fp", `{"score":2.0,"text":"` + big + `"}`},
		{"a small state goes as a full state when the patch is larger (upstream example)",
			[]any{json.RawMessage(`{"counter":5,"messages":["Hello"]}`), json.RawMessage(`{"counter":6,"messages":["Hello","World"]}`)},
			"ff", `{"counter":6,"messages":["Hello","World"]}`},
		{"a jsontree state updated in place (shared subtrees)",
			[]any{tree, tree.ObjectSet("n", one)},
			"fp", `{"id":12345678901234567890,"n":1,"score":1.0,"text":"` + big + `"}`},
		{"1 to 1.0 is a change the consumer must see",
			[]any{json.RawMessage(`{"score":1,"text":"` + big + `"}`), json.RawMessage(`{"score":1.0,"text":"` + big + `"}`)},
			"fp", `{"score":1.0,"text":"` + big + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			p, _ := newTestProducer(t, c.ListenAddrs(), nil)
			run := p.StartRun(RunStart{ThreadID: "state-1"})
			for i, s := range tt.states {
				run.NodeEnd(fmt.Sprint("n", i), s, time.Millisecond)
			}
			run.End(nil)
			flush(t, p)
			th := check(t, c.ListenAddrs(), streamcheck.Options{}).Threads["state-1"]
			var kinds string
			for _, m := range th.Messages {
				if sd := m.GetStateDiff(); sd != nil {
					kinds += map[bool]string{true: "f", false: "p"}[len(sd.GetFullState()) > 0]
				}
			}
			if kinds != tt.wantKinds {
				t.Errorf("updates %q, want %q", kinds, tt.wantKinds)
			}
			if got := string(statehash.CanonicalizeTree(th.State)); got != tt.wantFinal {
				t.Errorf("final state\n got %s\nwant %s", got, tt.wantFinal)
			}
		})
	}
}

// TestRun_PatchesConsumersWouldRefuseGoAsFullState: a __proto__ member, a
// path over 1000 characters or more than 10,000 operations.
func TestRun_PatchesConsumersWouldRefuseGoAsFullState(t *testing.T) {
	pad := strings.Repeat("p", 3000)
	var many, manyChanged strings.Builder
	many.WriteString(`{"pad":"` + pad + `","a":[`)
	manyChanged.WriteString(`{"pad":"` + pad + `","a":[`)
	for i := range 10_001 {
		if i > 0 {
			many.WriteByte(',')
			manyChanged.WriteByte(',')
		}
		many.WriteString("0")
		manyChanged.WriteString("1")
	}
	many.WriteString("]}")
	manyChanged.WriteString("]}")
	tests := []struct{ name, from, to string }{
		{"__proto__", `{"pad":"` + pad + `","x":{"__proto__":1}}`, `{"pad":"` + pad + `","x":{"__proto__":2}}`},
		{"constructor", `{"pad":"` + pad + `"}`, `{"pad":"` + pad + `","constructor":{}}`},
		{"long path", `{"pad":"` + pad + `"}`, `{"pad":"` + pad + `","` + strings.Repeat("k", 1001) + `":1}`},
		{"too many operations", many.String(), manyChanged.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			p, _ := newTestProducer(t, c.ListenAddrs(), nil)
			run := p.StartRun(RunStart{ThreadID: "limits"})
			run.NodeEnd("a", json.RawMessage(tt.from), 0)
			run.NodeEnd("b", json.RawMessage(tt.to), 0)
			flush(t, p)
			th := check(t, c.ListenAddrs(), streamcheck.Options{}).Threads["limits"]
			if th.FullStates != 2 || th.Patches != 0 {
				t.Fatalf("%d full states, %d patches; want 2 full", th.FullStates, th.Patches)
			}
			if got := counter(p.m.degraded.WithLabelValues(degradedPatchLimits)); got != 1 {
				t.Errorf("degraded{patch_limits} = %d", got)
			}
			if got := counter(p.m.stateUpdates.WithLabelValues(kindFull, reasonPatchLimits)); got != 1 {
				t.Errorf("state_updates{full,patch_limits} = %d", got)
			}
		})
	}
}

// TestRun_CallsAfterEndDoNothing: End closes the run's stream.
func TestRun_CallsAfterEndDoNothing(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), nil)
	run := p.StartRun(RunStart{ThreadID: "ended"})
	run.Fail(errors.New("boom"))
	run.NodeStart("late")
	run.End(map[string]any{"x": 1})
	flush(t, p)
	th := check(t, c.ListenAddrs(), streamcheck.Options{RequireEnd: true}).Threads["ended"]
	if len(th.Messages) != 2 || !th.Failed {
		t.Fatalf("%d messages, failed=%v", len(th.Messages), th.Failed)
	}
	if e := th.Messages[1].GetEvent().GetAttributes()["error"].GetStringValue(); e != "boom" {
		t.Errorf("error attribute %q", e)
	}
}

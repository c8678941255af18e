package viewmodel

import (
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/app/internal/sample"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/pricing"
	"github.com/dashstream/dashstream/protocol/runstate"
)

func storeWith(msgs ...[]*pb.DashStreamMessage) *runstate.Store {
	s := runstate.NewStore(runstate.Config{})
	for _, m := range msgs {
		sample.Apply(s, m)
	}
	return s
}

func TestWaterfall_OneRowPerExecutionWithCallsNestedUnderTheirNode(t *testing.T) {
	r := storeWith(sample.Trace("trace").Msgs).Run("trace")
	w := BuildWaterfall(r, pricing.Builtin(), now)
	want := []struct {
		key, node string
		depth     int
		status    NodeStatus
	}{
		{"node:plan#1", "plan", 0, NodeCompleted},
		{"llm:req-plan", "plan", 1, NodeCompleted},
		{"node:web_search#1", "web_search", 0, NodeCompleted},
		{"tool:call-w", "web_search", 1, NodeCompleted},
		{"node:db_lookup#1", "db_lookup", 0, NodeCompleted},
		{"tool:call-d", "db_lookup", 1, NodeCompleted},
		{"node:write#1", "write", 0, NodeCompleted},
		{"llm:req-w1", "write", 1, NodeCompleted},
		{"node:write#2", "write", 0, NodeFailed},
		{"llm:req-w2", "write", 1, NodeFailed},
	}
	if len(w.Rows) != len(want) {
		for _, s := range w.Rows {
			t.Logf("%s node=%s depth=%d", s.Key, s.Node, s.Depth)
		}
		t.Fatalf("%d rows, want %d", len(w.Rows), len(want))
	}
	for i, c := range want {
		s := w.Rows[i]
		if s.Key != c.key || s.Node != c.node || s.Depth != c.depth || s.Status != c.status {
			t.Errorf("row %d = %s node %q depth %d %s, want %s node %q depth %d %s", i, s.Key, s.Node, s.Depth, s.Status,
				c.key, c.node, c.depth, c.status)
		}
	}
	// The node that ran twice has two bars, numbered, the second after
	// the first.
	w1, _ := w.Row("node:write#1")
	w2, _ := w.Row("node:write#2")
	if w1.Execution != 1 || w2.Execution != 2 || w2.Start < w1.End {
		t.Errorf("write's executions %+v then %+v", w1, w2)
	}
	if w2.Error != "rate limited" || w.Failed != "write: rate limited" || w.FailSeq == 0 || w.FailedAt < w2.End {
		t.Errorf("the failure must be marked: row %q, run %q at %v seq %d", w2.Error, w.Failed, w.FailedAt, w.FailSeq)
	}
	// Parallel branches overlap on the axis.
	web, _ := w.Row("node:web_search#1")
	db, _ := w.Row("node:db_lookup#1")
	if !(db.Start < web.End && web.Start < db.End) {
		t.Errorf("branches that ran at once must overlap: web %v–%v, db %v–%v", web.Start, web.End, db.Start, db.End)
	}
	// Times: sample messages are 250 ms apart; the run starts at seq 1.
	plan, _ := w.Row("node:plan#1")
	if plan.Start != 250*time.Millisecond || plan.Seq != plan.EndSeq || plan.Seq == 0 {
		t.Errorf("plan starts at seq 2 (250 ms) and selects its end: %+v", plan)
	}
	llm, _ := w.Row("llm:req-plan")
	if llm.TTFT != 250*time.Millisecond || llm.Duration() != 500*time.Millisecond {
		t.Errorf("announced call: TTFT %v (want 250ms), duration %v (want 500ms)", llm.TTFT, llm.Duration())
	}
	if !strings.Contains(llm.Detail, "1,200 tokens") || !strings.Contains(llm.Detail, "$0.00027") {
		t.Errorf("LLM detail %q", llm.Detail)
	}
	if w1llm, _ := w.Row("llm:req-w1"); w1llm.TTFT != -1 || !strings.Contains(w1llm.Detail, "3,500 tokens") || strings.Contains(w1llm.Detail, "$") {
		t.Errorf("an unannounced call of an unpriced model: TTFT unknown, tokens without a cost: %+v", w1llm)
	}
	if w.Live || w.Total != time.Duration(len(sample.Trace("x").Msgs)-1)*250*time.Millisecond {
		t.Errorf("axis of the ended run: %v (live %v)", w.Total, w.Live)
	}
	if l, wd := w.Left(plan), w.Width(plan); l <= 0 || wd <= 0 || l+wd > 100 {
		t.Errorf("plan's bar at %.1f%% wide %.1f%%", l, wd)
	}
	if tip := w.Tooltip(plan); !strings.Contains(tip, "00:00.2") || !strings.Contains(tip, "% of the run") {
		t.Errorf("tooltip %q", tip)
	}
	if len(w.Ticks) < 3 || w.Ticks[0].Label != "0s" {
		t.Errorf("ticks %+v", w.Ticks)
	}
}

func TestWaterfall_SelectionFollowsNodeAndSeq(t *testing.T) {
	w := BuildWaterfall(storeWith(sample.Trace("trace").Msgs).Run("trace"), nil, now)
	w1, _ := w.Row("node:write#1")
	w2, _ := w.Row("node:write#2")
	call, _ := w.Row("tool:call-w")
	cases := []struct {
		node string
		seq  uint64
		want string
	}{
		{"write", w1.Seq, "node:write#1"},
		{"write", w1.StartSeq, "node:write#1"},
		{"write", w2.StartSeq, "node:write#2"},
		{"write", 0, "node:write#2"},
		{"web_search", call.Seq, "tool:call-w"},
		{"", w1.Seq, ""},
		{"nope", 3, ""},
	}
	for _, c := range cases {
		got := ""
		if i := w.Selected(c.node, c.seq); i >= 0 {
			got = w.Rows[i].Key
		}
		if got != c.want {
			t.Errorf("Selected(%q, %d) = %q, want %q", c.node, c.seq, got, c.want)
		}
	}
}

func TestWaterfall_ACallThatCannotBeToldApartStaysAtTheTop(t *testing.T) {
	// Two tool nodes run at once and a tool named after neither reports:
	// either could have made it, so it is not nested under a guess.
	b := sample.NewBuilder("ambiguous").Start(sample.Schema, `{}`)
	b.NodeStart("web_search").NodeStart("db_lookup")
	b.Tool("call-x", "http_get", `{}`, `{}`, false)
	b.NodeEnd("web_search", 10).NodeEnd("db_lookup", 10).End()
	w := BuildWaterfall(storeWith(b.Msgs).Run("ambiguous"), nil, now)
	x, ok := w.Row("tool:call-x")
	if !ok || x.Depth != 0 || x.Node != "" {
		t.Errorf("ambiguous call: %+v (found %v)", x, ok)
	}
	// The same call made while one node runs belongs to it.
	b = sample.NewBuilder("single").Start(sample.Schema, `{}`)
	b.NodeStart("web_search").Tool("call-x", "http_get", `{}`, `{}`, false).NodeEnd("web_search", 10).End()
	w = BuildWaterfall(storeWith(b.Msgs).Run("single"), nil, now)
	if x, _ := w.Row("tool:call-x"); x.Node != "web_search" || x.Depth != 1 {
		t.Errorf("call within one running node: %+v", x)
	}
}

func TestWaterfall_LiveRunGrowsToNowOnTheProducersClock(t *testing.T) {
	s := storeWith(sample.Running("live"))
	r := s.Run("live")
	// The last message arrived at T0+len ms (sample.Apply); two seconds
	// later the open node has run two seconds longer than its start says.
	at := r.LastArrival().Add(2 * time.Second)
	w := BuildWaterfall(r, nil, at)
	route, ok := w.Row("node:route#1")
	if !ok || !route.Open || route.Status != NodeActive || route.EndSeq != 0 {
		t.Fatalf("the running node: %+v", route)
	}
	if !w.Live || route.End != w.Total || route.Duration() != 2*time.Second {
		t.Errorf("open bar ends at now: end %v, axis %v, duration %v", route.End, w.Total, route.Duration())
	}
	if !strings.Contains(w.Tooltip(route), "so far") {
		t.Errorf("tooltip of a running node %q", w.Tooltip(route))
	}
}

func TestLLMRows_TokensTimingAndCostPerCall(t *testing.T) {
	r := storeWith(sample.Trace("trace").Msgs).Run("trace")
	rows := TokenRows(r, pricing.Builtin(), now)
	by := map[string]TokenRow{}
	for _, row := range rows {
		by[row.RequestID] = row
	}
	plan := by["req-plan"]
	if plan.Node != "plan" || plan.Model != "gpt-4o-mini" || plan.Prompt != 1000 || plan.Completion != 200 || plan.Total != 1200 ||
		plan.TTFT != "250 ms" || plan.Duration != "500 ms" || plan.Cost != "$0.00027" || plan.Text != "Search both." ||
		plan.FinishReason != "stop" {
		t.Errorf("announced priced call: %+v", plan)
	}
	w1 := by["req-w1"]
	if w1.Cost != "" || w1.Unpriced != "no price for llama-3.1-70b-instruct" || w1.TTFT != "–" || w1.Tokens == "" || w1.Node != "write" || w1.Execution != 1 {
		t.Errorf("unpriced model: tokens, no cost, no guess: %+v", w1)
	}
	w2 := by["req-w2"]
	if !w2.Failed || w2.FinishReason != "error" || w2.Unpriced != "no token counts" || w2.Execution != 2 {
		t.Errorf("failed call: %+v", w2)
	}
	tools := ToolRows(r, now)
	if len(tools) != 2 || tools[1].CallID != "call-w" || tools[1].Node != "web_search" || tools[1].Retries != 1 || tools[1].Elapsed != "750 ms" {
		t.Errorf("tool rows %+v", tools)
	}
}

func TestTotals_AgreeWithTheSummaryAndNeverGuessACost(t *testing.T) {
	r := storeWith(sample.Trace("trace").Msgs).Run("trace")
	tot := NewTotals(r.Summary(), pricing.Builtin())
	if tot.LLMCalls != 3 || tot.PromptTokens != 4000 || tot.CompletionTokens != 700 || tot.Tokens != 4700 ||
		tot.ToolCalls != 2 || tot.Errors != 3 {
		t.Errorf("totals %+v", tot)
	}
	// gpt-4o-mini 1,000 in + 200 out; claude's failed call had no tokens;
	// llama has no price.
	if tot.Cost != "$0.00027" || tot.Unpriced != 1 || tot.CostNote != "excludes 1 call without a price" {
		t.Errorf("cost %q, %d unpriced, note %q", tot.Cost, tot.Unpriced, tot.CostNote)
	}
	if none := NewTotals(r.Summary(), nil); none.Cost != "" || none.Unpriced != 3 || !strings.Contains(none.CostNote, "llama-3.1-70b-instruct") {
		t.Errorf("without prices: %+v", none)
	}
	only := sample.NewBuilder("only-llama").Start(sample.Schema, `{}`)
	only.NodeStart("write").LLM(sample.LLM{Request: "r", Model: "llama-3.1-70b-instruct", Prompt: 10, Completion: 5, Chunks: []string{"x"}}).NodeEnd("write", 1).End()
	o := NewTotals(storeWith(only.Msgs).Run("only-llama").Summary(), pricing.Builtin())
	if o.Cost != "" || o.CostNote != "no price known for llama-3.1-70b-instruct" || o.Tokens != 15 {
		t.Errorf("a run of unpriced models only: %+v", o)
	}
}

func TestFailureOf_NamesTheErrorTheNodeAndTheMoment(t *testing.T) {
	s := storeWith(sample.Trace("trace").Msgs, sample.Research("ok"))
	f, ok := FailureOf(s.Run("trace"))
	w2, _ := BuildWaterfall(s.Run("trace"), nil, now).Row("node:write#2")
	if !ok || f.Node != "write" || f.Seq != w2.EndSeq || !strings.Contains(f.Error, "rate limited") {
		t.Errorf("failure %+v (%v), want write's error at seq %d", f, ok, w2.EndSeq)
	}
	if _, failed := FailureOf(s.Run("ok")); failed {
		t.Error("a completed run has no failure")
	}
}

func TestComparison_NodeTimesUsageAndFinalStates(t *testing.T) {
	a := sample.Trace("a")
	b := sample.NewBuilder("b").Start(sample.Schema, `{"q":1}`)
	b.NodeStart("plan").LLM(sample.LLM{Node: "plan", Request: "req-plan-b", Model: "gpt-4o-mini", Prompt: 2000, Completion: 400,
		Announce: true, Chunks: []string{"A", "B", "C", "D", "E", "F"}}).Set("plan", `"web"`).NodeEnd("plan", 2500)
	b.NodeStart("review").NodeEnd("review", 100).End()
	s := storeWith(a.Msgs, b.Msgs)
	c := BuildComparison("a", s.Run("a"), "b", s.Run("b"), pricing.Builtin(), now)
	if !c.A.Found || !c.B.Found || !c.SameGraph || c.A.Status != StatusFailed || c.B.Status != StatusCompleted || c.A.Failure == nil {
		t.Fatalf("sides %+v / %+v", c.A, c.B)
	}
	nodes := map[string]NodeCompare{}
	for _, n := range c.Nodes {
		nodes[n.Node] = n
	}
	// plan: 4 chunks more in b, 250 ms apart.
	if p := nodes["plan"]; p.RunsA != 1 || p.RunsB != 1 || p.B-p.A != time.Second || p.Delta != "+1.0 s" || !p.Slower {
		t.Errorf("plan %+v", p)
	}
	if w := nodes["write"]; w.RunsA != 2 || w.RunsB != 0 || w.Delta != "" || !w.FailedA {
		t.Errorf("write ran twice in a only: %+v", w)
	}
	if r := nodes["review"]; r.RunsA != 0 || r.RunsB != 1 {
		t.Errorf("review ran in b only: %+v", r)
	}
	if c.Nodes[0].Node != "plan" || c.Nodes[len(c.Nodes)-1].Node != "review" {
		t.Errorf("nodes in a's order, b's extras last: %+v", c.Nodes)
	}
	if c.TokenDelta != "−2,300" || c.LLMCallDelta != "−2" || c.ToolCallDelta != "−2" {
		t.Errorf("deltas tokens %q calls %q tools %q", c.TokenDelta, c.LLMCallDelta, c.ToolCallDelta)
	}
	// a: $0.00027 (llama unpriced); b: 2,000×0.15 + 400×0.60 per million.
	if c.CostDelta != "+$0.00027" {
		t.Errorf("cost delta %q", c.CostDelta)
	}
	diff := map[string]DiffRow{}
	for _, d := range c.Diff {
		diff[d.Path] = d
	}
	if d := diff["/plan"]; d.Op != "replace" || d.Old != `"both"` || d.Value != `"web"` {
		t.Errorf("final states' diff %+v", c.Diff)
	}
	if d := diff["/web"]; d.Op != "remove" {
		t.Errorf("a's /web is not in b: %+v", c.Diff)
	}
	half := BuildComparison("a", s.Run("a"), "zzz", nil, nil, now)
	if !half.A.Found || half.B.Found || half.Nodes != nil {
		t.Errorf("a run not loaded yet: %+v", half)
	}
}

func TestPreviousRun_IsTheLatestEarlierRunOfTheSameGraph(t *testing.T) {
	// Sample runs share T0: stagger their starts.
	s := storeWith(sample.Research("first"), sample.Shift(sample.Research("second"), time.Minute),
		sample.Shift(sample.Research("third"), 2*time.Minute), sample.Corrupted("other"))
	if got := PreviousRun(s, s.Run("third")); got != "second" {
		t.Errorf("previous of third = %q", got)
	}
	if got := PreviousRun(s, s.Run("first")); got != "" {
		t.Errorf("the first run has no previous one, got %q", got)
	}
}

func TestFormatUSDAndNumber(t *testing.T) {
	usd := map[float64]string{0: "$0", 1.234: "$1.23", 0.0123: "$0.012", 0.00027: "$0.00027", 0.0000001: "<$0.000001", 12: "$12.00"}
	for v, want := range usd {
		if got := FormatUSD(v); got != want {
			t.Errorf("FormatUSD(%v) = %q, want %q", v, got, want)
		}
	}
	nums := map[string]string{"0.6666666666666666": "0.667", "3.14159": "3.14", "12": "12", "1.0": "1", "0.000123456": "0.000123",
		"-0.5": "-0.5", "1e21": "1e21", "abc": "abc", "2.5": "2.5", "1234.5678": "1234.57", "NaN": "NaN"}
	for in, want := range nums {
		if got := FormatNumber(in); got != want {
			t.Errorf("FormatNumber(%q) = %q, want %q", in, got, want)
		}
	}
	if got := FormatValue("0.6666666666666666 ratio"); got != "0.667 ratio" {
		t.Errorf("FormatValue = %q", got)
	}
}

func TestBuildGraph_AnEdgesOwnLabelWinsOverAFannedOutOne(t *testing.T) {
	// support_triage's schema, as the demo sends it: the first conditional
	// edge lists every target, and each edge carries its own label.
	const schema = `{"name":"support_triage","entry_point":"classify_ticket","nodes":[{"name":"classify_ticket","node_type":"router"},
{"name":"billing_agent"},{"name":"technical_agent"},{"name":"escalate_to_human"},{"name":"other_queue"}],
"edges":[{"from":"classify_ticket","to":"billing_agent","edge_type":"conditional","label":"billing",
"conditional_targets":["billing_agent","technical_agent","escalate_to_human","other_queue"]},
{"from":"classify_ticket","to":"technical_agent","edge_type":"conditional","label":"technical"},
{"from":"classify_ticket","to":"escalate_to_human","edge_type":"conditional","label":"angry customer"}]}`
	b := sample.NewBuilder("triage").Start(schema, `{}`)
	r := storeWith(b.Msgs).Run("triage")
	g := BuildGraph(r, r.NodeStates())
	want := map[string]string{"billing_agent": "billing", "technical_agent": "technical", "escalate_to_human": "angry customer", "other_queue": ""}
	got := map[string]string{}
	for _, e := range g.Edges {
		got[e.To] = e.Label
		if e.Kind != EdgeConditional {
			t.Errorf("edge to %s is %s", e.To, e.Kind)
		}
	}
	if len(g.Edges) != len(want) {
		t.Errorf("%d edges, want %d (one per target, no duplicate): %+v", len(g.Edges), len(want), g.Edges)
	}
	for to, label := range want {
		if got[to] != label {
			t.Errorf("edge to %s labelled %q, want %q", to, got[to], label)
		}
	}
}

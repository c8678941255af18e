package runsummary

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/pricing"
)

const t0 = int64(1_780_000_000_000_000) // producer microseconds

func hdr(seq uint64, ts int64) *pb.Header {
	return &pb.Header{ThreadId: "th", TenantId: "acme", Sequence: seq, TimestampUs: ts}
}

func str(s string) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_StringValue{StringValue: s}}
}
func num(n int64) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_IntValue{IntValue: n}}
}

func event(seq uint64, ts int64, typ pb.EventType, node string, attrs map[string]*pb.AttributeValue) *pb.DashStreamMessage {
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header: hdr(seq, ts), EventType: typ, NodeId: node, Attributes: attrs}}}
}

func start(seq uint64, ts int64) *pb.DashStreamMessage {
	return event(seq, ts, pb.EventType_EVENT_TYPE_GRAPH_START, "", map[string]*pb.AttributeValue{
		"graph_name": str("research"), "schema_id": str("0123456789abcdef")})
}

func token(seq uint64, ts int64, req, model string, final bool, p, c uint32) *pb.DashStreamMessage {
	tc := &pb.TokenChunk{Header: hdr(seq, ts), RequestId: req, Text: "x", IsFinal: final, Model: model}
	if final {
		tc.Stats = &pb.TokenStats{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c}
	}
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: tc}}
}

func tool(seq uint64, ts int64, id string, stage pb.ToolExecution_ExecutionStage) *pb.DashStreamMessage {
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: &pb.ToolExecution{
		Header: hdr(seq, ts), CallId: id, ToolName: "search", Stage: stage}}}
}

func diff(seq uint64, ts int64) *pb.DashStreamMessage {
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{Header: hdr(seq, ts)}}}
}

func observeAll(msgs ...*pb.DashStreamMessage) *Summary {
	s := New("th")
	for i, m := range msgs {
		s.Observe(m, Position{Partition: 2, Offset: int64(100 + i)})
	}
	return s
}

func TestSummary_CompletedRunWithCallsAndTools(t *testing.T) {
	ms := int64(1000)
	s := observeAll(
		start(1, t0),
		event(2, t0+1*ms, pb.EventType_EVENT_TYPE_NODE_START, "plan", nil),
		token(3, t0+2*ms, "r1", "gpt-4o-mini", false, 0, 0),
		token(4, t0+3*ms, "r1", "gpt-4o-mini", true, 1000, 200),
		diff(5, t0+4*ms),
		event(6, t0+5*ms, pb.EventType_EVENT_TYPE_NODE_END, "plan", nil),
		event(7, t0+6*ms, pb.EventType_EVENT_TYPE_NODE_START, "act", nil),
		tool(8, t0+7*ms, "c1", pb.ToolExecution_EXECUTION_STAGE_STARTED),
		tool(9, t0+8*ms, "c1", pb.ToolExecution_EXECUTION_STAGE_COMPLETED),
		token(10, t0+9*ms, "r2", "llama-3.1-70b-instruct", true, 50, 5),
		event(11, t0+10*ms, pb.EventType_EVENT_TYPE_NODE_END, "act", nil),
		event(12, t0+1500*ms, pb.EventType_EVENT_TYPE_GRAPH_END, "", nil),
	)
	want := Summary{
		ThreadID: "th", TenantID: "acme", GraphName: "research", GraphVersion: "0123456789abcdef",
		Status: Completed, Outcome: Completed, StartedAt: Time(t0), EndedAt: Time(t0 + 1500*ms), LastAt: Time(t0 + 1500*ms),
		DurationMs: 1500, NodeCount: 2, MessageCount: 12, FirstSeq: 1, LastSeq: 12,
		Partition: 2, FirstOffset: 100, LastOffset: 111, StartSeen: true,
		LLMCalls: 2, PromptTokens: 1050, CompletionTokens: 205, TotalTokens: 1255, ToolCalls: 1,
	}
	got := s.Clone()
	got.Models, got.seen, got.outcomeSet = nil, nil, false
	if !equalJSON(t, got, want) {
		t.Fatalf("summary\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, want))
	}
	if len(s.Models) != 2 || s.Models[0] != (ModelUsage{"gpt-4o-mini", 1, 1000, 200}) {
		t.Errorf("models: %+v", s.Models)
	}
	if s.seen != nil {
		t.Error("a finished run keeps its call ids")
	}
	p := s.Priced(pricing.Builtin())
	wantCost := (1000*0.15 + 200*0.60) / 1e6
	if p.CostUSD == nil || math.Abs(*p.CostUSD-wantCost) > 1e-9 || p.UnpricedCalls != 1 {
		t.Errorf("priced: cost %v, unpriced %d; want %v and 1 (llama has no price)", p.CostUSD, p.UnpricedCalls, wantCost)
	}
	if s.CostUSD != nil {
		t.Error("Priced changed the summary")
	}
}

func TestSummary_FailedRunNamesItsErrorAndNode(t *testing.T) {
	s := observeAll(
		start(1, t0),
		event(2, t0+1, pb.EventType_EVENT_TYPE_NODE_START, "fetch", nil),
		event(3, t0+2, pb.EventType_EVENT_TYPE_NODE_ERROR, "fetch", map[string]*pb.AttributeValue{"error": str("HTTP 503 from upstream")}),
		event(4, t0+3, pb.EventType_EVENT_TYPE_GRAPH_ERROR, "", map[string]*pb.AttributeValue{"error": str("fetch: HTTP 503 from upstream")}),
	)
	if s.Status != Failed || s.Error != "fetch: HTTP 503 from upstream" || s.ErrorNode != "fetch" || s.ErrorSeq != 4 || s.Errors != 2 {
		t.Fatalf("got status %s error %q node %q seq %d errors %d", s.Status, s.Error, s.ErrorNode, s.ErrorSeq, s.Errors)
	}
}

func TestSummary_NodeErrorAloneKeepsTheRunRunning(t *testing.T) {
	s := observeAll(start(1, t0), event(2, t0+1, pb.EventType_EVENT_TYPE_NODE_ERROR, "n", nil))
	if s.Status != Running || s.Error != "node n failed" || s.ErrorNode != "n" {
		t.Fatalf("status %s error %q node %q", s.Status, s.Error, s.ErrorNode)
	}
}

func TestSummary_QualityAlertIsNotAFailure(t *testing.T) {
	s := observeAll(start(1, t0), event(2, t0+1, pb.EventType_EVENT_TYPE_GRAPH_ERROR, "quality_monitor",
		map[string]*pb.AttributeValue{"alert_type": str("low_quality"), "error": str("x")}))
	if s.Status != Running || s.Error != "" || s.Errors != 0 {
		t.Fatalf("status %s error %q errors %d", s.Status, s.Error, s.Errors)
	}
}

func TestSummary_RunWithoutItsStartIsIncomplete(t *testing.T) {
	s := observeAll(diff(40, t0+40), event(41, t0+41, pb.EventType_EVENT_TYPE_GRAPH_END, "", nil))
	if s.Status != Incomplete || s.Outcome != Completed || s.FirstSeq != 40 || s.StartSeen {
		t.Fatalf("status %s outcome %s first %d", s.Status, s.Outcome, s.FirstSeq)
	}
	// The start arriving late (unordered producers) completes it.
	s.Observe(start(1, t0), Position{Partition: 2, Offset: 99})
	if s.Status != Completed || s.StartedAt != Time(t0) || s.FirstOffset != 99 {
		t.Fatalf("after the start: status %s started %v first offset %d", s.Status, s.StartedAt, s.FirstOffset)
	}
	s.SetTrimmed()
	if s.Status != Incomplete || s.Outcome != Completed {
		t.Fatalf("trimmed: status %s outcome %s", s.Status, s.Outcome)
	}
}

func TestSummary_EachCallCountsOnce(t *testing.T) {
	s := observeAll(
		start(1, t0),
		token(2, t0, "r1", "gpt-4o", true, 10, 1),
		token(3, t0, "r1", "gpt-4o", true, 10, 1), // a second final chunk of the same call
		event(4, t0, pb.EventType_EVENT_TYPE_LLM_END, "n", map[string]*pb.AttributeValue{"prompt_tokens": num(10)}),
		tool(5, t0, "c1", pb.ToolExecution_EXECUTION_STAGE_FAILED),
		tool(6, t0, "c1", pb.ToolExecution_EXECUTION_STAGE_COMPLETED),
		tool(7, t0, "", pb.ToolExecution_EXECUTION_STAGE_COMPLETED),
	)
	// LLM_END without llm_request_id is a call of its own.
	if s.LLMCalls != 2 || s.PromptTokens != 20 || s.ToolCalls != 2 || s.ToolErrors != 1 {
		t.Fatalf("llm %d prompt %d tools %d tool errors %d", s.LLMCalls, s.PromptTokens, s.ToolCalls, s.ToolErrors)
	}
	withID := event(8, t0, pb.EventType_EVENT_TYPE_LLM_END, "n", nil)
	withID.GetEvent().LlmRequestId = "r1"
	s.Observe(withID, Position{Offset: -1})
	if s.LLMCalls != 2 {
		t.Fatalf("an LLM_END of a streamed call counted again: %d", s.LLMCalls)
	}
}

func TestSummary_EventBatchCountsEachEvent(t *testing.T) {
	batch := &pb.DashStreamMessage{Message: &pb.DashStreamMessage_EventBatch{EventBatch: &pb.EventBatch{
		Header: hdr(0, t0+9),
		Events: []*pb.Event{
			{Header: &pb.Header{ThreadId: "th", Sequence: 2}, EventType: pb.EventType_EVENT_TYPE_NODE_START, NodeId: "a"},
			{Header: &pb.Header{ThreadId: "th", Sequence: 3, TimestampUs: t0 + 5}, EventType: pb.EventType_EVENT_TYPE_NODE_START, NodeId: "b"},
			nil,
		},
	}}}
	s := observeAll(start(1, t0), batch)
	if s.MessageCount != 4 || s.NodeCount != 2 || s.LastSeq != 3 || s.LastAt != Time(t0+9) {
		t.Fatalf("messages %d nodes %d last seq %d last at %d", s.MessageCount, s.NodeCount, s.LastSeq, s.LastAt-Time(t0))
	}
}

func TestSummary_ModelsAreBounded(t *testing.T) {
	s := New("th")
	for i := range MaxModels + 5 {
		s.Observe(token(uint64(i+1), t0, "r"+string(rune('a'+i)), "model-"+string(rune('a'+i)), true, 1, 1), Position{Offset: -1})
	}
	if len(s.Models) != MaxModels+1 || s.Models[MaxModels].Model != OtherModel || s.Models[MaxModels].Calls != 5 {
		t.Fatalf("models: %+v", s.Models)
	}
	if _, unpriced := s.Cost(pricing.Builtin()); unpriced != MaxModels+5 {
		t.Errorf("unpriced = %d", unpriced)
	}
	if p := s.Priced(pricing.Builtin()); p.CostUSD != nil {
		t.Errorf("a run with no priced call has a cost: %v", *p.CostUSD)
	}
}

func TestSummary_HostileStringsAreBoundedAndValid(t *testing.T) {
	long := strings.Repeat("é", 5000) + "\xff"
	s := New(long)
	s.Observe(event(1, t0, pb.EventType_EVENT_TYPE_GRAPH_START, "", map[string]*pb.AttributeValue{"graph_name": str(long)}), Position{Offset: -1})
	s.Observe(event(2, t0, pb.EventType_EVENT_TYPE_GRAPH_ERROR, long, map[string]*pb.AttributeValue{"error": str(long)}), Position{Offset: -1})
	for name, v := range map[string]string{"thread": s.ThreadID, "graph": s.GraphName, "error": s.Error, "node": s.ErrorNode} {
		if n := len([]rune(v)); n > max(MaxThreadID, MaxErrorChars, MaxNameChars)+1 {
			t.Errorf("%s kept %d characters", name, n)
		}
		if !utf8.ValidString(v) {
			t.Errorf("%s is not valid UTF-8", name)
		}
	}
	if s.Size() > 4096 {
		t.Errorf("summary holds %d bytes", s.Size())
	}
}

func TestSummary_SizeOfATypicalRun(t *testing.T) {
	s := observeAll(start(1, t0), token(2, t0, "r", "gpt-4o-mini", true, 1, 1), token(3, t0, "q", "claude-3-5-sonnet", true, 1, 1),
		event(4, t0, pb.EventType_EVENT_TYPE_GRAPH_ERROR, "", map[string]*pb.AttributeValue{"error": str(strings.Repeat("x", 400))}))
	s.ThreadID = "thread-0b6f2a1c-7d7e-4c52-9c55-0cc1b7ad0f4e"
	if n := s.Size(); n > 1024 {
		t.Errorf("a typical summary holds %d bytes, over the 1 KB target", n)
	}
}

func TestTime_JSONRoundTrip(t *testing.T) {
	in := struct {
		A, B Time
	}{Time(t0 + 123), 0}
	b := mustJSON(t, in)
	if !strings.Contains(string(b), `"B":null`) || !strings.Contains(string(b), time.UnixMicro(t0).UTC().Format("2006-01-02T15:04")) {
		t.Fatalf("json %s", b)
	}
	var out struct{ A, B Time }
	if err := json.Unmarshal(b, &out); err != nil || out.A != in.A || out.B != 0 {
		t.Fatalf("round trip: %v %+v", err, out)
	}
	for _, bad := range []string{`{"A":1}`, `{"A":"yesterday"}`, `{"A":"2026-13-01T00:00:00Z"}`} {
		if err := json.Unmarshal([]byte(bad), &out); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestSummary_JSONRoundTrip(t *testing.T) {
	s := observeAll(start(1, t0), token(2, t0+5, "r", "gpt-4o", true, 3, 4), event(3, t0+9, pb.EventType_EVENT_TYPE_GRAPH_END, "", nil))
	p := s.Priced(pricing.Builtin())
	var back Summary
	if err := json.Unmarshal(mustJSON(t, p), &back); err != nil {
		t.Fatal(err)
	}
	if !equalJSON(t, back, p) {
		t.Fatalf("round trip\n got %s\nwant %s", mustJSON(t, back), mustJSON(t, p))
	}
	for _, key := range []string{`"thread_id"`, `"graph_name"`, `"status":"completed"`, `"started_at":"`, `"ended_at":"`, `"duration_ms"`, `"node_count"`, `"message_count"`, `"cost_usd"`} {
		if !strings.Contains(string(mustJSON(t, p)), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func FuzzObserve(f *testing.F) {
	for _, m := range []*pb.DashStreamMessage{start(1, t0), token(2, t0, "r", "gpt-4o", true, 1, 2), tool(3, t0, "c", pb.ToolExecution_EXECUTION_STAGE_FAILED)} {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m pb.DashStreamMessage
		if err := proto.Unmarshal(data, &m); err != nil {
			return
		}
		s := New("th")
		s.Observe(&m, Position{Offset: 1})
		s.Observe(&m, Position{Offset: 2})
		if s.MessageCount < 0 || s.LLMCalls < 0 || len(s.Models) > MaxModels+1 {
			t.Fatalf("bad summary %+v", s)
		}
		if _, err := json.Marshal(s.Priced(pricing.Builtin())); err != nil {
			t.Fatal(err)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func equalJSON(t *testing.T, a, b any) bool {
	return string(mustJSON(t, a)) == string(mustJSON(t, b))
}

func TestMatches_CaseInsensitiveInThreadGraphAndError(t *testing.T) {
	s := New("Thread-ABC")
	s.GraphName, s.Error = "Research_Assistant", "Tool TIMED OUT after 30 s"
	cases := map[string]bool{"": true, "thread-abc": true, "abc": true, "research_a": true, "timed out": true,
		"30 s": true, "assistantx": false, "thread-abcd": false, "d-ab": true}
	for q, want := range cases {
		if got := s.Matches(q); got != want {
			t.Errorf("Matches(%q) = %v, want %v", q, got, want)
		}
	}
	u := New("ünïcode-Ä")
	u.Error = "ÉCHEC du nœud"
	for q, want := range map[string]bool{"ünïcode-ä": true, "échec": true, "nœud": true, "echec": false} {
		if got := u.Matches(q); got != want {
			t.Errorf("non-ASCII Matches(%q) = %v, want %v", q, got, want)
		}
	}
}

package producer

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runsummary"
	"github.com/dashstream/dashstream/server/producer/streamcheck"
)

// TestRun_LLMEventsTieTheCallToItsNodeAndCarryItsUsage: LLM_START and
// LLM_END name the node and the request id of the call's chunks, LLM_END
// carries the usage, LLM_ERROR the (redacted) error; the run summary
// counts each call once although both its final chunk and its LLM_END
// report it.
func TestRun_LLMEventsTieTheCallToItsNodeAndCarryItsUsage(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), nil)
	run := p.StartRun(RunStart{ThreadID: "llm-1", GraphName: "g", InitialState: json.RawMessage(`{}`)})
	secret := "sk-" + strings.Repeat("L3ak", 6)
	run.NodeStart("draft")
	ok := LLMCall{Node: "draft", RequestID: "req-1", Model: "gpt-4o-mini"}
	run.LLMStart(ok)
	run.Token(TokenChunk{RequestID: "req-1", Text: "Hi", ChunkIndex: 0, IsFinal: true, Model: "gpt-4o-mini",
		FinishReason: pb.TokenChunk_FINISH_REASON_STOP, Stats: &pb.TokenStats{PromptTokens: 1500, CompletionTokens: 1, TotalTokens: 1501}})
	ok.PromptTokens, ok.CompletionTokens, ok.FinishReason, ok.Duration = 1500, 1, "stop", 800*time.Millisecond
	run.LLMEnd(ok)
	bad := LLMCall{Node: "draft", RequestID: "req-2", Model: "claude-3-5-sonnet", Err: errors.New("429 for key " + secret)}
	run.LLMStart(bad)
	run.LLMEnd(bad)
	run.NodeEnd("draft", json.RawMessage(`{"a":1}`), time.Second)
	run.End(nil)
	flush(t, p)

	th := check(t, c.ListenAddrs(), streamcheck.Options{RequireEnd: true}).Threads["llm-1"]
	sum := runsummary.New("llm-1")
	var events []*pb.Event
	for _, m := range th.Messages {
		sum.Observe(m, runsummary.Position{Offset: -1})
		if ev := m.GetEvent(); ev != nil && ev.GetLlmRequestId() != "" {
			events = append(events, ev)
		}
	}
	if len(events) != 4 {
		t.Fatalf("%d LLM events, want 4", len(events))
	}
	want := []struct {
		typ pb.EventType
		req string
	}{{pb.EventType_EVENT_TYPE_LLM_START, "req-1"}, {pb.EventType_EVENT_TYPE_LLM_END, "req-1"},
		{pb.EventType_EVENT_TYPE_LLM_START, "req-2"}, {pb.EventType_EVENT_TYPE_LLM_ERROR, "req-2"}}
	for i, w := range want {
		if e := events[i]; e.GetEventType() != w.typ || e.GetLlmRequestId() != w.req || e.GetNodeId() != "draft" {
			t.Errorf("event %d: %v %q node %q, want %v %q draft", i, e.GetEventType(), e.GetLlmRequestId(), e.GetNodeId(), w.typ, w.req)
		}
	}
	end := events[1].GetAttributes()
	if end["prompt_tokens"].GetIntValue() != 1500 || end["completion_tokens"].GetIntValue() != 1 || end["model"].GetStringValue() != "gpt-4o-mini" ||
		events[1].GetDurationUs() != 800_000 {
		t.Errorf("LLM_END attributes %v", end)
	}
	if msg := events[3].GetAttributes()["error"].GetStringValue(); msg == "" || strings.Contains(msg, secret) {
		t.Errorf("LLM_ERROR error %q must be sent, redacted", msg)
	}
	if sum.LLMCalls != 2 || sum.PromptTokens != 1500 || sum.CompletionTokens != 1 || sum.Errors != 1 {
		t.Errorf("summary: %d calls, %d+%d tokens, %d errors", sum.LLMCalls, sum.PromptTokens, sum.CompletionTokens, sum.Errors)
	}
}

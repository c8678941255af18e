package runstate

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// The run store's summary is the one runsummary builds from the producer's
// messages in order, whatever duplicates and reordering the delivery adds:
// the browser's rows agree with the gateway's catalog.
func TestRunSummary_MatchesTheCatalogsDespiteDuplicatesAndReordering(t *testing.T) {
	for it := range 30 {
		r := rand.New(rand.NewPCG(uint64(it), 7))
		p := newProducer(r, "t")
		for i := range 30 + r.IntN(60) {
			p.step()
			if i%9 == 0 { // a finished LLM call and a tool call, so the counts are not all zero
				p.emit(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: &pb.TokenChunk{
					Header: header(p.thread, p.next(), 3), RequestId: "q" + itoa(i), IsFinal: true, Model: "gpt-4o",
					Stats: &pb.TokenStats{PromptTokens: uint32(i), CompletionTokens: 2}}}})
				p.emit(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: &pb.ToolExecution{
					Header: header(p.thread, p.next(), 4), CallId: "c" + itoa(i), Stage: pb.ToolExecution_EXECUTION_STAGE_COMPLETED}}})
			}
		}
		p.emit(event(p.thread, p.next(), pb.EventType_EVENT_TYPE_GRAPH_END, "", nil))
		s := NewStore(Config{ReorderWindow: 16})
		for i, m := range delivery(r, p.msgs, 4, 0.2) {
			s.Apply(m, Meta{Partition: 3, Offset: int64(i), Received: at(i)})
		}
		want := runsummary.New("t")
		for _, m := range p.msgs {
			want.Observe(m, runsummary.Position{Offset: -1})
		}
		got := s.Run("t").Summary()
		got.Partition, got.FirstOffset, got.LastOffset = want.Partition, want.FirstOffset, want.LastOffset
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Fatalf("iteration %d:\nstore   %s\nmessages %s", it, g, w)
		}
		if got.LLMCalls == 0 || got.ToolCalls != got.LLMCalls || got.Outcome != runsummary.Completed {
			t.Fatalf("iteration %d: the stream's calls were not counted: %+v", it, got)
		}
		if got.MessageCount != len(p.msgs) {
			t.Fatalf("iteration %d: %d messages counted of %d", it, got.MessageCount, len(p.msgs))
		}
	}
}

func TestRunSummary_KnowsWhereTheRunLies(t *testing.T) {
	s := NewStore(Config{})
	s.Apply(graphStart("t", 1, `{}`), Meta{Partition: 4, Offset: 70, Received: at(0)})
	s.Apply(event("t", 2, pb.EventType_EVENT_TYPE_GRAPH_END, "", nil), Meta{Partition: 4, Offset: 75, Received: at(1)})
	sum := s.Run("t").Summary()
	if sum.Partition != 4 || sum.FirstOffset != 70 || sum.LastOffset != 75 || sum.Status != runsummary.Completed {
		t.Fatalf("summary %+v", sum)
	}
}

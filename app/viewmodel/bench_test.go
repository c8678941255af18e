package viewmodel

import (
	"fmt"
	"testing"

	"github.com/dashstream/dashstream/app/internal/sample"
	"github.com/dashstream/dashstream/protocol/pricing"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// longRun is a run of 200 node executions, each with an announced LLM call
// of 20 chunks and a tool call: about 5,600 messages.
func longRun() *runstate.Run {
	b := sample.NewBuilder("long").Start(sample.Schema, `{}`)
	for i := range 200 {
		req := fmt.Sprintf("req-%d", i)
		chunks := make([]string, 20)
		for j := range chunks {
			chunks[j] = "word "
		}
		b.NodeStart("write").LLM(sample.LLM{Node: "write", Request: req, Model: "gpt-4o-mini", Prompt: 900, Completion: 20,
			Announce: true, Chunks: chunks})
		b.Tool(fmt.Sprintf("call-%d", i), "web_search", `{}`, `{}`, false).NodeEnd("write", 100)
	}
	s := runstate.NewStore(runstate.Config{})
	sample.Apply(s, b.End().Msgs)
	return s.Run("long")
}

// The timeline tab rebuilds its waterfall at every redraw of a live run
// (up to ten a second); EventRows, which the Events tab rebuilds as
// often, is the baseline in the same run.
func BenchmarkBuildWaterfall(b *testing.B) {
	r, prices := longRun(), pricing.Builtin()
	b.ReportAllocs()
	for b.Loop() {
		BuildWaterfall(r, prices, now)
	}
}

func BenchmarkEventRows_Baseline(b *testing.B) {
	r := longRun()
	b.ReportAllocs()
	for b.Loop() {
		EventRows(r)
	}
}

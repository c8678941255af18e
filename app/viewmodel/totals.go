package viewmodel

import (
	"github.com/dashstream/dashstream/protocol/pricing"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// Totals are a run's usage figures for its header, from the same
// runsummary.Summary the gateway's run catalog keeps, so the header and
// the runs list agree.
type Totals struct {
	LLMCalls                               int
	PromptTokens, CompletionTokens, Tokens uint64
	ToolCalls, ToolErrors, Errors          int
	// Cost is the priced calls' cost ("" when no call is priced);
	// Unpriced counts the calls without a price, and CostNote says so in
	// words ("" when every call is priced).
	Cost     string
	Unpriced int
	CostNote string
	// Models lists the models used with their calls and tokens, most
	// used first as the summary keeps them.
	Models []runsummary.ModelUsage
}

// Failure is why a failed run failed: the error, the node where it
// happened, and the sequence of that moment (0 when unknown).
type Failure struct {
	Error, Node string
	Seq         uint64
}

// NewTotals prices a run's summary with prices (nil: no prices known).
func NewTotals(s runsummary.Summary, prices *pricing.Table) Totals {
	t := Totals{LLMCalls: s.LLMCalls, PromptTokens: s.PromptTokens, CompletionTokens: s.CompletionTokens,
		Tokens: s.TotalTokens, ToolCalls: s.ToolCalls, ToolErrors: s.ToolErrors, Errors: s.Errors}
	t.Models = append(t.Models, s.Models...)
	if prices == nil {
		prices = &pricing.Table{}
	}
	p := s.Priced(prices)
	t.Unpriced = p.UnpricedCalls
	if p.CostUSD != nil {
		t.Cost = FormatUSD(*p.CostUSD)
	}
	switch {
	case s.LLMCalls == 0:
	case t.Unpriced == s.LLMCalls:
		t.CostNote = "no price known for " + modelList(s.Models)
	case t.Unpriced > 0:
		t.CostNote = "excludes " + Plural(t.Unpriced, "call", "calls") + " without a price"
	}
	return t
}

func modelList(ms []runsummary.ModelUsage) string {
	out := ""
	for i, m := range ms {
		name := m.Model
		if name == "" {
			name = "an unnamed model"
		}
		switch {
		case i == 0:
		case i == len(ms)-1:
			out += " and "
		default:
			out += ", "
		}
		out += name
	}
	if out == "" {
		return "the models used"
	}
	return out
}

// FailureOf returns why a run failed, and false when it did not (or says
// nothing about it).
func FailureOf(r *runstate.Run) (Failure, bool) {
	s := r.Summary()
	if s.Outcome != runsummary.Failed && r.Status() != runstate.RunFailed {
		return Failure{}, false
	}
	f := Failure{Error: s.Error, Node: s.ErrorNode, Seq: s.ErrorSeq}
	if f.Error == "" {
		f.Error = r.FailureReason()
	}
	// The moment to show is the failing node's error when it is known:
	// the graph's own error comes after it and changes nothing.
	for _, n := range r.NodeStates() {
		if n.Status == runstate.NodeFailed && (f.Node == "" || n.Name == f.Node) {
			f.Node = n.Name
			if n.EndSeq != 0 {
				f.Seq = n.EndSeq
			}
			break
		}
	}
	if f.Error == "" {
		f.Error = "the run failed without saying why"
	}
	return f, true
}

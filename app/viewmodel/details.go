package viewmodel

import (
	"strings"
	"time"

	"github.com/dashstream/dashstream/protocol/pricing"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// TokenRow is one LLM call: its response assembled from its chunks, its
// usage, timing and cost.
type TokenRow struct {
	RequestID, Model string
	// Node and Execution are the node execution that made the call (see
	// BuildWaterfall); "" when it cannot be told.
	Node            string
	Execution       int
	Chunks, Missing int
	Final           bool
	FinishReason    string
	// Tokens is the usage in words ("" when the call reported none);
	// Prompt, Completion and Total the counts.
	Tokens                    string
	Prompt, Completion, Total uint32
	// Cost is the call's price ("" when its model has none); Unpriced
	// says why there is no cost.
	Cost, Unpriced string
	// TTFT and Duration are the time to first token and the call's
	// length, "–" when unknown.
	TTFT, Duration string
	Failed         bool
	FirstSeq       uint64
	LastSeq        uint64
	Truncated      bool
	Text           string
}

// TokenRows copies a run's LLM calls, most recently updated first; prices
// (nil for none) gives them their cost.
func TokenRows(r *runstate.Run, prices *pricing.Table, now time.Time) []TokenRow {
	ts := r.TokenStreams()
	spans := spansByKey(BuildWaterfall(r, prices, now))
	rows := make([]TokenRow, 0, len(ts))
	for i := len(ts) - 1; i >= 0; i-- {
		t := &ts[i]
		row := TokenRow{RequestID: t.RequestID, Model: t.Model, Chunks: t.Chunks, Missing: t.Missing, Final: t.Final,
			FinishReason: t.FinishReason, FirstSeq: t.FirstSeq, LastSeq: t.LastSeq, Truncated: t.Truncated, Text: t.Text(),
			Prompt: t.PromptTokens, Completion: t.CompletionTokens, Total: t.TotalTokens, TTFT: "–", Duration: "–"}
		if row.Total == 0 {
			row.Total = t.PromptTokens + t.CompletionTokens
		}
		if row.Total > 0 {
			row.Tokens = FormatCount(uint64(t.PromptTokens)) + " in · " + FormatCount(uint64(t.CompletionTokens)) + " out · " +
				FormatCount(uint64(row.Total)) + " total"
		}
		switch c, ok := callCost(*t, prices); {
		case ok:
			row.Cost = FormatUSD(c)
		case row.Total == 0:
			row.Unpriced = "no token counts"
		case t.Model == "":
			row.Unpriced = "no model named"
		default:
			row.Unpriced = "no price for " + t.Model
		}
		if s, ok := spans["llm:"+t.RequestID]; ok {
			row.Node, row.Execution, row.Failed = s.Node, s.Execution, s.Status == NodeFailed
			if s.TTFT >= 0 {
				row.TTFT = FormatDuration(s.TTFT)
			}
			if s.EndSeq != 0 || s.Open {
				row.Duration = FormatDuration(s.Duration())
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func spansByKey(w Waterfall) map[string]Span {
	m := make(map[string]Span, len(w.Rows))
	for _, s := range w.Rows {
		m[s.Key] = s
	}
	return m
}

// ToolRow is one tool execution.
type ToolRow struct {
	CallID, Tool, Stage string
	// Node and Execution are the node execution that made the call (see
	// BuildWaterfall); "" when it cannot be told.
	Node               string
	Execution          int
	Stages             string
	Arguments, Result  string
	ArgsSize, ResultSz string
	Error              string
	Retries            uint32
	// Duration is the duration the tool reported (its last attempt);
	// Elapsed, from the call's first stage to its last, retries included.
	Duration, Elapsed string
	Failed            bool
	Seq               uint64
}

// ToolRows copies a run's tool calls, most recently updated first.
func ToolRows(r *runstate.Run, now time.Time) []ToolRow {
	tc := r.ToolCalls()
	spans := spansByKey(BuildWaterfall(r, nil, now))
	rows := make([]ToolRow, 0, len(tc))
	for i := len(tc) - 1; i >= 0; i-- {
		t := tc[i]
		stages := make([]string, len(t.Stages))
		for j, s := range t.Stages {
			stages[j] = s.Stage
		}
		row := ToolRow{CallID: t.CallID, Tool: t.ToolName, Stage: t.Stage, Stages: strings.Join(stages, " → "),
			Arguments: t.Arguments, Result: t.Result, ArgsSize: FormatBytes(t.ArgumentsBytes), ResultSz: FormatBytes(t.ResultBytes),
			Error: t.Error, Retries: t.Retries, Duration: FormatMicros(t.DurationUs), Elapsed: "–", Failed: t.Stage == "failed"}
		if s, ok := spans["tool:"+t.CallID]; ok {
			row.Node, row.Execution, row.Seq = s.Node, s.Execution, s.Seq
			if s.EndSeq != 0 || s.Open {
				row.Elapsed = FormatDuration(s.Duration())
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// MetricRow is the latest value of one metric. Value is rounded for
// display (FormatNumber); Exact is the value as received.
type MetricRow struct {
	Scope, Name, Value, Exact, Unit, Type string
	Seq                                   uint64
}

// MetricRows copies a run's metrics, sorted by scope and name.
func MetricRows(r *runstate.Run) []MetricRow {
	ms := r.Metrics()
	rows := make([]MetricRow, len(ms))
	for i, m := range ms {
		scope := m.Scope
		if m.ScopeID != "" && m.ScopeID != r.ThreadID() {
			scope += " " + m.ScopeID
		}
		rows[i] = MetricRow{Scope: scope, Name: m.Name, Value: FormatNumber(m.Value), Exact: m.Value, Unit: m.Unit, Type: m.Type, Seq: m.Seq}
	}
	return rows
}

package viewmodel

import (
	"strconv"
	"strings"

	"github.com/dashstream/dashstream/protocol/runstate"
)

// TokenRow is one LLM response assembled from its chunks.
type TokenRow struct {
	RequestID, Model string
	Chunks, Missing  int
	Final            bool
	FinishReason     string
	Tokens           string
	FirstSeq         uint64
	LastSeq          uint64
	Truncated        bool
	Text             string
}

// TokenRows copies a run's token streams, most recently updated first.
func TokenRows(r *runstate.Run) []TokenRow {
	ts := r.TokenStreams()
	rows := make([]TokenRow, 0, len(ts))
	for i := len(ts) - 1; i >= 0; i-- {
		t := &ts[i]
		row := TokenRow{RequestID: t.RequestID, Model: t.Model, Chunks: t.Chunks, Missing: t.Missing, Final: t.Final,
			FinishReason: t.FinishReason, FirstSeq: t.FirstSeq, LastSeq: t.LastSeq, Truncated: t.Truncated, Text: t.Text()}
		if t.TotalTokens > 0 {
			row.Tokens = strconv.FormatUint(uint64(t.PromptTokens), 10) + " in · " +
				strconv.FormatUint(uint64(t.CompletionTokens), 10) + " out · " +
				strconv.FormatUint(uint64(t.TotalTokens), 10) + " total"
		}
		rows = append(rows, row)
	}
	return rows
}

// ToolRow is one tool execution.
type ToolRow struct {
	CallID, Tool, Stage string
	Stages              string
	Arguments, Result   string
	ArgsSize, ResultSz  string
	Error               string
	Retries             uint32
	Duration            string
	Failed              bool
}

// ToolRows copies a run's tool calls, most recently updated first.
func ToolRows(r *runstate.Run) []ToolRow {
	tc := r.ToolCalls()
	rows := make([]ToolRow, 0, len(tc))
	for i := len(tc) - 1; i >= 0; i-- {
		t := tc[i]
		stages := make([]string, len(t.Stages))
		for j, s := range t.Stages {
			stages[j] = s.Stage
		}
		rows = append(rows, ToolRow{CallID: t.CallID, Tool: t.ToolName, Stage: t.Stage, Stages: strings.Join(stages, " → "),
			Arguments: t.Arguments, Result: t.Result, ArgsSize: FormatBytes(t.ArgumentsBytes), ResultSz: FormatBytes(t.ResultBytes),
			Error: t.Error, Retries: t.Retries, Duration: FormatMicros(t.DurationUs), Failed: t.Stage == "failed"})
	}
	return rows
}

// MetricRow is the latest value of one metric.
type MetricRow struct {
	Scope, Name, Value, Unit, Type string
	Seq                            uint64
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
		rows[i] = MetricRow{Scope: scope, Name: m.Name, Value: m.Value, Unit: m.Unit, Type: m.Type, Seq: m.Seq}
	}
	return rows
}

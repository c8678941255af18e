package producer

import (
	"time"

	"github.com/dashstream/dashstream/protocol/pb"
)

// TokenChunk is one piece of an LLM response stream.
type TokenChunk struct {
	// RequestID groups the chunks of one LLM call.
	RequestID string
	// Text is the chunk's text (redacted; a secret split across chunks is
	// not caught).
	Text string
	// ChunkIndex counts the call's chunks from 0.
	ChunkIndex uint32
	// IsFinal marks the call's last chunk, which usually carries
	// FinishReason and Stats.
	IsFinal      bool
	FinishReason pb.TokenChunk_FinishReason
	Model        string
	Stats        *pb.TokenStats
	TokenIDs     []uint32
	Logprobs     []float32
}

// Token emits a TokenChunk in the run's ordered stream (upstream sent these
// outside it, from a separate sequence space).
func (r *Run) Token(c TokenChunk) {
	tc := &pb.TokenChunk{
		RequestId:    validUTF8(c.RequestID),
		Text:         r.p.text(c.Text),
		TokenIds:     c.TokenIDs,
		Logprobs:     c.Logprobs,
		ChunkIndex:   c.ChunkIndex,
		IsFinal:      c.IsFinal,
		FinishReason: c.FinishReason,
		Model:        validUTF8(c.Model),
		Stats:        c.Stats,
	}
	r.emit(func() {
		tc.Header = r.header(pb.MessageType_MESSAGE_TYPE_TOKEN_CHUNK)
		r.sendLocked(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: tc}}, typeTokenChunk, nil)
	})
}

// ToolCall is one stage of a tool execution.
type ToolCall struct {
	// CallID groups the stages of one call.
	CallID string
	// Name is the tool's name.
	Name  string
	Stage pb.ToolExecution_ExecutionStage
	// Arguments and Result are sent as redacted JSON (see the Attrs and
	// state rules: json.RawMessage is kept literally, other values are
	// encoded with encoding/json).
	Arguments any
	Result    any
	// Error is the failure text of a FAILED or RETRYING stage (redacted).
	Error      string
	Duration   time.Duration
	RetryCount uint32
}

// Tool emits a ToolExecution stage.
func (r *Run) Tool(c ToolCall) {
	te := &pb.ToolExecution{
		CallId:     validUTF8(c.CallID),
		ToolName:   validUTF8(c.Name),
		Stage:      c.Stage,
		Arguments:  r.p.jsonBytes(c.Arguments),
		Result:     r.p.jsonBytes(c.Result),
		Error:      r.p.text(c.Error),
		DurationUs: c.Duration.Microseconds(),
		RetryCount: c.RetryCount,
	}
	r.emit(func() {
		te.Header = r.header(pb.MessageType_MESSAGE_TYPE_TOOL_EXECUTION)
		r.sendLocked(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: te}}, typeToolExecution, nil)
	})
}

// Metric is one value of a Metrics message: Value is an int (any width),
// float, string, bool or []byte.
type Metric struct {
	Value any
	Unit  string
	Type  pb.MetricValue_MetricType
}

// Gauge is a float gauge with a unit.
func Gauge(v float64, unit string) Metric {
	return Metric{Value: v, Unit: unit, Type: pb.MetricValue_METRIC_TYPE_GAUGE}
}

// Counter is an integer counter with a unit.
func Counter(v int64, unit string) Metric {
	return Metric{Value: v, Unit: unit, Type: pb.MetricValue_METRIC_TYPE_COUNTER}
}

// Metrics is a set of named values about a scope ("node", "quality", ...).
type Metrics struct {
	Scope   string
	ScopeID string
	Values  map[string]Metric
	// Tags are redacted.
	Tags map[string]string
}

// Metrics emits a Metrics message in the run's ordered stream.
func (r *Run) Metrics(m Metrics) {
	pm := &pb.Metrics{
		Scope:   validUTF8(m.Scope),
		ScopeId: validUTF8(m.ScopeID),
		Metrics: make(map[string]*pb.MetricValue, len(m.Values)),
		Tags:    r.p.stringMap(m.Tags),
	}
	for k, v := range m.Values {
		mv := &pb.MetricValue{Unit: v.Unit, Type: v.Type}
		switch x := v.Value.(type) {
		case int:
			mv.Value = &pb.MetricValue_IntValue{IntValue: int64(x)}
		case int32:
			mv.Value = &pb.MetricValue_IntValue{IntValue: int64(x)}
		case int64:
			mv.Value = &pb.MetricValue_IntValue{IntValue: x}
		case uint32:
			mv.Value = &pb.MetricValue_IntValue{IntValue: int64(x)}
		case float32:
			mv.Value = &pb.MetricValue_FloatValue{FloatValue: float64(x)}
		case float64:
			mv.Value = &pb.MetricValue_FloatValue{FloatValue: x}
		case bool:
			mv.Value = &pb.MetricValue_BoolValue{BoolValue: x}
		case string:
			mv.Value = &pb.MetricValue_StringValue{StringValue: r.p.text(x)}
		case []byte:
			mv.Value = &pb.MetricValue_BytesValue{BytesValue: x}
		default:
			continue
		}
		pm.Metrics[validUTF8(k)] = mv
	}
	r.emit(func() {
		pm.Header = r.header(pb.MessageType_MESSAGE_TYPE_METRICS)
		r.sendLocked(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Metrics{Metrics: pm}}, typeMetrics, nil)
	})
}

// Quality are the scores of a run's output.
type Quality struct {
	Accuracy, Relevance, Completeness float64
	// Threshold is the quality_score at or above which the run passed.
	Threshold float64
}

// Quality emits the upstream quality metrics (scope "quality", scope_id =
// thread_id): accuracy, relevance, completeness and their mean quality_score
// as ratio gauges, and passed. A low score is reported here, never as
// GRAPH_ERROR.
func (r *Run) Quality(q Quality) {
	score := (q.Accuracy + q.Relevance + q.Completeness) / 3
	r.Metrics(Metrics{
		Scope:   "quality",
		ScopeID: r.threadID,
		Values: map[string]Metric{
			"accuracy":      Gauge(q.Accuracy, "ratio"),
			"relevance":     Gauge(q.Relevance, "ratio"),
			"completeness":  Gauge(q.Completeness, "ratio"),
			"quality_score": Gauge(score, "ratio"),
			"passed":        {Value: score >= q.Threshold, Unit: "bool", Type: pb.MetricValue_METRIC_TYPE_GAUGE},
		},
		Tags: map[string]string{"thread_id": r.threadID, "tenant_id": r.tenantID},
	})
}

// ErrorInfo is an Error message: a structured error report that does not by
// itself end the run.
type ErrorInfo struct {
	Code          string
	Message       string
	StackTrace    string
	ExceptionType string
	Severity      pb.Error_Severity
	Context       map[string]string
	Suggestions   []string
}

// Error emits an Error message; its texts are redacted.
func (r *Run) Error(e ErrorInfo) {
	pe := &pb.Error{
		ErrorCode:     validUTF8(e.Code),
		Message:       r.p.text(e.Message),
		StackTrace:    r.p.text(e.StackTrace),
		Context:       r.p.stringMap(e.Context),
		Severity:      e.Severity,
		ExceptionType: validUTF8(e.ExceptionType),
	}
	for _, s := range e.Suggestions {
		pe.Suggestions = append(pe.Suggestions, r.p.text(s))
	}
	r.emit(func() {
		pe.Header = r.header(pb.MessageType_MESSAGE_TYPE_ERROR)
		r.sendLocked(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Error{Error: pe}}, typeError, nil)
	})
}

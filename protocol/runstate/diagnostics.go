package runstate

import (
	"strings"

	"github.com/dashstream/dashstream/protocol/pb"
)

// ErrorReport is one Error message of a run.
type ErrorReport struct {
	Seq       uint64
	Timestamp int64
	Code      string
	Message   string
	// Severity is "debug", "info", "warning", "error", "fatal" or
	// "unspecified".
	Severity      string
	ExceptionType string
	// Suggestions holds at most 5 bounded suggestions.
	Suggestions []string
}

const maxSuggestions = 5

func newErrorReport(e *pb.Error, seq uint64, ts int64, cfg *Config) ErrorReport {
	r := ErrorReport{
		Seq:           seq,
		Timestamp:     ts,
		Code:          boundString(e.GetErrorCode(), cfg.MaxAttrChars),
		Message:       boundString(e.GetMessage(), cfg.MaxErrorChars),
		Severity:      severityName(e.GetSeverity()),
		ExceptionType: boundString(e.GetExceptionType(), cfg.MaxAttrChars),
	}
	for _, s := range e.GetSuggestions()[:min(len(e.GetSuggestions()), maxSuggestions)] {
		r.Suggestions = append(r.Suggestions, boundString(s, cfg.MaxAttrChars))
	}
	return r
}

func severityName(s pb.Error_Severity) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "SEVERITY_"))
}

// TraceSummary is the gist of one ExecutionTrace (a run's summary message).
type TraceSummary struct {
	Seq             uint64
	ExecutionID     string
	Completed       bool
	TotalDurationMs uint64
	TotalTokens     uint64
	// Nodes counts the node execution records and Errors the error
	// records; NodesFailed the records that did not succeed.
	Nodes, NodesFailed, Errors int
	StartedAt, EndedAt         string
	// FinalStateBytes is the size of the trace's final_state (not kept).
	FinalStateBytes int
}

func newTraceSummary(t *pb.ExecutionTrace, seq uint64, cfg *Config) TraceSummary {
	s := TraceSummary{
		Seq:             seq,
		ExecutionID:     boundString(t.GetExecutionId(), cfg.MaxAttrChars),
		Completed:       t.GetCompleted(),
		TotalDurationMs: t.GetTotalDurationMs(),
		TotalTokens:     t.GetTotalTokens(),
		Nodes:           len(t.GetNodesExecuted()),
		Errors:          len(t.GetErrors()),
		StartedAt:       boundString(t.GetStartedAt(), 64),
		EndedAt:         boundString(t.GetEndedAt(), 64),
		FinalStateBytes: len(t.GetFinalState()),
	}
	for _, n := range t.GetNodesExecuted() {
		if !n.GetSucceeded() {
			s.NodesFailed++
		}
	}
	return s
}

// appendBounded appends v to a list kept at most limit long, dropping the
// oldest.
func appendBounded[T any](list []T, v T, limit int) []T {
	if len(list) >= limit {
		list = append(list[:0], list[len(list)-limit+1:]...)
	}
	return append(list, v)
}

// applyError keeps an Error message and summarises it.
func (s *Store) applyError(r *Run, it *item, e *Event) {
	m := it.msg.GetError()
	rep := newErrorReport(m, it.seq, it.ts, &s.cfg)
	r.errors = appendBounded(r.errors, rep, s.cfg.MaxErrorsPerRun)
	sm := newSummary(&s.cfg, 4)
	sm.add("error_code", rep.Code)
	sm.add("severity", rep.Severity)
	if rep.ExceptionType != "" {
		sm.add("exception_type", rep.ExceptionType)
	}
	s.addContext(&sm, m.GetContext())
	e.Summary = sm.done()
	e.Detail = rep.Message
}

// applyTrace keeps an ExecutionTrace summary.
func (s *Store) applyTrace(r *Run, it *item, e *Event) {
	t := newTraceSummary(it.msg.GetExecutionTrace(), it.seq, &s.cfg)
	r.traces = appendBounded(r.traces, t, s.cfg.MaxTracesPerRun)
	sm := newSummary(&s.cfg, 6)
	sm.add("execution_id", t.ExecutionID)
	sm.addBool("completed", t.Completed)
	sm.addInt("nodes", int64(t.Nodes))
	sm.addInt("errors", int64(t.Errors))
	sm.addUint("total_duration_ms", t.TotalDurationMs)
	sm.addUint("total_tokens", t.TotalTokens)
	e.Summary = sm.done()
}

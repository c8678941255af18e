package runstate

import (
	"slices"
	"strings"

	"github.com/dashstream/dashstream/protocol/pb"
)

// ToolCall is one tool execution (one call_id) as its ToolExecution messages
// describe it.
type ToolCall struct {
	CallID   string
	ToolName string
	// Stage is the latest stage ("requested", "started", "completed",
	// "failed", "retrying"); Stages lists every stage seen, in order.
	Stage  string
	Stages []ToolStage
	// Arguments and Result are bounded previews of the payloads;
	// ArgumentsBytes and ResultBytes their full sizes.
	Arguments, Result           string
	ArgumentsBytes, ResultBytes int
	Error                       string
	Retries                     uint32
	// DurationUs is the latest reported duration, -1 when none.
	DurationUs int64
}

// ToolStage is one stage message of a tool call.
type ToolStage struct {
	Stage     string
	Seq       uint64
	Timestamp int64
}

type toolTable struct {
	calls []*ToolCall // least recently updated first
	limit int
}

const maxToolStages = 32

func (t *toolTable) add(x *pb.ToolExecution, seq uint64, ts int64, cfg *Config) {
	id := x.GetCallId()
	i := slices.IndexFunc(t.calls, func(c *ToolCall) bool { return c.CallID == id })
	var c *ToolCall
	if i >= 0 {
		c = t.calls[i]
		t.calls = append(t.calls[:i], t.calls[i+1:]...)
	} else {
		if len(t.calls) >= t.limit {
			t.calls = append(t.calls[:0], t.calls[1:]...)
		}
		c = &ToolCall{CallID: boundString(id, cfg.MaxAttrChars), DurationUs: -1}
	}
	t.calls = append(t.calls, c)
	if n := x.GetToolName(); n != "" {
		c.ToolName = boundString(n, cfg.MaxAttrChars)
	}
	stage := toolStageName(x.GetStage())
	c.Stage = stage
	if len(c.Stages) < maxToolStages {
		c.Stages = append(c.Stages, ToolStage{Stage: stage, Seq: seq, Timestamp: ts})
	}
	if a := x.GetArguments(); len(a) > 0 {
		c.Arguments, c.ArgumentsBytes = boundBytes(a, cfg.MaxAttrChars), len(a)
	}
	if r := x.GetResult(); len(r) > 0 {
		c.Result, c.ResultBytes = boundBytes(r, cfg.MaxAttrChars), len(r)
	}
	if e := toolError(x); e != "" {
		c.Error = boundString(e, cfg.MaxErrorChars)
	}
	c.Retries = max(c.Retries, x.GetRetryCount())
	if d := x.GetDurationUs(); d > 0 {
		c.DurationUs = d
	}
}

func toolError(x *pb.ToolExecution) string {
	if e := x.GetError(); e != "" {
		return e
	}
	return x.GetErrorDetails().GetMessage()
}

func toolStageName(s pb.ToolExecution_ExecutionStage) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "EXECUTION_STAGE_"))
}

func (t *toolTable) list() []ToolCall {
	out := make([]ToolCall, len(t.calls))
	for i, c := range t.calls {
		out[i] = *c
		out[i].Stages = slices.Clone(c.Stages)
	}
	return out
}

// applyToolExecution records a tool call stage and summarises it.
func (s *Store) applyToolExecution(r *Run, it *item, e *Event) {
	x := it.msg.GetToolExecution()
	r.tools.add(x, it.seq, it.ts, &s.cfg)
	sm := newSummary(&s.cfg, 8)
	sm.add("call_id", x.GetCallId())
	sm.add("tool_name", x.GetToolName())
	sm.add("stage", toolStageName(x.GetStage()))
	if x.GetRetryCount() > 0 {
		sm.addUint("retry_count", uint64(x.GetRetryCount()))
	}
	if len(x.GetArguments()) > 0 {
		sm.addInt("arguments_bytes", int64(len(x.GetArguments())))
	}
	if len(x.GetResult()) > 0 {
		sm.addInt("result_bytes", int64(len(x.GetResult())))
	}
	e.Summary = sm.done()
	e.Detail = boundString(toolError(x), s.cfg.MaxErrorChars)
	if d := x.GetDurationUs(); d > 0 {
		e.DurationUs = d
	}
}

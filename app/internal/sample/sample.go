// Package sample builds real DashStream messages of realistic graph runs
// (schema, node lifecycle, state diffs with their hashes, token streams,
// tool calls, metrics, errors) for the dashboard's tests. The messages go
// through a real runstate.Store; nothing here imitates the store.
package sample

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// T0 is the producer clock of every sample run's first message.
var T0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// Schema is the sample graph: a planner, a router with conditional edges,
// a parallel fan-out to two tools, and a writer that loops back.
const Schema = `{"name":"research-assistant","version":"1.2.0","description":"Plans, searches and writes","entry_point":"plan",
"nodes":[{"name":"plan","node_type":"llm","description":"Break the question down"},
{"name":"route","node_type":"router","description":"Pick a strategy"},
{"name":"web_search","node_type":"tool"},{"name":"db_lookup","node_type":"tool"},
{"name":"merge","node_type":"aggregator"},{"name":"write","node_type":"llm"},
{"name":"review","node_type":"validator"}],
"edges":[{"from":"plan","to":"route","edge_type":"direct"},
{"from":"route","to":"web_search","edge_type":"conditional","label":"needs web","conditional_targets":["web_search","db_lookup"]},
{"from":"web_search","to":"merge","edge_type":"parallel"},{"from":"db_lookup","to":"merge","edge_type":"parallel"},
{"from":"merge","to":"write","edge_type":"direct"},{"from":"write","to":"review","edge_type":"direct"},
{"from":"review","to":"write","edge_type":"conditional","label":"revise"}]}`

// Builder appends the messages of one run with consecutive sequences and
// keeps the state it describes, so every diff carries the right hash.
type Builder struct {
	Thread string
	seq    uint64
	state  *jsontree.Node
	Msgs   []*pb.DashStreamMessage
}

// NewBuilder starts a run of thread.
func NewBuilder(thread string) *Builder { return &Builder{Thread: thread} }

// Seq returns the last sequence used.
func (b *Builder) Seq() uint64 { return b.seq }

func (b *Builder) header(typ pb.MessageType) *pb.Header {
	b.seq++
	h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(b.Thread), b.seq))
	return &pb.Header{
		MessageId: h[:16], TimestampUs: T0.UnixMicro() + int64(b.seq)*250_000,
		TenantId: "default", ThreadId: b.Thread, Sequence: b.seq, Type: typ, SchemaVersion: 1,
	}
}

func str(s string) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_StringValue{StringValue: s}}
}

func (b *Builder) event(typ pb.EventType, node string, attrs map[string]*pb.AttributeValue) *pb.Event {
	e := &pb.Event{Header: b.header(pb.MessageType_MESSAGE_TYPE_EVENT), EventType: typ, NodeId: node, Attributes: attrs}
	b.Msgs = append(b.Msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: e}})
	return e
}

// Start sends the GraphStart with the schema ("" for none) and an initial
// state.
func (b *Builder) Start(schema, initial string) *Builder {
	st, err := jsontree.Parse([]byte(initial))
	if err != nil {
		panic(fmt.Sprintf("sample: initial state: %v", err))
	}
	b.state = st
	attrs := map[string]*pb.AttributeValue{"schema_id": str("5ca1ab1e0ddba11a"), "initial_state_json": str(initial)}
	if schema != "" { // "": a run that sends no schema
		attrs["graph_schema_json"] = str(schema)
	}
	b.event(pb.EventType_EVENT_TYPE_GRAPH_START, "", attrs)
	return b
}

// Node sends a node's start, a state change setting key to value (a JSON
// literal), and its end after durMs milliseconds.
func (b *Builder) Node(name, key, value string, durMs int64) *Builder {
	b.event(pb.EventType_EVENT_TYPE_NODE_START, name, nil)
	b.Set(key, value)
	e := b.event(pb.EventType_EVENT_TYPE_NODE_END, name, nil)
	e.DurationUs = durMs * 1000
	return b
}

// Set sends a StateDiff that adds or replaces the top-level member key.
func (b *Builder) Set(key, value string) *Builder {
	v, err := jsontree.Parse([]byte(value))
	if err != nil {
		panic(fmt.Sprintf("sample: value %s: %v", value, err))
	}
	next := b.state.ObjectSet(key, v)
	patch := jsonpatch.Diff(b.state, next)
	ops := make([]*pb.DiffOperation, 0, len(patch))
	for _, op := range patch {
		o := &pb.DiffOperation{Path: op.Path.String()}
		switch op.Op {
		case jsonpatch.OpAdd:
			o.Op = pb.DiffOperation_OP_TYPE_ADD
		case jsonpatch.OpRemove:
			o.Op = pb.DiffOperation_OP_TYPE_REMOVE
		default:
			o.Op = pb.DiffOperation_OP_TYPE_REPLACE
		}
		if op.Value != nil {
			o.Value = op.Value.AppendJSON(nil)
		}
		ops = append(ops, o)
	}
	b.state = next
	sum := statehash.SumTree(next)
	d := &pb.StateDiff{Header: b.header(pb.MessageType_MESSAGE_TYPE_STATE_DIFF), Operations: ops, StateHash: sum[:]}
	b.Msgs = append(b.Msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: d}})
	return b
}

// BadDiff sends a StateDiff whose hash is wrong, which corrupts the run.
func (b *Builder) BadDiff() *Builder {
	d := &pb.StateDiff{Header: b.header(pb.MessageType_MESSAGE_TYPE_STATE_DIFF),
		Operations: []*pb.DiffOperation{{Op: pb.DiffOperation_OP_TYPE_ADD, Path: "/tampered", Value: []byte("true")}},
		StateHash:  make([]byte, 32)}
	b.Msgs = append(b.Msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: d}})
	return b
}

// Tokens sends an LLM response of node in chunks.
func (b *Builder) Tokens(node, request string, chunks ...string) *Builder {
	for i, c := range chunks {
		tc := &pb.TokenChunk{Header: b.header(pb.MessageType_MESSAGE_TYPE_TOKEN_CHUNK), RequestId: request, Text: c,
			ChunkIndex: uint32(i), Model: "gpt-sample"}
		if i == len(chunks)-1 {
			tc.IsFinal = true
			tc.FinishReason = pb.TokenChunk_FINISH_REASON_STOP
			tc.Stats = &pb.TokenStats{PromptTokens: 120, CompletionTokens: uint32(len(chunks)), TotalTokens: 120 + uint32(len(chunks))}
		}
		_ = node
		b.Msgs = append(b.Msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: tc}})
	}
	return b
}

// Tool sends a tool call's stages; a failed first attempt is retried.
func (b *Builder) Tool(call, tool, args, result string, retry bool) *Builder {
	stages := []pb.ToolExecution_ExecutionStage{pb.ToolExecution_EXECUTION_STAGE_REQUESTED, pb.ToolExecution_EXECUTION_STAGE_STARTED}
	if retry {
		stages = append(stages, pb.ToolExecution_EXECUTION_STAGE_RETRYING)
	}
	stages = append(stages, pb.ToolExecution_EXECUTION_STAGE_COMPLETED)
	for i, st := range stages {
		te := &pb.ToolExecution{Header: b.header(pb.MessageType_MESSAGE_TYPE_TOOL_EXECUTION), CallId: call, ToolName: tool,
			Stage: st, Arguments: []byte(args)}
		if retry && i >= 2 {
			te.RetryCount = 1
		}
		if st == pb.ToolExecution_EXECUTION_STAGE_COMPLETED {
			te.Result = []byte(result)
			te.DurationUs = 42_000
		}
		b.Msgs = append(b.Msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: te}})
	}
	return b
}

// NodeStart sends a node's NODE_START alone (for overlapping branches).
func (b *Builder) NodeStart(name string) *Builder {
	b.event(pb.EventType_EVENT_TYPE_NODE_START, name, nil)
	return b
}

// NodeEnd sends a node's NODE_END after durMs milliseconds.
func (b *Builder) NodeEnd(name string, durMs int64) *Builder {
	e := b.event(pb.EventType_EVENT_TYPE_NODE_END, name, nil)
	e.DurationUs = durMs * 1000
	return b
}

// NodeError sends a node's NODE_ERROR.
func (b *Builder) NodeError(name, reason string) *Builder {
	b.event(pb.EventType_EVENT_TYPE_NODE_ERROR, name, map[string]*pb.AttributeValue{"error": str(reason)})
	return b
}

// GraphError sends the GRAPH_ERROR that ends a failed run.
func (b *Builder) GraphError(reason string) *Builder {
	b.event(pb.EventType_EVENT_TYPE_GRAPH_ERROR, "", map[string]*pb.AttributeValue{"error": str(reason)})
	return b
}

// LLM is one LLM call for Builder.LLM.
type LLM struct {
	Node, Request, Model string
	Prompt, Completion   uint32
	// Announce sends LLM_START and LLM_END events naming Node (what ties a
	// call to its node); without them the call is placed by when it ran.
	Announce bool
	// Fail ends the stream with finish_reason ERROR and no usage.
	Fail   bool
	Chunks []string
}

// LLM sends an LLM call: LLM_START (when announced), its chunks, the last
// with the usage, and LLM_END (or LLM_ERROR).
func (b *Builder) LLM(c LLM) *Builder {
	id := func(e *pb.Event) { e.LlmRequestId = c.Request }
	if c.Announce {
		id(b.event(pb.EventType_EVENT_TYPE_LLM_START, c.Node, map[string]*pb.AttributeValue{"model": str(c.Model)}))
	}
	for i, text := range c.Chunks {
		tc := &pb.TokenChunk{Header: b.header(pb.MessageType_MESSAGE_TYPE_TOKEN_CHUNK), RequestId: c.Request, Text: text,
			ChunkIndex: uint32(i), Model: c.Model}
		if i == len(c.Chunks)-1 {
			tc.IsFinal = true
			tc.FinishReason = pb.TokenChunk_FINISH_REASON_STOP
			if c.Fail {
				tc.FinishReason = pb.TokenChunk_FINISH_REASON_ERROR
			} else {
				tc.Stats = &pb.TokenStats{PromptTokens: c.Prompt, CompletionTokens: c.Completion, TotalTokens: c.Prompt + c.Completion}
			}
		}
		b.Msgs = append(b.Msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: tc}})
	}
	if c.Announce {
		typ := pb.EventType_EVENT_TYPE_LLM_END
		if c.Fail {
			typ = pb.EventType_EVENT_TYPE_LLM_ERROR
		}
		id(b.event(typ, c.Node, map[string]*pb.AttributeValue{"model": str(c.Model)}))
	}
	return b
}

// ToolFail sends a tool call that fails after one retry.
func (b *Builder) ToolFail(call, tool, reason string) *Builder {
	for i, st := range []pb.ToolExecution_ExecutionStage{pb.ToolExecution_EXECUTION_STAGE_STARTED,
		pb.ToolExecution_EXECUTION_STAGE_RETRYING, pb.ToolExecution_EXECUTION_STAGE_FAILED} {
		te := &pb.ToolExecution{Header: b.header(pb.MessageType_MESSAGE_TYPE_TOOL_EXECUTION), CallId: call, ToolName: tool,
			Stage: st, RetryCount: uint32(min(i, 1)), Error: reason}
		b.Msgs = append(b.Msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: te}})
	}
	return b
}

// Metric sends one gauge of the run.
func (b *Builder) Metric(name string, v float64, unit string) *Builder {
	m := &pb.Metrics{Header: b.header(pb.MessageType_MESSAGE_TYPE_METRICS), Scope: "graph", ScopeId: b.Thread,
		Metrics: map[string]*pb.MetricValue{name: {Value: &pb.MetricValue_FloatValue{FloatValue: v}, Unit: unit,
			Type: pb.MetricValue_METRIC_TYPE_GAUGE}}}
	b.Msgs = append(b.Msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Metrics{Metrics: m}})
	return b
}

// Fail sends a NODE_ERROR of node and the GRAPH_ERROR ending the run.
func (b *Builder) Fail(node, reason string) *Builder {
	b.event(pb.EventType_EVENT_TYPE_NODE_START, node, nil)
	b.event(pb.EventType_EVENT_TYPE_NODE_ERROR, node, map[string]*pb.AttributeValue{"error": str(reason)})
	b.event(pb.EventType_EVENT_TYPE_GRAPH_ERROR, "", map[string]*pb.AttributeValue{"error": str(reason)})
	return b
}

// End sends the GRAPH_END.
func (b *Builder) End() *Builder {
	b.event(pb.EventType_EVENT_TYPE_GRAPH_END, "", nil)
	return b
}

// Research returns the messages of a complete research run: every message
// kind, a loop (write runs twice), a token stream, a retried tool call.
func Research(thread string) []*pb.DashStreamMessage {
	b := NewBuilder(thread).Start(Schema, `{"question":"Why is the sky blue?","ratio":1.0,"big":12345678901234567890,"notes":[]}`)
	b.Node("plan", "plan", `["search","write"]`, 850)
	b.Node("route", "strategy", `"both"`, 12)
	b.Tool("call-1", "web_search", `{"q":"rayleigh scattering"}`, `{"hits":3}`, true)
	b.Node("web_search", "web", `{"hits":3,"top":"Rayleigh scattering"}`, 1200)
	b.Node("db_lookup", "db", `{"rows":2}`, 300)
	b.Node("merge", "sources", `["web","db"]`, 40)
	b.Tokens("write", "req-1", "The sky ", "is blue ", "because…")
	b.Node("write", "draft", `"The sky is blue because…"`, 2100)
	b.Node("review", "verdict", `"revise"`, 400)
	b.Node("write", "draft", `"Sunlight scatters off air molecules."`, 1800)
	b.Node("review", "verdict", `"pass"`, 350)
	b.Metric("quality", 0.92, "score")
	return b.End().Msgs
}

// Trace is a failed run with a bit of everything a waterfall shows: an
// announced LLM call, two branches running at once with a tool call each
// (one retried), a node that runs twice with an unannounced LLM call in
// the first execution, and an LLM call that fails in the second, which
// fails the node and the run.
func Trace(thread string) *Builder {
	b := NewBuilder(thread).Start(Schema, `{"q":1}`)
	b.NodeStart("plan").LLM(LLM{Node: "plan", Request: "req-plan", Model: "gpt-4o-mini", Prompt: 1000, Completion: 200,
		Announce: true, Chunks: []string{"Search ", "both."}}).Set("plan", `"both"`).NodeEnd("plan", 1500)
	b.NodeStart("web_search").NodeStart("db_lookup")
	b.Tool("call-w", "web_search", `{"q":"x"}`, `{"hits":3}`, true)
	b.Tool("call-d", "db_lookup", `{"id":1}`, `{"rows":2}`, false)
	b.NodeEnd("db_lookup", 1000).Set("web", `3`).NodeEnd("web_search", 2000)
	b.NodeStart("write").LLM(LLM{Request: "req-w1", Model: "llama-3.1-70b-instruct", Prompt: 3000, Completion: 500,
		Chunks: []string{"Draft"}}).NodeEnd("write", 700)
	b.NodeStart("write").LLM(LLM{Node: "write", Request: "req-w2", Model: "claude-3-5-sonnet", Announce: true, Fail: true,
		Chunks: []string{"Re", "vis"}}).NodeError("write", "rate limited").GraphError("write: rate limited")
	return b
}

// Failing returns a run that fails in web_search.
func Failing(thread string) []*pb.DashStreamMessage {
	b := NewBuilder(thread).Start(Schema, `{"question":"q"}`)
	b.Node("plan", "plan", `[]`, 100)
	return b.Fail("web_search", "search API timed out after 30s").Msgs
}

// Corrupted returns a run whose third state change fails its hash check,
// and which uses a node the schema does not declare.
func Corrupted(thread string) []*pb.DashStreamMessage {
	b := NewBuilder(thread).Start(Schema, `{"n":0}`)
	b.Node("plan", "n", "1", 10)
	b.Node("rogue_step", "m", "2", 10)
	return b.BadDiff().Msgs
}

// Running returns a run still in its writer node.
func Running(thread string) []*pb.DashStreamMessage {
	b := NewBuilder(thread).Start(Schema, `{"question":"q"}`)
	b.Node("plan", "plan", `[]`, 100)
	b.event(pb.EventType_EVENT_TYPE_NODE_START, "route", nil)
	return b.Msgs
}

// Shift moves messages d later on the producer's clock (runs of the
// samples otherwise all start at T0).
func Shift(msgs []*pb.DashStreamMessage, d time.Duration) []*pb.DashStreamMessage {
	for _, m := range msgs {
		for _, h := range protocol.Headers(m) {
			if h != nil {
				h.TimestampUs += d.Microseconds()
			}
		}
	}
	return msgs
}

// Apply feeds messages to s, message i received at T0 plus i ms.
func Apply(s *runstate.Store, msgs []*pb.DashStreamMessage) {
	for i, m := range msgs {
		s.Apply(m, runstate.Meta{Offset: int64(i), Received: T0.Add(time.Duration(i) * time.Millisecond)})
	}
}

// Store returns a store holding a completed, a failing, a corrupted and a
// running run (threads "run-ok", "run-fail", "run-bad", "run-live").
func Store() *runstate.Store {
	s := runstate.NewStore(runstate.Config{})
	Apply(s, Research("run-ok"))
	Apply(s, Failing("run-fail"))
	Apply(s, Corrupted("run-bad"))
	Apply(s, Running("run-live"))
	return s
}

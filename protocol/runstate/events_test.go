package runstate

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dashstream/dashstream/protocol/pb"
)

// Every message type lands in the run's event log with a summary (U13).
func TestEvents_EveryMessageTypeIsLogged(t *testing.T) {
	h := func(seq uint64, typ pb.MessageType) *pb.Header { return header("t", seq, typ) }
	msgs := []struct {
		msg  *pb.DashStreamMessage
		name string
		key  string // a summary key the event must have ("" for none)
	}{
		{graphStart("t", 1, `{}`), "graph_start", "schema_id"},
		{diff(t, "t", 2, `{"a":1}`, add("/a", "1")), "state_diff", "ops"},
		{&pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: &pb.TokenChunk{Header: h(3, 3), RequestId: "r1", Text: "Hi", Model: "m"}}}, "token_chunk", "request_id"},
		{&pb.DashStreamMessage{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: &pb.ToolExecution{Header: h(4, 4), CallId: "c1", ToolName: "search", Stage: pb.ToolExecution_EXECUTION_STAGE_STARTED}}}, "tool_execution", "tool_name"},
		{checkpoint("t", 5, 1, `{"a":1}`), "checkpoint", "checkpoint_id"},
		{&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Metrics{Metrics: &pb.Metrics{Header: h(6, 6), Scope: "node", ScopeId: "plan", Metrics: map[string]*pb.MetricValue{"latency": {Value: &pb.MetricValue_FloatValue{FloatValue: 0.25}, Unit: "s"}}}}}, "metrics", "metric.latency"},
		{&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Error{Error: &pb.Error{Header: h(7, 7), ErrorCode: "E1", Message: "boom", Severity: pb.Error_SEVERITY_ERROR}}}, "error", "error_code"},
		{&pb.DashStreamMessage{Message: &pb.DashStreamMessage_ExecutionTrace{ExecutionTrace: &pb.ExecutionTrace{Header: h(0, 9), ExecutionId: "x"}}}, "execution_trace", "execution_id"},
		{event("t", 8, pb.EventType_EVENT_TYPE_LLM_START, "plan", map[string]*pb.AttributeValue{"model": sattr("gpt")}), "llm_start", "model"},
		{event("t", 9, pb.EventType(99), "", nil), "event_type_99", ""},
	}
	s := NewStore(Config{})
	for i, m := range msgs {
		if o := s.Apply(m.msg, meta(i)); o.Disposition != Applied {
			t.Fatalf("%s: %v", m.name, o.Disposition)
		}
	}
	r := s.Run("t")
	if r.EventCount() != len(msgs) {
		t.Fatalf("events %d, want %d", r.EventCount(), len(msgs))
	}
	for i, m := range msgs {
		e := r.Event(i)
		if e.Name() != m.name {
			t.Errorf("event %d name %q, want %q", i, e.Name(), m.name)
		}
		if _, ok := e.Get(m.key); m.key != "" && !ok {
			t.Errorf("%s: no %q in %+v", m.name, m.key, e.Summary)
		}
		if e.Received != at(i).UnixNano() || e.Offset != int64(i) || len(e.MessageID) != 16 {
			t.Errorf("%s: meta %+v", m.name, e)
		}
	}
	if len(r.TokenStreams()) != 1 || len(r.ToolCalls()) != 1 || len(r.Metrics()) != 1 || len(r.Errors()) != 1 || len(r.Traces()) != 1 {
		t.Fatalf("derived views missing")
	}
	if e := r.Event(6); e.Detail != "boom" {
		t.Fatalf("error detail %q", e.Detail)
	}
}

func TestEvents_SensitiveKeysAreNotStored(t *testing.T) {
	s := NewStore(Config{})
	attrs := map[string]*pb.AttributeValue{
		"api_key": sattr("sk-123"), "Authorization": sattr("Bearer x"), "db-password": sattr("p"),
		"auth_token": sattr("t"), "prompt_tokens": iattr(12), "model": sattr("m"),
		"nested": {Value: &pb.AttributeValue_MapValue{MapValue: &pb.AttributeMap{Values: map[string]*pb.AttributeValue{"secret": sattr("s"), "ok": iattr(1)}}}},
	}
	s.Apply(event("t", 1, pb.EventType_EVENT_TYPE_LLM_END, "n", attrs), meta(0))
	s.Apply(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Metrics{Metrics: &pb.Metrics{
		Header: header("t", 2, 6), Metrics: map[string]*pb.MetricValue{"x": {Value: &pb.MetricValue_IntValue{IntValue: 1}}},
		Tags: map[string]string{"model": "m", "session_id": "abc", "cookie": "c", "env": "prod"},
	}}}, meta(1))
	s.Apply(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Error{Error: &pb.Error{
		Header: header("t", 3, 7), Context: map[string]string{"user": "u", "access_key": "AKIA"},
	}}}, meta(2))
	r := s.Run("t")
	var all []string
	for _, e := range r.Events(nil) {
		for _, f := range e.Summary {
			all = append(all, f.Key+"="+f.Value)
		}
	}
	for _, m := range r.Metrics() {
		for _, f := range m.Tags {
			all = append(all, "tag."+f.Key+"="+f.Value)
		}
	}
	joined := strings.Join(all, " ")
	for _, secret := range []string{"sk-123", "Bearer", "db-password", "auth_token", "secret", "session_id", "cookie", "AKIA", "access_key"} {
		if strings.Contains(joined, secret) {
			t.Errorf("%q stored: %s", secret, joined)
		}
	}
	for _, kept := range []string{"prompt_tokens=12", "model=m", `nested={"ok":1}`, "tag.env=prod", "tag.model=m", "context.user=u", "tag_keys=env,model"} {
		if !strings.Contains(joined, kept) {
			t.Errorf("%q missing: %s", kept, joined)
		}
	}
}

func TestEvents_SummariesAreBounded(t *testing.T) {
	s := NewStore(Config{MaxAttrChars: 10, MaxEventSummaryBytes: 100})
	long := strings.Repeat("é", 50) // 2-byte characters
	attrs := map[string]*pb.AttributeValue{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		attrs[k] = sattr(long)
	}
	attrs["arr"] = &pb.AttributeValue{Value: &pb.AttributeValue_ArrayValue{ArrayValue: &pb.AttributeArray{Values: []*pb.AttributeValue{sattr(long), iattr(1)}}}}
	attrs["bytes"] = &pb.AttributeValue{Value: &pb.AttributeValue_BytesValue{BytesValue: make([]byte, 1<<20)}}
	attrs["nan"] = &pb.AttributeValue{Value: &pb.AttributeValue_FloatValue{FloatValue: math.NaN()}}
	s.Apply(event("t", 1, pb.EventType_EVENT_TYPE_NODE_PROGRESS, "n", attrs), meta(0))
	e := s.Run("t").Event(0)
	size := 0
	for _, f := range e.Summary {
		if f.Key == "_dropped" {
			continue
		}
		size += len(f.Key) + len(f.Value)
		if !utf8.ValidString(f.Value) || utf8.RuneCountInString(f.Value) > 10+utf8.RuneCountInString(truncatedMark) {
			t.Errorf("value %q not bounded", f.Value)
		}
	}
	if size > 100 {
		t.Fatalf("summary %d bytes: %+v", size, e.Summary)
	}
	if v, ok := e.Get("_dropped"); !ok || !strings.Contains(v, "fields over the size limit") {
		t.Fatalf("no drop count: %+v", e.Summary)
	}
	if v, _ := e.Get("arr"); v != `["éééééééé`+truncatedMark {
		t.Fatalf("arr = %q", v)
	}
}

func TestEvents_AttributeRendering(t *testing.T) {
	cases := []struct {
		v    *pb.AttributeValue
		want string
	}{
		{sattr("plain"), "plain"},
		{iattr(-42), "-42"},
		{&pb.AttributeValue{Value: &pb.AttributeValue_FloatValue{FloatValue: 0.1}}, "0.1"},
		{&pb.AttributeValue{Value: &pb.AttributeValue_FloatValue{FloatValue: math.Inf(-1)}}, `"-Inf"`},
		{&pb.AttributeValue{Value: &pb.AttributeValue_BoolValue{BoolValue: true}}, "true"},
		{&pb.AttributeValue{Value: &pb.AttributeValue_BytesValue{BytesValue: make([]byte, 1<<20)}}, "<1048576 bytes>"},
		{&pb.AttributeValue{Value: &pb.AttributeValue_ArrayValue{ArrayValue: &pb.AttributeArray{Values: []*pb.AttributeValue{sattr("a\"b"), iattr(1), {}}}}}, `["a\"b",1,null]`},
		{&pb.AttributeValue{Value: &pb.AttributeValue_MapValue{MapValue: &pb.AttributeMap{Values: map[string]*pb.AttributeValue{"z": iattr(1), "a": sattr("x"), "token": sattr("s")}}}}, `{"a":"x","z":1}`},
		{&pb.AttributeValue{}, "null"},
	}
	for _, c := range cases {
		if got := string(appendAttr(nil, c.v, 100, 0)); got != c.want {
			t.Errorf("%v: got %s, want %s", c.v, got, c.want)
		}
	}
	deep := iattr(1)
	for range 20 {
		deep = &pb.AttributeValue{Value: &pb.AttributeValue_ArrayValue{ArrayValue: &pb.AttributeArray{Values: []*pb.AttributeValue{deep}}}}
	}
	if got := string(appendAttr(nil, deep, 100, 0)); !strings.Contains(got, "…") || len(got) > 40 {
		t.Errorf("deep value rendered as %s", got)
	}
}

func TestEventBatch_ExpandsIntoInnerEventsWithOwnHeaders(t *testing.T) {
	s := NewStore(Config{})
	inner := func(thread string, seq uint64, typ pb.EventType, node string) *pb.Event {
		return event(thread, seq, typ, node, nil).GetEvent()
	}
	noThread := inner("", 3, pb.EventType_EVENT_TYPE_NODE_END, "a")
	noThread.Header.TimestampUs = 0
	batch := &pb.DashStreamMessage{Message: &pb.DashStreamMessage_EventBatch{EventBatch: &pb.EventBatch{
		Header: &pb.Header{ThreadId: "t", Sequence: 0, TimestampUs: 42, MessageId: msgID("t", 0, 9), Type: pb.MessageType_MESSAGE_TYPE_EVENT_BATCH},
		Events: []*pb.Event{
			graphStart("t", 1, `{}`).GetEvent(),
			inner("t", 2, pb.EventType_EVENT_TYPE_NODE_START, "a"),
			noThread, // inherits the batch's thread and timestamp
			inner("u", 1, pb.EventType_EVENT_TYPE_GRAPH_START, ""),
			inner("t", 5, pb.EventType_EVENT_TYPE_NODE_START, "b"), // waits for 4
			nil,
		},
	}}}
	o := s.Apply(batch, meta(0))
	if o.Disposition != Buffered || o.Counts[Applied] != 4 || o.Counts[Buffered] != 1 || o.Committable() {
		t.Fatalf("outcome %+v", o)
	}
	if !slices.Equal(o.Changed, []string{"t", "u"}) {
		t.Fatalf("changed %v", o.Changed)
	}
	r := s.Run("t")
	if r.EventCount() != 3 || r.LastSeq() != 3 || r.Waiting() != 1 {
		t.Fatalf("events %d last %d waiting %d", r.EventCount(), r.LastSeq(), r.Waiting())
	}
	if e := r.Event(2); e.Timestamp != 42 || e.Seq != 3 || e.NodeID != "a" {
		t.Fatalf("inherited fields %+v", e)
	}
	if n, ok := r.Node("a"); !ok || n.Status != NodeCompleted {
		t.Fatalf("node a %+v", n)
	}
	// The same batch again: every inner event is a duplicate.
	if o := s.Apply(batch, meta(1)); o.Disposition != Duplicate || o.Counts[Duplicate] != 5 {
		t.Fatalf("replayed batch %+v", o)
	}
}

func TestUnbound_MessagesWithoutThreadAreQuarantinedAndBounded(t *testing.T) {
	s := NewStore(Config{MaxQuarantine: 3})
	for i := range 5 {
		m := event("", uint64(i+1), pb.EventType_EVENT_TYPE_NODE_START, "n", map[string]*pb.AttributeValue{"k": sattr("v"), "password": sattr("x")})
		if o := s.Apply(m, meta(i)); o.Disposition != Unbound || len(o.Changed) != 0 {
			t.Fatalf("outcome %+v", o)
		}
	}
	u := s.Unbound()
	if len(u) != 3 || u[0].Seq != 3 || u[2].AttrKeys != "k" || u[0].Reason == "" || u[0].Size == 0 {
		t.Fatalf("unbound %+v", u)
	}
	if len(s.Runs()) != 0 || s.Stats().Unbound != 5 {
		t.Fatalf("runs %d stats %+v", len(s.Runs()), s.Stats())
	}
	for _, m := range []*pb.DashStreamMessage{nil, {}} {
		if o := s.Apply(m, meta(9)); o.Disposition != Invalid {
			t.Fatalf("empty message: %v", o.Disposition)
		}
	}
}

func TestNodes_LifecycleAndDurations(t *testing.T) {
	s := NewStore(Config{MaxErrorChars: 20})
	withAttr := event("t", 5, pb.EventType_EVENT_TYPE_NODE_END, "b", map[string]*pb.AttributeValue{"duration_us": iattr(777)})
	withAttr.GetEvent().DurationUs = 5
	overflow := nodeEnd("t", 9, "d", math.MaxInt64)
	applyAll(s, graphStart("t", 1, `{}`),
		nodeStart("t", 2, "a"), nodeEnd("t", 3, "a", 1500), // field
		nodeStart("t", 4, "b"), withAttr, // attribute wins
		nodeStart("t", 6, "c"),
		event("t", 7, pb.EventType_EVENT_TYPE_NODE_ERROR, "c", map[string]*pb.AttributeValue{"error": sattr(strings.Repeat("x", 100))}),
		nodeStart("t", 8, "d"), overflow, // timestamps: 1 ms apart
		nodeEnd("t", 10, "e", 0), // no start (joined mid-run)
		nodeStart("t", 11, "a"),
	)
	r := s.Run("t")
	want := map[string]struct {
		status NodeStatus
		dur    int64
		execs  int
	}{"a": {NodeActive, -1, 2}, "b": {NodeCompleted, 777, 1}, "c": {NodeFailed, 1000, 1}, "d": {NodeCompleted, 1000, 1}, "e": {NodeCompleted, -1, 0}}
	for name, w := range want {
		n, ok := r.Node(name)
		if !ok || n.Status != w.status || n.DurationUs != w.dur || n.Executions != w.execs {
			t.Errorf("%s: %+v, want %+v", name, n, w)
		}
	}
	if n, _ := r.Node("c"); utf8.RuneCountInString(n.Error) > 20+utf8.RuneCountInString(truncatedMark) || !strings.HasSuffix(n.Error, truncatedMark) {
		t.Errorf("error not bounded: %q", n.Error)
	}
	if r.CurrentNode() != "a" {
		t.Errorf("current %q", r.CurrentNode())
	}
	if got := r.OutOfSchemaNodes(); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("out of schema %v", got) // the test schema has plan and search
	}
	// Node states at an earlier sequence replay the log.
	at4 := r.NodeStatesAt(4)
	if len(at4) != 2 || at4[0].Status != NodeCompleted || at4[1].Status != NodeActive {
		t.Errorf("NodeStatesAt(4) %+v", at4)
	}
	if d, ok := (NodeState{DurationUs: 1500}).Duration(); !ok || d.Microseconds() != 1500 {
		t.Errorf("Duration %v", d)
	}
}

func TestRun_IdentityAndStatus(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{}`))
	r := s.Run("t")
	if r.GraphName() != "research" || r.SchemaID() != "0123456789abcdef" || r.Schema() == nil || r.TenantID() != "default" {
		t.Fatalf("identity %q %q %v", r.GraphName(), r.SchemaID(), r.Schema())
	}
	if r.Status() != RunRunning || r.StartTime().UnixMicro() != t0.UnixMicro()+1000 {
		t.Fatalf("status %v start %v", r.Status(), r.StartTime())
	}
	s.Apply(event("t", 2, pb.EventType_EVENT_TYPE_GRAPH_ERROR, "quality_monitor", map[string]*pb.AttributeValue{"alert_type": sattr("low_quality")}), meta(1))
	if r.Status() != RunRunning || len(r.Notes()) != 1 {
		t.Fatalf("quality alert changed status: %v %v", r.Status(), r.Notes())
	}
	s.Apply(event("t", 3, pb.EventType_EVENT_TYPE_GRAPH_ERROR, "", map[string]*pb.AttributeValue{"error": sattr("out of budget")}), meta(2))
	if r.Status() != RunFailed || r.FailureReason() != "out of budget" || r.EndTime().IsZero() {
		t.Fatalf("status %v error %q", r.Status(), r.FailureReason())
	}
	named := event("u", 1, pb.EventType_EVENT_TYPE_GRAPH_START, "", map[string]*pb.AttributeValue{"graph_name": sattr("fallback")})
	s.Apply(named, meta(3))
	s.Apply(event("u", 2, pb.EventType_EVENT_TYPE_GRAPH_END, "", nil), meta(4))
	if u := s.Run("u"); u.GraphName() != "fallback" || u.Status() != RunCompleted {
		t.Fatalf("u: %q %v", u.GraphName(), u.Status())
	}
	obs := s.SchemaObservations()
	if len(obs) != 1 || obs[0].ID != "0123456789abcdef" || !slices.Equal(obs[0].Threads, []string{"t"}) {
		t.Fatalf("observations %+v", obs)
	}
}

func TestSchema_ValidatesShape(t *testing.T) {
	cases := []struct {
		name, schema, manifest string
		ok                     bool
		nodes                  []string
	}{
		{"valid", testSchema, "", true, []string{"plan", "search"}},
		{"not JSON", `{"nodes":[`, "", false, nil},
		{"not an object", `[1,2]`, "", false, nil},
		{"nodes not an array", `{"nodes":{"a":1}}`, "", false, nil},
		{"node without name", `{"nodes":[{"node_type":"llm"}]}`, "", false, nil},
		{"edge without to", `{"nodes":[],"edges":[{"from":"a"}]}`, "", false, nil},
		{"oversized", `{"name":"` + strings.Repeat("x", 300) + `"}`, "", false, nil},
		{"manifest stub", "", `{"name":"m","entry_point":"a","nodes":{"a":{},"b":{}}}`, true, []string{"a", "b"}},
		{"bad schema falls back to manifest", `{`, `{"graph_name":"m2","nodes":[{"name":"x"}]}`, true, []string{"x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewStore(Config{MaxSchemaBytes: 256})
			attrs := map[string]*pb.AttributeValue{}
			if c.schema != "" {
				attrs["graph_schema_json"] = sattr(c.schema)
			}
			if c.manifest != "" {
				attrs["graph_manifest"] = sattr(c.manifest)
			}
			s.Apply(event("t", 1, pb.EventType_EVENT_TYPE_GRAPH_START, "", attrs), meta(0))
			r := s.Run("t")
			sc := r.Schema()
			if (sc != nil) != c.ok {
				t.Fatalf("schema %+v notes %v", sc, r.Notes())
			}
			if sc == nil {
				if len(r.Notes()) == 0 {
					t.Fatalf("rejection not noted")
				}
				return
			}
			var names []string
			for _, n := range sc.Nodes {
				names = append(names, n.Name)
			}
			if !slices.Equal(names, c.nodes) {
				t.Fatalf("nodes %v", names)
			}
		})
	}
	sc, err := parseSchema(testSchema, 1<<20, 100)
	if err != nil || sc.Nodes[1].Type != "custom" || sc.Edges[0].Type != "direct" || sc.EntryPoint != "plan" {
		t.Fatalf("parsed %+v, %v", sc, err)
	}
}

func TestTokens_AssembledInChunkOrder(t *testing.T) {
	s := NewStore(Config{MaxTokenTextBytes: 12})
	chunk := func(seq uint64, idx uint32, text string, final bool) *pb.DashStreamMessage {
		c := &pb.TokenChunk{Header: header("t", seq, 3), RequestId: "r", ChunkIndex: idx, Text: text, IsFinal: final, Model: "gpt"}
		if final {
			c.FinishReason = pb.TokenChunk_FINISH_REASON_STOP
			c.Stats = &pb.TokenStats{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7}
		}
		return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: c}}
	}
	// Upstream sends token chunks from spawned tasks: their chunk order
	// and sequence order may differ.
	applyAll(s, chunk(1, 2, "lo ", false), chunk(2, 0, "Hel", false), chunk(3, 0, "XXX", false), chunk(4, 4, "world!!", true))
	ts := s.Run("t").TokenStreams()
	if len(ts) != 1 {
		t.Fatalf("streams %d", len(ts))
	}
	st := ts[0]
	if st.Text() != "Hello world!" {
		t.Fatalf("text %q", st.Text())
	}
	if st.Chunks != 3 || st.Missing != 2 || !st.Final || st.FinishReason != "stop" || st.TotalTokens != 7 || !st.Truncated || st.Model != "gpt" {
		t.Fatalf("stream %+v", st)
	}
}

func TestTools_StagesAndBoundedPreviews(t *testing.T) {
	s := NewStore(Config{MaxAttrChars: 8, MaxToolCallsPerRun: 2})
	tool := func(seq uint64, call string, stage pb.ToolExecution_ExecutionStage, args, result []byte, errText string) *pb.DashStreamMessage {
		return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: &pb.ToolExecution{
			Header: header("t", seq, 4), CallId: call, ToolName: "search", Stage: stage, Arguments: args, Result: result, Error: errText, DurationUs: int64(seq), RetryCount: uint32(seq / 3),
		}}}
	}
	applyAll(s,
		tool(1, "c1", pb.ToolExecution_EXECUTION_STAGE_STARTED, []byte(`{"query":"quarterly revenue"}`), nil, ""),
		tool(2, "c2", pb.ToolExecution_EXECUTION_STAGE_STARTED, nil, nil, ""),
		tool(3, "c1", pb.ToolExecution_EXECUTION_STAGE_FAILED, nil, []byte{0xff, 0xfe}, "timeout"),
		tool(4, "c3", pb.ToolExecution_EXECUTION_STAGE_COMPLETED, nil, nil, ""),
	)
	calls := s.Run("t").ToolCalls()
	if len(calls) != 2 || calls[0].CallID != "c1" || calls[1].CallID != "c3" {
		t.Fatalf("calls %+v", calls)
	}
	c := calls[0]
	if c.Stage != "failed" || len(c.Stages) != 2 || c.Error != "timeout" || c.Retries != 1 || c.DurationUs != 3 {
		t.Fatalf("c1 %+v", c)
	}
	if c.Arguments != `{"query"`+truncatedMark || c.ArgumentsBytes != 29 || c.Result != "<2 bytes, not UTF-8>" {
		t.Fatalf("previews %q %q", c.Arguments, c.Result)
	}
}

func TestMetrics_LatestValuesPerScopeAndName(t *testing.T) {
	s := NewStore(Config{MaxMetricsPerRun: 3})
	metrics := func(seq uint64, scopeID string, vals map[string]*pb.MetricValue) *pb.DashStreamMessage {
		return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Metrics{Metrics: &pb.Metrics{Header: header("t", seq, 6), Scope: "node", ScopeId: scopeID, Metrics: vals, Tags: map[string]string{"thread_id": "t", "custom": "x"}}}}
	}
	gauge := func(f float64) *pb.MetricValue {
		return &pb.MetricValue{Value: &pb.MetricValue_FloatValue{FloatValue: f}, Unit: "ratio", Type: pb.MetricValue_METRIC_TYPE_GAUGE}
	}
	applyAll(s,
		metrics(1, "a", map[string]*pb.MetricValue{"score": gauge(0.5), "ok": {Value: &pb.MetricValue_BoolValue{BoolValue: true}}}),
		metrics(2, "a", map[string]*pb.MetricValue{"score": gauge(0.75)}),
		metrics(3, "b", map[string]*pb.MetricValue{"n": {Value: &pb.MetricValue_IntValue{IntValue: math.MaxInt64}}}),
		metrics(4, "b", map[string]*pb.MetricValue{"m": gauge(1)}), // evicts a/ok, the least recently updated
	)
	got := s.Run("t").Metrics()
	var lines []string
	for _, p := range got {
		lines = append(lines, p.ScopeID+"/"+p.Name+"="+p.Value)
	}
	if !slices.Equal(lines, []string{"a/score=0.75", "b/m=1", "b/n=9223372036854775807"}) {
		t.Fatalf("metrics %v", lines)
	}
	if p := got[0]; p.Type != "gauge" || p.Unit != "ratio" || p.Seq != 2 || len(p.Tags) != 1 || p.Tags[0] != (Field{"thread_id", "t"}) {
		t.Fatalf("point %+v", p)
	}
}

// The token table's fast paths (the latest stream first, a chunk after
// the last) give what a plain model gives: streams in order of their
// latest update, the oldest dropped past the limit, each stream's text in
// chunk order with the first copy of a chunk kept, whatever order chunks
// of interleaved responses come in.
func TestTokens_SameAsAPlainModel(t *testing.T) {
	type model struct {
		id     string
		chunks map[uint32]string
	}
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 7))
		const limit = 3
		tab := tokenTable{limit: limit, maxBytes: 1 << 20}
		var want []*model
		for seq := uint64(1); seq < 300; seq++ {
			id := fmt.Sprintf("r%d", r.IntN(5))
			if r.IntN(4) > 0 && len(want) > 0 {
				id = want[len(want)-1].id // mostly the same response as before
			}
			idx := uint32(r.IntN(12))
			text := fmt.Sprintf("<%d.%d>", idx, seq)
			tab.add(&pb.TokenChunk{RequestId: id, ChunkIndex: idx, Text: text}, seq, int64(seq), 100)

			i := slices.IndexFunc(want, func(m *model) bool { return m.id == id })
			var m *model
			if i >= 0 {
				m = want[i]
				want = slices.Delete(want, i, i+1)
			} else {
				if len(want) == limit {
					want = want[1:]
				}
				m = &model{id: id, chunks: map[uint32]string{}}
			}
			want = append(want, m)
			if _, ok := m.chunks[idx]; !ok {
				m.chunks[idx] = text
			}

			got := tab.list()
			if len(got) != len(want) {
				t.Fatalf("seed %d seq %d: %d streams, want %d", seed, seq, len(got), len(want))
			}
			for j, w := range want {
				var text strings.Builder
				for _, k := range slices.Sorted(maps.Keys(w.chunks)) {
					text.WriteString(w.chunks[k])
				}
				g := got[j]
				if g.RequestID != w.id || g.Text() != text.String() || g.Chunks != len(w.chunks) {
					t.Fatalf("seed %d seq %d stream %d: %s %q (%d chunks), want %s %q (%d)", seed, seq, j, g.RequestID, g.Text(), g.Chunks, w.id, text.String(), len(w.chunks))
				}
			}
		}
	}
}

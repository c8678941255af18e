package viewmodel

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/pricing"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// SpanKind is what a waterfall row stands for.
type SpanKind string

// The span kinds: a node execution, and the LLM and tool calls made in one.
const (
	SpanNode SpanKind = "node"
	SpanLLM  SpanKind = "llm"
	SpanTool SpanKind = "tool"
)

// Span is one row of a run's waterfall: a node execution (a node that ran
// twice has two), or an LLM or tool call, nested under the execution that
// made it when that is known.
type Span struct {
	Kind SpanKind
	// Key identifies the row within the run and stays the same as the run
	// grows: "node:<name>#<n>", "llm:<request id>", "tool:<call id>".
	Key string
	// Name is the node's name, the LLM call's model or the tool's name.
	Name string
	// Node and Execution are the node execution the row is, or belongs to
	// (Execution counts from 1); "" and 0 for a call no execution can be
	// tied to.
	Node      string
	Execution int
	// Depth is 0 for executions and calls tied to none, 1 for a call
	// nested under its execution.
	Depth  int
	Status NodeStatus
	// StartSeq and EndSeq bound the row in the run's sequences (EndSeq 0:
	// not ended); Seq is where selecting the row moves the slider (the
	// end, where the node's or call's result is in the state).
	StartSeq, EndSeq, Seq uint64
	// Start and End are offsets from the run's start; Open: still running,
	// so End is the moment shown and grows.
	Start, End time.Duration
	Open       bool
	// StartUnknown: the row's start is not known (its first message is no
	// longer kept), so Start is a lower bound.
	StartUnknown bool
	// Error is the failure of a failed row.
	Error string
	// Detail is the short text beside the bar: tokens and cost of an LLM
	// call, retries of a tool call, the error of a failure.
	Detail string
	// TTFT is an LLM call's time to first token, from its LLM_START event
	// to its first chunk; -1 when no LLM_START was sent.
	TTFT time.Duration
}

// Duration returns the row's length on the axis.
func (s Span) Duration() time.Duration { return max(s.End-s.Start, 0) }

// Contains reports whether the run's position seq lies within the row.
func (s Span) Contains(seq uint64) bool {
	return seq >= s.StartSeq && (s.EndSeq == 0 || seq <= s.EndSeq)
}

// Tick is a labelled mark of the time axis.
type Tick struct {
	At    time.Duration
	Label string
}

// Waterfall is a run's executions on one time axis, from the run's start
// to its end (or to now while it runs), each row with its bar.
type Waterfall struct {
	Rows []Span
	// Total is the axis' length; Live: the run has not ended.
	Total time.Duration
	Live  bool
	Ticks []Tick
	// Failed is the run's failure as the axis shows it: the error, and
	// where it happened (At on the axis, Seq in the run); "" when none.
	Failed   string
	FailedAt time.Duration
	FailSeq  uint64
}

// Left returns where a row's bar starts, as a percentage of the axis.
func (w Waterfall) Left(s Span) float64 { return w.percent(s.Start) }

// Width returns the bar's length as a percentage of the axis; a bar is at
// least a sliver wide so that an instant stays visible.
func (w Waterfall) Width(s Span) float64 {
	return math.Max(math.Min(w.percent(s.Duration()), 100-w.Left(s)), 0.4)
}

// Share returns the row's share of the run, from 0 to 1.
func (w Waterfall) Share(s Span) float64 {
	if w.Total <= 0 {
		return 0
	}
	return math.Min(float64(s.Duration())/float64(w.Total), 1)
}

func (w Waterfall) percent(d time.Duration) float64 {
	if w.Total <= 0 {
		return 0
	}
	return math.Min(math.Max(float64(d)*100/float64(w.Total), 0), 100)
}

// Selected returns the index of the row a view with node and seq selects:
// the row moved to exactly (its node and Seq), else the execution of node
// containing seq (seq 0, live: its latest execution); -1 for none.
func (w Waterfall) Selected(node string, seq uint64) int {
	if node == "" {
		return -1
	}
	best := -1
	for i, s := range w.Rows {
		if s.Node != node {
			continue
		}
		if seq != 0 && s.Seq == seq {
			return i
		}
		if s.Kind == SpanNode && (seq == 0 || s.Contains(seq)) {
			best = i
		}
	}
	return best
}

// Row returns the row with key, and false when there is none.
func (w Waterfall) Row(key string) (Span, bool) {
	for _, s := range w.Rows {
		if s.Key == key {
			return s, true
		}
	}
	return Span{}, false
}

// Tooltip says when a row ran and how much of the run it took.
func (w Waterfall) Tooltip(s Span) string {
	start := "starts " + FormatElapsed(s.Start)
	if s.StartUnknown {
		start = "started before " + FormatElapsed(s.Start)
	}
	d := FormatDuration(s.Duration())
	if s.Open {
		d += " so far"
	}
	return start + " · " + d + " · " + strconv.FormatFloat(w.Share(s)*100, 'f', 1, 64) + "% of the run"
}

// exec is a node execution being built.
type exec struct {
	span  Span
	start int64 // producer µs; 0 unknown
	end   int64
}

// BuildWaterfall reads a run's event log, token streams and tool calls into
// its waterfall at now. prices (nil for none) gives LLM calls their cost.
//
// The DashStream wire format ties a TokenChunk or a ToolExecution to no
// node, so each call is placed by evidence, in this order: an LLM_* event
// naming its llm_request_id, or a TOOL_* event naming its call_id, with a
// node_id; else the one execution running when the call began; else, among
// several running at once (parallel branches), the one whose name is the
// tool's, or the only one whose schema type fits (an llm node for an LLM
// call, a tool node for a tool call). A call none of these places stays
// at the top level rather than under a guess.
func BuildWaterfall(r *runstate.Run, prices *pricing.Table, now time.Time) Waterfall {
	w := Waterfall{Live: r.Status() == runstate.RunRunning}
	n := r.EventCount()
	var first, last int64 // the oldest and newest producer times seen
	for i := range n {
		if ts := r.Event(i).Timestamp; ts > 0 {
			if first == 0 || ts < first {
				first = ts
			}
			last = max(last, ts)
		}
	}
	origin := first
	if !r.StartTime().IsZero() {
		origin = r.StartTime().UnixMicro()
	}
	end := last
	if w.Live {
		// Now on the producer's clock: the newest message's time plus
		// what passed here since it arrived, which no clock skew between
		// producer and browser distorts.
		if !r.LastArrival().IsZero() && now.After(r.LastArrival()) {
			end += now.Sub(r.LastArrival()).Microseconds()
		}
	} else if t := r.EndTime(); !t.IsZero() {
		end = max(end, t.UnixMicro())
	}
	off := func(ts int64) time.Duration {
		if ts <= 0 || origin == 0 {
			return 0
		}
		return time.Duration(ts-origin) * time.Microsecond
	}
	if origin != 0 && end > origin {
		w.Total = off(end)
	}

	types := map[string]string{}
	if s := r.Schema(); s != nil {
		for _, n := range s.Nodes {
			types[n.Name] = n.Type
		}
	}

	var execs []*exec
	runs := map[string]int{} // executions seen per node
	open := map[string][]*exec{}
	llmNode := map[string]runstate.Event{}  // request id → the LLM_* event naming a node
	llmStart := map[string]int64{}          // request id → LLM_START time
	llmFailed := map[string]string{}        // request id → LLM_ERROR text
	toolNode := map[string]runstate.Event{} // call id → the TOOL_* event naming a node
	closeExec := func(e runstate.Event, st NodeStatus) {
		stack := open[e.NodeID]
		var x *exec
		if n := len(stack); n > 0 {
			x, open[e.NodeID] = stack[n-1], stack[:n-1]
		} else {
			// Its start is no longer in the log: place it by its duration.
			runs[e.NodeID]++
			x = &exec{span: Span{Kind: SpanNode, Name: e.NodeID, Node: e.NodeID, Execution: runs[e.NodeID], StartUnknown: true, TTFT: -1}}
			if e.DurationUs > 0 && e.Timestamp > 0 {
				x.start = e.Timestamp - e.DurationUs
			}
			execs = append(execs, x)
		}
		x.end = e.Timestamp
		x.span.EndSeq, x.span.Status, x.span.Error = e.Seq, st, e.Detail
	}
	for i := range n {
		e := r.Event(i)
		if e.Kind != runstate.KindEvent {
			continue
		}
		switch e.Type {
		case pb.EventType_EVENT_TYPE_GRAPH_START:
			// A thread that starts again (a new GraphStart) is a new run:
			// the waterfall shows the latest.
			execs, runs, open = nil, map[string]int{}, map[string][]*exec{}
			w.Failed, w.FailSeq = "", 0
		case pb.EventType_EVENT_TYPE_NODE_START:
			runs[e.NodeID]++
			x := &exec{start: e.Timestamp, span: Span{Kind: SpanNode, Name: e.NodeID, Node: e.NodeID,
				Execution: runs[e.NodeID], StartSeq: e.Seq, Status: NodeActive, TTFT: -1}}
			execs = append(execs, x)
			open[e.NodeID] = append(open[e.NodeID], x)
		case pb.EventType_EVENT_TYPE_NODE_END:
			closeExec(e, NodeCompleted)
		case pb.EventType_EVENT_TYPE_NODE_ERROR:
			closeExec(e, NodeFailed)
		case pb.EventType_EVENT_TYPE_GRAPH_ERROR:
			if e.Note != "quality alert" {
				w.Failed, w.FailedAt, w.FailSeq = e.Detail, off(e.Timestamp), e.Seq
			}
		case pb.EventType_EVENT_TYPE_LLM_START, pb.EventType_EVENT_TYPE_LLM_END, pb.EventType_EVENT_TYPE_LLM_ERROR:
			id, _ := e.Get("llm_request_id")
			if id == "" {
				break
			}
			if e.NodeID != "" {
				if _, ok := llmNode[id]; !ok {
					llmNode[id] = e
				}
			}
			switch e.Type {
			case pb.EventType_EVENT_TYPE_LLM_START:
				llmStart[id] = e.Timestamp
			case pb.EventType_EVENT_TYPE_LLM_ERROR:
				msg, _ := e.Get("error")
				llmFailed[id] = firstNonEmpty(msg, e.Detail, "LLM call failed")
			}
		case pb.EventType_EVENT_TYPE_TOOL_START, pb.EventType_EVENT_TYPE_TOOL_END, pb.EventType_EVENT_TYPE_TOOL_ERROR:
			id, _ := e.Get("call_id")
			if id == "" {
				id, _ = e.Get("tool_call_id")
			}
			if _, ok := toolNode[id]; !ok && id != "" && e.NodeID != "" {
				toolNode[id] = e
			}
		}
	}
	// Executions still open end at the moment shown (live) or at the
	// run's last message (the run ended without closing them).
	for _, x := range execs {
		if x.span.EndSeq != 0 {
			continue
		}
		x.end = end
		x.span.Open = w.Live
	}

	// place finds the execution a call belongs to; -1 for none. Among
	// several running at once, each test in turn may single one out.
	place := func(seq uint64, named *runstate.Event, tests ...func(*exec) bool) int {
		if named != nil {
			at := named.Seq
			pick := -1
			for i, x := range execs {
				if x.span.Node == named.NodeID && x.span.StartSeq <= at {
					pick = i
					if x.span.Contains(at) {
						return i
					}
				}
			}
			return pick
		}
		if seq == 0 {
			return -1
		}
		var cands []int
		for i, x := range execs {
			if x.span.StartSeq != 0 && x.span.Contains(seq) {
				cands = append(cands, i)
			}
		}
		if len(cands) == 1 {
			return cands[0]
		}
		for _, fits := range tests {
			var fit []int
			for _, i := range cands {
				if fits(execs[i]) {
					fit = append(fit, i)
				}
			}
			if len(fit) == 1 {
				return fit[0]
			}
		}
		return -1
	}

	children := make([][]Span, len(execs))
	var loose []Span
	add := func(at int, s Span) {
		if at < 0 {
			loose = append(loose, s)
			return
		}
		x := execs[at]
		s.Node, s.Execution, s.Depth = x.span.Node, x.span.Execution, 1
		children[at] = append(children[at], s)
	}

	for _, t := range r.TokenStreams() {
		s := Span{Kind: SpanLLM, Key: "llm:" + t.RequestID, Name: firstNonEmpty(t.Model, "LLM call"),
			StartSeq: t.FirstSeq, Seq: t.LastSeq, Status: NodeCompleted, TTFT: -1}
		startTs := t.FirstTime
		if ts, ok := llmStart[t.RequestID]; ok && ts > 0 {
			startTs = ts
			if t.FirstTime >= ts {
				s.TTFT = time.Duration(t.FirstTime-ts) * time.Microsecond
			}
		}
		endTs := t.FinalTime
		switch {
		case t.Final:
			s.EndSeq = t.LastSeq
		case w.Live:
			s.Open, s.Status, endTs = true, NodeActive, end
		default:
			endTs = t.FirstTime // the stream stopped: only its start is known
			s.EndSeq = t.LastSeq
		}
		if t.FinishReason == "error" || llmFailed[t.RequestID] != "" {
			s.Status, s.Error = NodeFailed, firstNonEmpty(llmFailed[t.RequestID], "the response ended with an error")
		}
		s.Start, s.End = off(startTs), off(max(endTs, startTs))
		s.Detail = llmDetail(t, prices)
		var named *runstate.Event
		if e, ok := llmNode[t.RequestID]; ok {
			named = &e
		}
		add(place(t.FirstSeq, named, func(x *exec) bool { return types[x.span.Node] == "llm" }), s)
	}
	for _, c := range r.ToolCalls() {
		s := Span{Kind: SpanTool, Key: "tool:" + c.CallID, Name: firstNonEmpty(c.ToolName, "tool call"), Status: NodeActive, TTFT: -1}
		var startTs, endTs int64
		for _, st := range c.Stages {
			if s.StartSeq == 0 || (st.Seq != 0 && st.Seq < s.StartSeq) {
				s.StartSeq = st.Seq
			}
			if startTs == 0 || (st.Timestamp > 0 && st.Timestamp < startTs) {
				startTs = st.Timestamp
			}
			if st.Stage == "completed" || st.Stage == "failed" {
				s.EndSeq, endTs = st.Seq, st.Timestamp
			}
		}
		switch c.Stage {
		case "completed":
			s.Status = NodeCompleted
		case "failed":
			s.Status, s.Error = NodeFailed, firstNonEmpty(c.Error, "the tool call failed")
		default:
			if w.Live {
				s.Open, endTs = true, end
			} else {
				endTs = startTs
			}
		}
		s.Seq = max(s.EndSeq, s.StartSeq)
		if len(c.Stages) > 0 {
			s.Seq = max(s.Seq, c.Stages[len(c.Stages)-1].Seq)
		}
		s.Start, s.End = off(startTs), off(max(endTs, startTs))
		s.Detail = toolDetail(c)
		var named *runstate.Event
		if e, ok := toolNode[c.CallID]; ok {
			named = &e
		}
		add(place(s.StartSeq, named,
			func(x *exec) bool { return x.span.Node == c.ToolName },
			func(x *exec) bool { return types[x.span.Node] == "tool" }), s)
	}

	// Executions in start order, each followed by its calls; calls tied to
	// none in start order among them.
	type item struct {
		at    time.Duration
		order int
		spans []Span
	}
	var items []item
	for i, x := range execs {
		x.span.Key = "node:" + x.span.Node + "#" + strconv.Itoa(x.span.Execution)
		x.span.Start, x.span.End = off(x.start), off(max(x.end, x.start))
		if x.start == 0 {
			x.span.Start, x.span.StartUnknown = 0, true
		}
		x.span.Seq = x.span.EndSeq
		if x.span.Seq == 0 {
			x.span.Seq = x.span.StartSeq
		}
		x.span.Detail = nodeDetail(x.span)
		kids := children[i]
		sort.SliceStable(kids, func(a, b int) bool { return kids[a].Start < kids[b].Start })
		items = append(items, item{x.span.Start, len(items), append([]Span{x.span}, kids...)})
	}
	for _, s := range loose {
		items = append(items, item{s.Start, len(items), []Span{s}})
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].at < items[b].at })
	for _, it := range items {
		w.Rows = append(w.Rows, it.spans...)
	}
	w.Ticks = ticks(w.Total)
	return w
}

func nodeDetail(s Span) string {
	switch {
	case s.Status == NodeFailed:
		return "failed"
	case s.Open:
		return "running"
	case s.EndSeq == 0:
		return "did not finish"
	}
	return FormatDuration(s.Duration())
}

// llmDetail is an LLM call's tokens and cost in a few words.
func llmDetail(t runstate.TokenStream, prices *pricing.Table) string {
	if t.TotalTokens == 0 && t.PromptTokens == 0 && t.CompletionTokens == 0 {
		if !t.Final {
			return Plural(t.Chunks, "chunk", "chunks") + " so far"
		}
		return "no token counts"
	}
	d := FormatCount(uint64(t.PromptTokens)+uint64(t.CompletionTokens)) + " tokens"
	if c, ok := callCost(t, prices); ok {
		d += " · " + FormatUSD(c)
	}
	return d
}

func toolDetail(c runstate.ToolCall) string {
	d := ""
	if c.Retries > 0 {
		d = Plural(int(c.Retries), "retry", "retries")
	}
	if c.Stage == "failed" {
		if d != "" {
			d += " · "
		}
		d += "failed"
	}
	return d
}

// callCost prices one LLM call; false when its model has no price or its
// tokens are unknown.
func callCost(t runstate.TokenStream, prices *pricing.Table) (float64, bool) {
	if prices == nil || t.Model == "" || t.PromptTokens+t.CompletionTokens == 0 {
		return 0, false
	}
	return prices.Cost(t.Model, uint64(t.PromptTokens), uint64(t.CompletionTokens))
}

// ticks returns 3 to 8 round marks along an axis of length total.
func ticks(total time.Duration) []Tick {
	if total <= 0 {
		return []Tick{{0, "0s"}}
	}
	steps := []time.Duration{}
	for _, unit := range []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second, 10 * time.Second} {
		steps = append(steps, unit, 2*unit, 5*unit)
	}
	steps = append(steps, time.Minute, 2*time.Minute, 5*time.Minute, 10*time.Minute, 30*time.Minute, time.Hour)
	step := steps[len(steps)-1]
	for _, s := range steps {
		if total/s <= 6 {
			step = s
			break
		}
	}
	var out []Tick
	for at := time.Duration(0); at <= total; at += step {
		out = append(out, Tick{At: at, Label: tickLabel(at)})
	}
	return out
}

func tickLabel(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	}
	return FormatDuration(d)
}

func firstNonEmpty(s ...string) string {
	if i := slices.IndexFunc(s, func(v string) bool { return v != "" }); i >= 0 {
		return s[i]
	}
	return ""
}

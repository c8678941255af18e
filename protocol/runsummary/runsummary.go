// Package runsummary folds a run's DashStream messages into the small
// summary a list of runs shows: status, times, counts, the error of a failed
// run, LLM calls with their tokens, tool calls. It reads messages only, never
// the run's state, so it costs a few field reads per message and about half
// a kilobyte per run.
//
// The gateway's run catalog builds one Summary per run from every record it
// reads, and the browser's run store builds the same Summary from the
// messages it applies: one definition of "how many tokens did this run use"
// for the list, the overview and the run page.
//
// A Summary does not deduplicate messages: each message must be observed
// once (the catalog reads each Kafka offset once; the run store observes a
// message after its own dedupe).
package runsummary

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/pricing"
)

// Status is a run's status as the list shows it.
type Status string

// The statuses. Incomplete wins over the others: the run's start is not
// retained (or was never seen), so what the summary counts is only part of
// the run; Outcome still tells how it ended.
const (
	Running    Status = "running"
	Completed  Status = "completed"
	Failed     Status = "failed"
	Incomplete Status = "incomplete"
)

// ParseStatus returns the Status named s ("running", "completed", "failed",
// "incomplete").
func ParseStatus(s string) (Status, bool) {
	switch st := Status(s); st {
	case Running, Completed, Failed, Incomplete:
		return st, true
	}
	return "", false
}

// Bounds of a summary's strings and lists.
const (
	MaxErrorChars = 300
	MaxNameChars  = 200
	MaxThreadID   = 256
	// MaxModels bounds Models; further models add to an "other" entry,
	// which has no price.
	MaxModels = 6
	// maxSeen bounds the call ids remembered to count each LLM or tool call
	// once; past it calls are counted without that check.
	maxSeen = 256
)

// OtherModel names the usage of models beyond MaxModels.
const OtherModel = "(other models)"

// ModelUsage is the token usage of one model in a run.
type ModelUsage struct {
	Model            string `json:"model"`
	Calls            int    `json:"calls"`
	PromptTokens     uint64 `json:"prompt_tokens"`
	CompletionTokens uint64 `json:"completion_tokens"`
}

// Summary is one run's row. Fields are exported for the JSON API
// (`GET /api/runs`) and its readers; change them only through Observe.
type Summary struct {
	ThreadID     string `json:"thread_id"`
	TenantID     string `json:"tenant_id,omitempty"`
	GraphName    string `json:"graph_name"`
	GraphVersion string `json:"graph_version,omitempty"` // graph_version attribute, else schema_id
	Status       Status `json:"status"`
	// Outcome is running, completed or failed: how far the run got, as far
	// as its retained messages tell (also for an incomplete run).
	Outcome   Status `json:"outcome"`
	StartedAt Time   `json:"started_at"`
	EndedAt   Time   `json:"ended_at"`
	// LastAt is the newest message's producer time.
	LastAt     Time  `json:"last_activity_at"`
	DurationMs int64 `json:"duration_ms"`
	// NodeCount counts node executions (NODE_START events).
	NodeCount    int    `json:"node_count"`
	MessageCount int    `json:"message_count"`
	Error        string `json:"error,omitempty"`
	ErrorNode    string `json:"error_node,omitempty"`
	// ErrorSeq is the sequence of the message that carried Error.
	ErrorSeq uint64 `json:"error_sequence,omitempty"`
	Errors   int    `json:"errors"`
	// FirstSeq and LastSeq are the lowest and highest non-zero sequences.
	FirstSeq    uint64 `json:"first_sequence"`
	LastSeq     uint64 `json:"last_sequence"`
	Partition   int32  `json:"partition"`
	FirstOffset int64  `json:"first_offset"`
	LastOffset  int64  `json:"last_offset"`
	// StartSeen is whether the run's GRAPH_START was observed.
	StartSeen bool `json:"start_seen"`
	// Trimmed is set by the catalog when retention removed the run's
	// first records.
	Trimmed          bool         `json:"trimmed,omitempty"`
	LLMCalls         int          `json:"llm_calls"`
	PromptTokens     uint64       `json:"prompt_tokens"`
	CompletionTokens uint64       `json:"completion_tokens"`
	TotalTokens      uint64       `json:"total_tokens"`
	Models           []ModelUsage `json:"models,omitempty"`
	// CostUSD is the cost of the priced calls (Priced fills it); UnpricedCalls
	// counts the calls whose model has no price.
	CostUSD       *float64 `json:"cost_usd,omitempty"`
	UnpricedCalls int      `json:"unpriced_calls,omitempty"`
	ToolCalls     int      `json:"tool_calls"`
	ToolErrors    int      `json:"tool_errors"`

	outcomeSet bool     // Outcome came from GRAPH_END/GRAPH_ERROR
	seen       []uint64 // hashes of counted LLM request ids and tool call ids
	traceTok   uint64   // ExecutionTrace total_tokens, used when no call reported tokens
}

// Position is where a message sits in Kafka; Offset < 0 when unknown.
type Position struct {
	Partition int32
	Offset    int64
}

// New returns the summary of thread, with nothing observed yet.
func New(thread string) *Summary {
	return &Summary{ThreadID: bound(thread, MaxThreadID), Status: Incomplete, Outcome: Running, FirstOffset: -1, LastOffset: -1, Partition: -1}
}

// Observe folds one message into s: a whole Kafka record (an EventBatch's
// events count one message each).
func (s *Summary) Observe(msg *pb.DashStreamMessage, at Position) {
	switch m := msg.GetMessage().(type) {
	case *pb.DashStreamMessage_EventBatch:
		bh := m.EventBatch.GetHeader()
		for _, ev := range m.EventBatch.GetEvents() {
			h := ev.GetHeader()
			ts := h.GetTimestampUs()
			if ts == 0 {
				ts = bh.GetTimestampUs()
			}
			s.ObserveEvent(ev, ts, h.GetSequence(), at)
		}
	case *pb.DashStreamMessage_Event:
		h := m.Event.GetHeader()
		s.ObserveEvent(m.Event, h.GetTimestampUs(), h.GetSequence(), at)
	case nil:
	default:
		s.observeOther(msg, at)
	}
}

// ObserveEvent folds one Event into s, with the timestamp and sequence of
// its header (for an EventBatch's inner event, the batch's timestamp when
// the event has none): the run store observes a batch event by event.
func (s *Summary) ObserveEvent(ev *pb.Event, ts int64, seq uint64, at Position) {
	s.common(ev.GetHeader(), ts, seq, at)
	attrs := ev.GetAttributes()
	switch ev.GetEventType() {
	case pb.EventType_EVENT_TYPE_GRAPH_START:
		s.StartSeen = true
		if ts > 0 {
			s.StartedAt = Time(ts)
		}
		s.graphIdentity(attrs)
		if !s.outcomeSet {
			s.Outcome = Running
		}
	case pb.EventType_EVENT_TYPE_GRAPH_END:
		s.end(Completed, ts)
	case pb.EventType_EVENT_TYPE_GRAPH_ERROR:
		if _, alert := attrs["alert_type"]; alert {
			break // the upstream quality monitor's alert on a healthy run
		}
		s.Errors++
		s.end(Failed, ts)
		if msg, ok := attrText(attrs, "error", "message"); ok {
			s.setError(msg, ev.GetNodeId(), seq, true)
		}
	case pb.EventType_EVENT_TYPE_NODE_START:
		s.NodeCount++
	case pb.EventType_EVENT_TYPE_NODE_ERROR:
		s.Errors++
		msg, _ := attrText(attrs, "error", "message")
		if msg == "" {
			msg = "node " + ev.GetNodeId() + " failed"
		}
		s.setError(msg, ev.GetNodeId(), seq, false)
	case pb.EventType_EVENT_TYPE_LLM_END, pb.EventType_EVENT_TYPE_LLM_ERROR:
		id := ev.GetLlmRequestId()
		if id != "" && !s.firstTime("l", id) {
			break
		}
		model, _ := attrText(attrs, "model")
		p, _ := attrUint(attrs, "prompt_tokens")
		c, _ := attrUint(attrs, "completion_tokens")
		s.llmCall(model, p, c)
		if ev.GetEventType() == pb.EventType_EVENT_TYPE_LLM_ERROR {
			s.Errors++
		}
	}
	s.finish()
}

// observeOther folds a message that is neither an Event nor an
// EventBatch (Observe unpacks those).
func (s *Summary) observeOther(msg *pb.DashStreamMessage, at Position) {
	h := protocol.Header(msg)
	switch m := msg.GetMessage().(type) {
	case *pb.DashStreamMessage_TokenChunk:
		c := m.TokenChunk
		if c.GetIsFinal() && s.firstTime("l", c.GetRequestId()) {
			st := c.GetStats()
			s.llmCall(c.GetModel(), uint64(st.GetPromptTokens()), uint64(st.GetCompletionTokens()))
			if c.GetFinishReason() == pb.TokenChunk_FINISH_REASON_ERROR {
				s.Errors++
			}
		}
	case *pb.DashStreamMessage_ToolExecution:
		t := m.ToolExecution
		switch t.GetStage() {
		case pb.ToolExecution_EXECUTION_STAGE_COMPLETED, pb.ToolExecution_EXECUTION_STAGE_FAILED:
			if s.firstTime("t", t.GetCallId()) {
				s.ToolCalls++
			}
			if t.GetStage() == pb.ToolExecution_EXECUTION_STAGE_FAILED {
				s.ToolErrors++
				s.Errors++
			}
		}
	case *pb.DashStreamMessage_Error:
		e := m.Error
		if sev := e.GetSeverity(); sev == pb.Error_SEVERITY_UNSPECIFIED || sev >= pb.Error_SEVERITY_ERROR {
			s.Errors++
			node := e.GetContext()["node_id"]
			s.setError(e.GetMessage(), node, h.GetSequence(), false)
		}
	case *pb.DashStreamMessage_ExecutionTrace:
		s.traceTok = m.ExecutionTrace.GetTotalTokens()
	}
	s.common(h, h.GetTimestampUs(), h.GetSequence(), at)
	s.finish()
}

// common counts the message and its place, time and sequence.
func (s *Summary) common(h *pb.Header, ts int64, seq uint64, at Position) {
	s.MessageCount++
	if s.ThreadID == "" {
		s.ThreadID = bound(h.GetThreadId(), MaxThreadID)
	}
	if t := h.GetTenantId(); t != "" && t != s.TenantID {
		s.TenantID = bound(t, MaxNameChars)
	}
	if at.Offset >= 0 {
		if s.FirstOffset < 0 || at.Offset < s.FirstOffset {
			s.FirstOffset = at.Offset
		}
		if at.Offset > s.LastOffset {
			s.LastOffset = at.Offset
		}
		s.Partition = at.Partition
	}
	if seq > 0 {
		if s.FirstSeq == 0 || seq < s.FirstSeq {
			s.FirstSeq = seq
		}
		s.LastSeq = max(s.LastSeq, seq)
	}
	if ts > 0 {
		if s.StartedAt == 0 || (!s.StartSeen && Time(ts) < s.StartedAt) {
			s.StartedAt = Time(ts)
		}
		s.LastAt = max(s.LastAt, Time(ts))
	}
}

// finish derives Status, DurationMs and TotalTokens after a message.
func (s *Summary) finish() {
	s.Derive()
	if s.PromptTokens+s.CompletionTokens == 0 && s.traceTok > 0 {
		s.TotalTokens = s.traceTok
	} else {
		s.TotalTokens = s.PromptTokens + s.CompletionTokens
	}
}

// Derive recomputes Status and DurationMs from the fields they follow
// (StartSeen, Trimmed, Outcome, the times): Observe does it after each
// message, and a reader that moves a row on by hand (the dashboard laying
// what it saw live over a catalog row) does it after.
func (s *Summary) Derive() {
	switch {
	case !s.StartSeen || s.Trimmed:
		s.Status = Incomplete
	default:
		s.Status = s.Outcome
	}
	end := s.EndedAt
	if end == 0 {
		end = s.LastAt
	}
	if s.StartedAt > 0 && end > s.StartedAt {
		s.DurationMs = int64(end-s.StartedAt) / 1000
	} else {
		s.DurationMs = 0
	}
}

// SetTrimmed marks that retention removed the run's first records (the
// catalog calls it when the partition's log start passes FirstOffset).
func (s *Summary) SetTrimmed() {
	s.Trimmed = true
	s.finish()
}

func (s *Summary) end(st Status, ts int64) {
	s.Outcome, s.outcomeSet = st, true
	if ts > 0 {
		s.EndedAt = Time(ts)
	}
	s.seen = nil // a finished run keeps no call ids
}

// setError keeps the first error a run reports; a GRAPH_ERROR (the run's
// own reason) replaces a node's.
func (s *Summary) setError(msg, node string, seq uint64, graph bool) {
	if s.Error != "" && !graph {
		return
	}
	if s.Error != "" && graph && s.ErrorNode != "" && node == "" {
		node = s.ErrorNode // keep the failing node when the graph error names none
	}
	s.Error, s.ErrorNode, s.ErrorSeq = bound(msg, MaxErrorChars), bound(node, MaxNameChars), seq
}

func (s *Summary) graphIdentity(attrs map[string]*pb.AttributeValue) {
	name, ok := attrText(attrs, "graph_name")
	if !ok {
		if js, ok := attrText(attrs, "graph_schema_json"); ok {
			name = gjson.Get(js, "name").String()
		}
	}
	if name == "" {
		if js, ok := attrText(attrs, "graph_manifest", "manifest"); ok {
			r := gjson.GetMany(js, "graph_name", "name")
			name = r[0].String()
			if name == "" {
				name = r[1].String()
			}
		}
	}
	if name != "" {
		s.GraphName = bound(name, MaxNameChars)
	}
	if v, ok := attrText(attrs, "graph_version", "schema_id"); ok {
		s.GraphVersion = bound(v, MaxNameChars)
	}
}

func (s *Summary) llmCall(model string, prompt, completion uint64) {
	s.LLMCalls++
	s.PromptTokens += prompt
	s.CompletionTokens += completion
	model = bound(model, MaxNameChars)
	i := slices.IndexFunc(s.Models, func(u ModelUsage) bool { return u.Model == model })
	if i < 0 {
		if len(s.Models) >= MaxModels {
			model = OtherModel
			i = slices.IndexFunc(s.Models, func(u ModelUsage) bool { return u.Model == model })
		}
		if i < 0 {
			s.Models = append(s.Models, ModelUsage{Model: model})
			i = len(s.Models) - 1
		}
	}
	u := &s.Models[i]
	u.Calls++
	u.PromptTokens += prompt
	u.CompletionTokens += completion
}

var seed = maphash.MakeSeed()

// firstTime reports whether the call id (of kind "l" or "t") is seen for
// the first time; an empty id is always new.
func (s *Summary) firstTime(kind, id string) bool {
	if id == "" {
		return true
	}
	h := maphash.String(seed, kind+id)
	if slices.Contains(s.seen, h) {
		return false
	}
	if len(s.seen) < maxSeen {
		s.seen = append(s.seen, h)
	}
	return true
}

// Cost returns the cost of the run's priced LLM calls and how many calls
// have no price (no model, an unknown model, or OtherModel).
func (s *Summary) Cost(t *pricing.Table) (usd float64, unpriced int) {
	for _, u := range s.Models {
		c, ok := 0.0, false
		if u.Model != OtherModel && u.Model != "" {
			c, ok = t.Cost(u.Model, u.PromptTokens, u.CompletionTokens)
		}
		if !ok {
			unpriced += u.Calls
			continue
		}
		usd += c
	}
	return usd, unpriced
}

// Priced returns a copy of s with CostUSD and UnpricedCalls filled from t
// (CostUSD stays nil when no call is priced).
func (s *Summary) Priced(t *pricing.Table) Summary {
	out := *s
	out.seen = nil
	out.Models = slices.Clone(s.Models)
	usd, unpriced := s.Cost(t)
	out.UnpricedCalls = unpriced
	out.CostUSD = nil
	if unpriced < s.LLMCalls {
		usd = math.Round(usd*1e6) / 1e6
		out.CostUSD = &usd
	}
	return out
}

// Clone returns a copy of s that shares nothing with it.
func (s *Summary) Clone() Summary {
	out := *s
	out.Models = slices.Clone(s.Models)
	out.seen = slices.Clone(s.seen)
	return out
}

// Matches reports whether q (already lower-cased) is a substring of the
// run's thread id, graph name or error, case-insensitively.
func (s *Summary) Matches(q string) bool {
	return q == "" || containsFold(s.ThreadID, q) || containsFold(s.GraphName, q) || containsFold(s.Error, q)
}

func containsFold(s, lowerSub string) bool {
	if lowerSub == "" {
		return true
	}
	if !isASCII(s) || !isASCII(lowerSub) {
		return strings.Contains(strings.ToLower(s), lowerSub)
	}
	// ASCII, the common case: no allocation (the catalog matches 100,000
	// runs per query).
	for i := 0; i+len(lowerSub) <= len(s); i++ {
		j := 0
		for j < len(lowerSub) && asciiLower(s[i+j]) == lowerSub[j] {
			j++
		}
		if j == len(lowerSub) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func asciiLower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// Size estimates the bytes s holds (for the catalog's memory figures).
func (s *Summary) Size() int {
	n := 232 + len(s.ThreadID) + len(s.TenantID) + len(s.GraphName) + len(s.GraphVersion) + len(s.Error) + len(s.ErrorNode)
	for _, u := range s.Models {
		n += 48 + len(u.Model)
	}
	return n + 8*cap(s.seen)
}

// Time is a producer timestamp in microseconds since the Unix epoch; it is
// written in JSON as an RFC 3339 string (UTC, microseconds) or null for 0.
type Time int64

// Time returns t as a time.Time (the zero Time for 0).
func (t Time) Time() time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.UnixMicro(int64(t)).UTC()
}

// FromTime returns the Time of tm (0 for the zero time).
func FromTime(tm time.Time) Time {
	if tm.IsZero() {
		return 0
	}
	return Time(tm.UnixMicro())
}

// MarshalJSON writes an RFC 3339 string, or null for 0.
func (t Time) MarshalJSON() ([]byte, error) {
	if t == 0 {
		return []byte("null"), nil
	}
	return []byte(`"` + t.Time().Format(time.RFC3339Nano) + `"`), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("runsummary: time: %w", err)
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("runsummary: time: %w", err)
	}
	*t = FromTime(tm)
	return nil
}

// attrText returns the first of keys that is a string (or UTF-8 bytes)
// attribute.
func attrText(attrs map[string]*pb.AttributeValue, keys ...string) (string, bool) {
	for _, k := range keys {
		switch x := attrs[k].GetValue().(type) {
		case *pb.AttributeValue_StringValue:
			return x.StringValue, true
		case *pb.AttributeValue_BytesValue:
			if utf8.Valid(x.BytesValue) {
				return string(x.BytesValue), true
			}
		}
	}
	return "", false
}

// attrUint returns a non-negative integer attribute (int or integral double).
func attrUint(attrs map[string]*pb.AttributeValue, key string) (uint64, bool) {
	switch x := attrs[key].GetValue().(type) {
	case *pb.AttributeValue_IntValue:
		if x.IntValue >= 0 {
			return uint64(x.IntValue), true
		}
	case *pb.AttributeValue_FloatValue:
		if v := x.FloatValue; v >= 0 && v < 1<<53 && v == math.Trunc(v) {
			return uint64(v), true
		}
	}
	return 0, false
}

// bound cuts s to n characters, valid UTF-8, with "…" when cut.
func bound(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n {
			return strings.Clone(s[:i]) + "…"
		}
		count++
	}
	return s
}

package producer

import (
	"time"

	"github.com/dashstream/dashstream/protocol/pb"
)

// LLMCall is one LLM call as LLMStart and LLMEnd report it. The events tie
// the call's TokenChunks (by RequestID, their request_id) to the node that
// made it, which the chunks themselves do not name, and time it: the
// dashboard reads the time to first token from LLM_START to the first
// chunk.
type LLMCall struct {
	// Node is the node making the call; RequestID the request_id of its
	// TokenChunks.
	Node, RequestID string
	Model           string
	// PromptTokens and CompletionTokens are the usage the provider
	// reported (LLMEnd).
	PromptTokens, CompletionTokens int
	// FinishReason is the provider's ("stop", "length", …; LLMEnd).
	FinishReason string
	// Duration is the call's length (LLMEnd).
	Duration time.Duration
	// Err fails the call: LLMEnd sends LLM_ERROR with it.
	Err error
}

// LLMStart emits LLM_START for a call about to be made: node_id = Node,
// llm_request_id = RequestID, and the model attribute.
func (r *Run) LLMStart(c LLMCall) {
	a := map[string]*pb.AttributeValue{}
	if c.Model != "" {
		a["model"] = strAttr(validUTF8(c.Model))
	}
	node, id := validUTF8(c.Node), validUTF8(c.RequestID)
	r.emit(func() { r.llmEventLocked(pb.EventType_EVENT_TYPE_LLM_START, node, id, a, 0) })
}

// LLMEnd emits LLM_END for a finished call with its model, prompt_tokens,
// completion_tokens, total_tokens, finish_reason and duration_us
// attributes, or LLM_ERROR with its (redacted) error when c.Err is set.
func (r *Run) LLMEnd(c LLMCall) {
	us := c.Duration.Microseconds()
	a := map[string]*pb.AttributeValue{"duration_us": intAttr(us)}
	if c.Model != "" {
		a["model"] = strAttr(validUTF8(c.Model))
	}
	typ := pb.EventType_EVENT_TYPE_LLM_END
	if c.Err != nil {
		typ = pb.EventType_EVENT_TYPE_LLM_ERROR
		a["error"] = strAttr(r.p.text(c.Err.Error()))
	} else {
		a["prompt_tokens"] = intAttr(int64(c.PromptTokens))
		a["completion_tokens"] = intAttr(int64(c.CompletionTokens))
		a["total_tokens"] = intAttr(int64(c.PromptTokens + c.CompletionTokens))
	}
	if c.FinishReason != "" {
		a["finish_reason"] = strAttr(validUTF8(c.FinishReason))
	}
	node, id := validUTF8(c.Node), validUTF8(c.RequestID)
	r.emit(func() { r.llmEventLocked(typ, node, id, a, us) })
}

// llmEventLocked sends an LLM_* event carrying its llm_request_id. Callers
// hold r.mu.
func (r *Run) llmEventLocked(t pb.EventType, node, requestID string, attrs map[string]*pb.AttributeValue, durationUs int64) {
	h := r.header(pb.MessageType_MESSAGE_TYPE_EVENT)
	ev := &pb.Event{Header: h, EventType: t, NodeId: node, Attributes: attrs, DurationUs: durationUs, LlmRequestId: requestID}
	r.sendLocked(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: ev}}, typeEvent, nil)
}

package runstate

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dashstream/dashstream/protocol/pb"
)

// TokenStream is an LLM response assembled from its TokenChunks (one
// request_id).
type TokenStream struct {
	RequestID string
	Model     string
	// Chunks counts the distinct chunk indices received; Missing counts the
	// indices below the highest one that never arrived.
	Chunks, Missing int
	// Final is set by the chunk with is_final; FinishReason is its reason
	// ("stop", "length", ...; "" for none).
	Final        bool
	FinishReason string
	// PromptTokens, CompletionTokens and TotalTokens come from the latest
	// chunk carrying stats.
	PromptTokens, CompletionTokens, TotalTokens uint32
	// FirstSeq and LastSeq are the sequences of the first and latest chunk
	// received (0 for unsequenced chunks).
	FirstSeq, LastSeq uint64
	// FirstTime and FinalTime are the producer timestamps (µs, 0 unknown)
	// of the first chunk received and of the is_final chunk: the span of
	// the streamed response.
	FirstTime, FinalTime int64
	// Truncated: text beyond Config.MaxTokenTextBytes was dropped.
	Truncated bool
	chunks    []tokenChunk // sorted by index
	textBytes int
}

type tokenChunk struct {
	index uint32
	text  string
}

// Text returns the text of the chunks received, in chunk_index order.
func (t *TokenStream) Text() string {
	var b strings.Builder
	b.Grow(t.textBytes)
	for _, c := range t.chunks {
		b.WriteString(c.text)
	}
	return b.String()
}

// tokenTable holds a run's token streams; the least recently updated one is
// dropped when full.
type tokenTable struct {
	streams  []*TokenStream // oldest update first
	limit    int
	maxBytes int
}

func (t *tokenTable) add(c *pb.TokenChunk, seq uint64, ts int64, maxChars int) {
	id := c.GetRequestId()
	var s *TokenStream
	if n := len(t.streams); n > 0 && t.streams[n-1].RequestID == id {
		// A response's chunks come one after the other: its stream is
		// the latest updated, already where an update puts it.
		s = t.streams[n-1]
	} else if i := slices.IndexFunc(t.streams, func(s *TokenStream) bool { return s.RequestID == id }); i >= 0 {
		s = t.streams[i]
		t.streams = append(append(t.streams[:i], t.streams[i+1:]...), s)
	} else {
		if len(t.streams) >= t.limit {
			t.streams = append(t.streams[:0], t.streams[1:]...)
		}
		s = &TokenStream{RequestID: boundString(id, maxChars), FirstSeq: seq, FirstTime: ts}
		t.streams = append(t.streams, s)
	}
	s.LastSeq = seq
	if m := c.GetModel(); m != "" {
		s.Model = boundString(m, maxChars)
	}
	if c.GetIsFinal() {
		s.Final = true
		s.FinalTime = ts
	}
	if r := c.GetFinishReason(); r != pb.TokenChunk_FINISH_REASON_NONE {
		s.FinishReason = finishReasonName(r)
	}
	if st := c.GetStats(); st != nil {
		s.PromptTokens, s.CompletionTokens, s.TotalTokens = st.GetPromptTokens(), st.GetCompletionTokens(), st.GetTotalTokens()
	}
	idx := c.GetChunkIndex()
	pos, found := len(s.chunks), false // chunks mostly come in order: after the last
	if pos > 0 && s.chunks[pos-1].index >= idx {
		pos, found = slices.BinarySearchFunc(s.chunks, idx, func(a tokenChunk, b uint32) int {
			switch {
			case a.index < b:
				return -1
			case a.index > b:
				return 1
			}
			return 0
		})
	}
	if found {
		return // a redelivered chunk: the first copy stands
	}
	text := c.GetText()
	if room := max(t.maxBytes-s.textBytes, 0); len(text) > room {
		s.Truncated = true
		for room > 0 && !utf8.RuneStart(text[room]) {
			room-- // do not split a character
		}
		text = strings.Clone(text[:room])
	}
	s.textBytes += len(text)
	s.chunks = slices.Insert(s.chunks, pos, tokenChunk{index: idx, text: text})
	s.Chunks = len(s.chunks)
	s.Missing = int(s.chunks[len(s.chunks)-1].index) + 1 - len(s.chunks)
}

func finishReasonName(r pb.TokenChunk_FinishReason) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "FINISH_REASON_"))
}

func (t *tokenTable) list() []TokenStream {
	out := make([]TokenStream, len(t.streams))
	for i, s := range t.streams {
		out[i] = *s
	}
	return out
}

// applyTokenChunk adds a chunk to its token stream and summarises it.
func (s *Store) applyTokenChunk(r *Run, it *item, e *Event) {
	c := it.msg.GetTokenChunk()
	r.tokens.add(c, it.seq, it.ts, s.cfg.MaxAttrChars)
	// Exactly the fields it will hold: a token chunk is most messages.
	n := 3
	if c.GetModel() != "" {
		n++
	}
	if c.GetIsFinal() {
		n++
	}
	if c.GetFinishReason() != pb.TokenChunk_FINISH_REASON_NONE {
		n++
	}
	sm := newSummary(&s.cfg, n)
	sm.add("request_id", c.GetRequestId())
	sm.addUint("chunk_index", uint64(c.GetChunkIndex()))
	sm.addInt("text_len", int64(len(c.GetText())))
	if c.GetModel() != "" {
		sm.add("model", c.GetModel())
	}
	if c.GetIsFinal() {
		sm.addBool("is_final", true)
	}
	if c.GetFinishReason() != pb.TokenChunk_FINISH_REASON_NONE {
		sm.add("finish_reason", finishReasonName(c.GetFinishReason()))
	}
	e.Summary = sm.done()
}

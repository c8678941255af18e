package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/server/producer"
)

// runner plays one run. Every choice comes from generators seeded by
// (Seed, run index), one per branch of a fan-out, so the same seed gives the
// same content whatever the timing.
type runner struct {
	ctx   context.Context
	cfg   Config
	p     *producer.Producer
	index int
	rng   *rand.Rand
	g     *graph
	run   *producer.Run

	// failAt is the node that fails in a failing run ("" otherwise).
	failAt string
	// mu guards state, which parallel branches update.
	mu    sync.Mutex
	state map[string]any
	step  int
}

func newRunner(ctx context.Context, cfg Config, p *producer.Producer, index int) *runner {
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(index)))
	r := &runner{ctx: ctx, cfg: cfg, p: p, index: index, rng: rng}
	r.g = &graphs[rng.IntN(len(graphs))]
	if rng.Float64() < cfg.FailureRate {
		nodes := r.g.schema.Nodes
		r.failAt = nodes[1+rng.IntN(len(nodes)-1)].Name
	}
	return r
}

// play runs the graph; the error is the run's failure (or the demo's stop).
func (r *runner) play() error {
	schema := r.g.schema
	schema.ExportedAt = time.Now().UTC().Format(time.RFC3339)
	r.state = r.initialState()
	r.run = r.p.StartRun(producer.RunStart{
		ThreadID:     uuidFrom(r.rng),
		TenantID:     r.cfg.TenantID,
		Schema:       &schema,
		InitialState: r.state,
		Manifest:     map[string]any{"name": schema.Name, "version": schema.Version, "entry_point": schema.EntryPoint, "generator": "dashstream demo"},
		Attributes:   producer.Attrs{"run_index": r.index, "environment": "demo"},
	})
	var err error
	switch r.g.shape {
	case shapeLinear:
		err = r.playLinear()
	case shapeConditional:
		err = r.playConditional()
	case shapeParallel:
		err = r.playParallel()
	case shapeLoop:
		err = r.playLoop()
	}
	if err != nil {
		if r.ctx.Err() != nil {
			err = errStopped
		}
		r.run.Fail(err)
		return err
	}
	r.quality()
	r.mu.Lock()
	delete(r.state, "scratchpad") // a removed member, in the final patch
	r.run.End(r.state)
	r.mu.Unlock()
	return nil
}

func (r *runner) initialState() map[string]any {
	user := pick(r.rng, names)
	var prompt string
	switch r.g.shape {
	case shapeLinear:
		prompt = pick(r.rng, questions)
	case shapeConditional:
		prompt = pick(r.rng, tickets)
	default:
		prompt = "Topic: " + pick(r.rng, topics)
	}
	if r.rng.IntN(3) == 0 {
		// A user pasting a credential into a message: it must leave the
		// process redacted, in the state and everywhere else.
		prompt += " (my key is " + FakeSecret + ", use it if you need to)"
	}
	_, conf := ratio(r.rng, 0.9, 1.05)
	return map[string]any{
		"run": map[string]any{
			"graph": r.g.schema.Name, "run_index": r.index, "trace_id": bigID(r.rng), "step": 0,
			"locale": pick(r.rng, []string{"en-GB", "fr-FR", "ja-JP", "de-DE", "pt-BR"}),
		},
		"user":     map[string]any{"name": user, "city": pick(r.rng, []string{"東京", "München", "São Paulo", "Lyon", "Oslo"})},
		"messages": []any{map[string]any{"role": "user", "content": prompt, "author": user}},
		"counters": map[string]any{"tokens": 0, "tool_calls": 0, "retries": 0, "iterations": 0},
		"scores":   map[string]any{"confidence": conf, "threshold": json.Number("0.80")},
		"scratchpad": map[string]any{
			"notes": "working notes — " + sentence(r.rng, 8), "budget_ms": 30000,
		},
	}
}

func (r *runner) playLinear() error {
	nodes := r.g.schema.Nodes
	for i, n := range nodes {
		if err := r.node(r.rng, n.Name); err != nil {
			return err
		}
		if i+1 < len(nodes) {
			r.run.Edge(n.Name, nodes[i+1].Name)
		}
	}
	return nil
}

func (r *runner) playConditional() error {
	if err := r.node(r.rng, "classify_ticket"); err != nil {
		return err
	}
	branch := pick(r.rng, r.g.branches)
	labels := map[string]string{"billing_agent": "billing", "technical_agent": "technical", "escalate_to_human": "angry customer"}
	r.run.ConditionalBranch("classify_ticket", branch, labels[branch])
	for _, step := range []struct{ node, next string }{{branch, "compose_reply"}, {"compose_reply", "quality_gate"}, {"quality_gate", ""}} {
		if err := r.node(r.rng, step.node); err != nil {
			return err
		}
		if step.next != "" {
			r.run.Edge(step.node, step.next)
		}
	}
	return nil
}

func (r *runner) playParallel() error {
	if err := r.node(r.rng, "plan_queries"); err != nil {
		return err
	}
	branches := r.g.branches
	for _, b := range branches {
		r.run.Edge("plan_queries", b)
	}
	r.run.ParallelStart(branches...)
	start := time.Now()
	errs := make([]error, len(branches))
	var wg sync.WaitGroup
	for i, b := range branches {
		rng := rand.New(rand.NewPCG(r.cfg.Seed^0xb4a2c5, uint64(r.index)*16+uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.node(rng, b)
		}()
	}
	wg.Wait()
	r.run.ParallelEnd(time.Duration(float64(time.Since(start))/max(r.cfg.TimeScale, 1e-9)), branches...)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, b := range branches {
		r.run.Edge(b, "merge_findings")
	}
	for _, step := range []struct{ node, next string }{{"merge_findings", "write_report"}, {"write_report", "publish"}, {"publish", ""}} {
		if err := r.node(r.rng, step.node); err != nil {
			return err
		}
		if step.next != "" {
			r.run.Edge(step.node, step.next)
		}
	}
	return nil
}

func (r *runner) playLoop() error {
	if err := r.node(r.rng, "outline"); err != nil {
		return err
	}
	r.run.Edge("outline", "write_draft")
	for iteration := 1; ; iteration++ {
		if err := r.node(r.rng, "write_draft"); err != nil {
			return err
		}
		r.run.Edge("write_draft", "critique")
		if err := r.node(r.rng, "critique"); err != nil {
			return err
		}
		// The critic passes the draft more often each time, always by the
		// third.
		if iteration >= 3 || r.rng.Float64() < 0.35*float64(iteration) {
			r.run.ConditionalBranch("critique", "finalize", "passed")
			return r.node(r.rng, "finalize")
		}
		r.run.NodeWarning("critique", fmt.Sprintf("draft %d scored below 0.80, revising", iteration))
		r.run.ConditionalBranch("critique", "revise_plan", "score below 0.80")
		if err := r.node(r.rng, "revise_plan"); err != nil {
			return err
		}
		r.run.Edge("revise_plan", "write_draft")
	}
}

// node plays one node with its own generator: start, what its type does,
// then the state update and end (and a checkpoint now and then), or its
// failure.
func (r *runner) node(rng *rand.Rand, name string) error {
	typ := r.g.nodeType(name)
	r.run.NodeStart(name, producer.Attrs{"node_type": typ, "config_version": 3})
	started := time.Duration(0)
	// Each pause runs until the node's simulated clock, not for its own
	// length, so the timers' overshoot does not add up: the node's wall
	// time (what a timeline shows) stays its reported duration.
	t0 := time.Now()
	work := func(d time.Duration) error {
		started += d
		return sleep(r.ctx, r.cfg.TimeScale, time.Duration(float64(started)-float64(time.Since(t0))/max(r.cfg.TimeScale, 1e-9)))
	}
	fail := name == r.failAt
	var update func(st map[string]any)
	var err error
	switch typ {
	case producer.NodeLLM:
		update, err = r.llm(rng, name, fail, work)
	case producer.NodeTool:
		update, err = r.tool(rng, name, fail, work)
	case producer.NodeHumanInLoop:
		update, err = r.human(rng, name, work)
	default:
		update, err = r.simple(rng, name, typ, fail, work)
	}
	if err != nil {
		r.run.NodeError(name, err)
		return err
	}
	r.mu.Lock()
	r.step++
	r.state["run"].(map[string]any)["step"] = r.step
	if update != nil {
		update(r.state)
	}
	r.run.NodeEnd(name, r.state, started, producer.Attrs{"node_type": typ})
	// Checkpoint nodes checkpoint, and every run does every fourth step.
	if typ == producer.NodeCheckpoint || r.step%4 == 0 {
		r.run.Checkpoint()
	}
	r.mu.Unlock()
	return nil
}

// progress reports a few progress steps and thoughts while working.
func (r *runner) progress(rng *rand.Rand, name string, total time.Duration, work func(time.Duration) error) error {
	steps := 1 + rng.IntN(3)
	for i := range steps {
		if rng.IntN(2) == 0 {
			r.run.NodeThinking(name, "Considering "+sentence(rng, 6+rng.IntN(6)), i+1)
		}
		if err := work(total / time.Duration(steps)); err != nil {
			return err
		}
		r.run.NodeProgress(name, fmt.Sprintf("step %d of %d: %s", i+1, steps, sentence(rng, 3)), float64(i+1)/float64(steps))
	}
	return nil
}

func (r *runner) simple(rng *rand.Rand, name, typ string, fail bool, work func(time.Duration) error) (func(map[string]any), error) {
	dur := time.Duration(50+rng.IntN(450)) * time.Millisecond
	if typ == producer.NodeValidator {
		dur = time.Duration(200+rng.IntN(800)) * time.Millisecond
	}
	if err := r.progress(rng, name, dur, work); err != nil {
		return nil, err
	}
	if fail {
		return nil, fmt.Errorf("%s: validation failed: the answer cites no source for %d claims", name, 1+rng.IntN(4))
	}
	score, lit := ratio(rng, 0.6, 1.05)
	note := sentence(rng, 10)
	route := pick(rng, []string{"billing", "technical", "escalation"})
	return func(st map[string]any) {
		switch typ {
		case producer.NodeValidator:
			st["scores"].(map[string]any)[name] = lit
			if score < 0.8 {
				st["scores"].(map[string]any)["needs_revision"] = true
			} else {
				delete(st["scores"].(map[string]any), "needs_revision")
			}
		case producer.NodeRouter:
			st["route"] = map[string]any{"decision": route, "confidence": lit}
		case producer.NodeAggregator:
			// Rank the hits: by score, then id. Parallel searches finish in
			// any order; from here on the state is the same whatever it was.
			docs, _ := st["documents"].([]any)
			sort.SliceStable(docs, func(i, j int) bool {
				a, b := docs[i].(map[string]any), docs[j].(map[string]any)
				if sa, sb := a["score"].(json.Number).String(), b["score"].(json.Number).String(); sa != sb {
					return sa > sb // "0.dd" or "1.0": text order is number order
				}
				return a["id"].(string) < b["id"].(string)
			})
			st["summary"] = map[string]any{"text": note, "sources": len(docs)}
		case producer.NodeCustom:
			st["published_url"] = fmt.Sprintf("https://reports.example.com/%d/%s", r.index, strings.ReplaceAll(r.g.schema.Name, "_", "-"))
		default:
			st["scratchpad"] = map[string]any{"notes": note, "budget_ms": 30000 - 1000*r.step}
		}
	}, nil
}

// llm streams a response token by token at 20 to 80 tokens a second.
func (r *runner) llm(rng *rand.Rand, name string, fail bool, work func(time.Duration) error) (func(map[string]any), error) {
	model := pick(rng, models)
	reqID := fmt.Sprintf("req_%d_%s_%d", r.index, name, rng.IntN(1_000_000))
	if rng.IntN(2) == 0 {
		r.run.NodeThinking(name, "Planning the answer: "+sentence(rng, 8), 1)
	}
	rate := 20 + rng.IntN(61)             // tokens per second
	n := min(60+rng.IntN(160), rate*24/5) // at most 4.8 s of streaming
	perToken := time.Second / time.Duration(rate)
	prompt := promptTokens(rng, name)
	call := producer.LLMCall{Node: name, RequestID: reqID, Model: model}
	r.run.LLMStart(call)
	began := time.Duration(0)
	ttft := time.Duration(150+rng.IntN(650)) * time.Millisecond // time to first token grows with the prompt
	ttft += time.Duration(prompt/40) * time.Millisecond
	if err := work(ttft); err != nil {
		return nil, err
	}
	began += ttft
	var text strings.Builder
	failAfter := -1
	if fail {
		failAfter = n / 2
	}
	for i := range n {
		tok := sentence(rng, 1) + " "
		if i == failAfter {
			r.run.Token(producer.TokenChunk{RequestID: reqID, ChunkIndex: uint32(i), IsFinal: true, Model: model,
				FinishReason: pb.TokenChunk_FINISH_REASON_ERROR})
			err := fmt.Errorf("%s: %s returned 429 (rate limited) mid-stream after 2 retries", name, model)
			call.Err, call.Duration = err, began
			r.run.LLMEnd(call)
			return nil, err
		}
		text.WriteString(tok)
		c := producer.TokenChunk{RequestID: reqID, Text: tok, ChunkIndex: uint32(i), Model: model}
		if i == n-1 {
			c.IsFinal = true
			c.FinishReason = pb.TokenChunk_FINISH_REASON_STOP
			c.Stats = &pb.TokenStats{PromptTokens: uint32(prompt), CompletionTokens: uint32(n), TotalTokens: uint32(prompt + n)}
		}
		r.run.Token(c)
		if err := work(perToken); err != nil {
			return nil, err
		}
		began += perToken
	}
	call.PromptTokens, call.CompletionTokens, call.FinishReason, call.Duration = prompt, n, "stop", began
	r.run.LLMEnd(call)
	r.run.Metrics(producer.Metrics{Scope: "node", ScopeID: name, Values: map[string]producer.Metric{
		"completion_tokens": producer.Counter(int64(n), "tokens"),
		"tokens_per_second": producer.Gauge(float64(rate), "tokens/s"),
	}, Tags: map[string]string{"model": model, "node_id": name}})
	answer := strings.TrimSpace(text.String())
	return func(st map[string]any) {
		st["messages"] = append(st["messages"].([]any), map[string]any{
			"role": "assistant", "node": name, "model": model, "content": answer, "tokens": n,
		})
		counters := st["counters"].(map[string]any)
		counters["tokens"] = counters["tokens"].(int) + prompt + n
		switch name {
		case "draft_answer", "compose_reply", "write_report":
			st["answer"] = answer
		case "write_draft":
			counters["iterations"] = counters["iterations"].(int) + 1
			st["draft"] = map[string]any{"text": answer, "version": counters["iterations"]}
		case "plan_queries", "outline":
			st["plan"] = strings.Split(answer, " ")[:min(8, n)]
		}
	}, nil
}

// promptTokens is a realistic prompt size for an LLM node: a node that
// reads retrieved documents or a draft sends thousands of tokens, a
// planner a few hundred.
func promptTokens(rng *rand.Rand, node string) int {
	lo, span := 800, 1200
	switch node {
	case "draft_answer", "write_report":
		lo, span = 3500, 4500 // the question plus the ranked documents
	case "write_draft", "compose_reply":
		lo, span = 1800, 2200
	case "billing_agent", "technical_agent":
		lo, span = 1200, 1600 // the ticket plus the account's history
	case "plan_queries", "outline":
		lo, span = 350, 500
	}
	return lo + rng.IntN(span)
}

// tool calls a tool, with retries now and then, and a final failure in a
// failing run.
func (r *runner) tool(rng *rand.Rand, name string, fail bool, work func(time.Duration) error) (func(map[string]any), error) {
	callID := fmt.Sprintf("call_%d_%s_%06d", r.index, name, rng.IntN(1_000_000))
	query := sentence(rng, 4)
	args := map[string]any{"query": query, "top_k": 5, "filters": map[string]any{"lang": "any", "since": "2025-01-01"}}
	if rng.IntN(3) == 0 {
		args["headers"] = map[string]any{"Authorization": FakeBearer} // redacted on the way out
	}
	r.run.Tool(producer.ToolCall{CallID: callID, Name: name, Stage: pb.ToolExecution_EXECUTION_STAGE_REQUESTED, Arguments: args})
	retries := 0
	if rng.IntN(3) == 0 {
		retries = 1 + rng.IntN(2)
	}
	if fail {
		retries = 2
	}
	for attempt := 0; ; attempt++ {
		r.run.Tool(producer.ToolCall{CallID: callID, Name: name, Stage: pb.ToolExecution_EXECUTION_STAGE_STARTED, RetryCount: uint32(attempt)})
		d := time.Duration(100+rng.IntN(1900)) * time.Millisecond
		if err := r.progress(rng, name, d, work); err != nil {
			return nil, err
		}
		if attempt < retries {
			r.run.Tool(producer.ToolCall{CallID: callID, Name: name, Stage: pb.ToolExecution_EXECUTION_STAGE_RETRYING,
				Error: pick(rng, []string{"upstream returned 503", "timeout after 2s", "connection reset by peer"}), Duration: d, RetryCount: uint32(attempt + 1)})
			continue
		}
		if fail {
			err := fmt.Errorf("%s: upstream returned 503 after %d retries", name, retries)
			r.run.Tool(producer.ToolCall{CallID: callID, Name: name, Stage: pb.ToolExecution_EXECUTION_STAGE_FAILED, Error: err.Error(), Duration: d, RetryCount: uint32(attempt)})
			return nil, err
		}
		hits := 3 + rng.IntN(3)
		docs := make([]any, hits)
		for i := range docs {
			docs[i] = document(rng, strings.TrimPrefix(name, "search_"), r.index*100+i)
		}
		r.run.Tool(producer.ToolCall{CallID: callID, Name: name, Stage: pb.ToolExecution_EXECUTION_STAGE_COMPLETED,
			Result: map[string]any{"hits": hits, "ids": docIDs(docs)}, Duration: d, RetryCount: uint32(attempt)})
		return func(st map[string]any) {
			// Kept in id order, so the state after a set of parallel
			// searches is the same whichever finished first.
			all, _ := st["documents"].([]any)
			all = append(all, docs...)
			sort.SliceStable(all, func(i, j int) bool {
				return all[i].(map[string]any)["id"].(string) < all[j].(map[string]any)["id"].(string)
			})
			st["documents"] = all
			counters := st["counters"].(map[string]any)
			counters["tool_calls"] = counters["tool_calls"].(int) + 1 + attempt
			counters["retries"] = counters["retries"].(int) + attempt
		}, nil
	}
}

func docIDs(docs []any) []string {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.(map[string]any)["id"].(string)
	}
	return ids
}

// human waits for an operator between HUMAN_INTERRUPT and HUMAN_RESUME.
func (r *runner) human(rng *rand.Rand, name string, work func(time.Duration) error) (func(map[string]any), error) {
	operator := pick(rng, names)
	r.run.Event(pb.EventType_EVENT_TYPE_HUMAN_INTERRUPT, name, producer.Attrs{"reason": "customer asked for a person", "queue": "tier-2"})
	if err := work(time.Duration(1000+rng.IntN(4000)) * time.Millisecond); err != nil {
		return nil, err
	}
	r.run.Event(pb.EventType_EVENT_TYPE_HUMAN_RESUME, name, producer.Attrs{"operator": operator, "decision": "refund approved"})
	return func(st map[string]any) {
		st["messages"] = append(st["messages"].([]any), map[string]any{
			"role": "operator", "author": operator, "content": "Je m'en occupe — refund approved, ticket closed. ✓",
		})
	}, nil
}

// quality reports the run's quality metrics at its end.
func (r *runner) quality() {
	acc, _ := ratio(r.rng, 0.6, 1.0)
	rel, _ := ratio(r.rng, 0.6, 1.0)
	comp, _ := ratio(r.rng, 0.5, 1.0)
	r.run.Quality(producer.Quality{Accuracy: acc, Relevance: rel, Completeness: comp, Threshold: 0.7})
}

package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
)

// traceSchema is the graph of the runs traceRun builds: a planner, two
// searches that run at once, and a writer.
const traceSchema = `{"name":"e2e_trace","version":"1.0.0","entry_point":"plan","nodes":[
{"name":"plan","node_type":"llm"},{"name":"search_a","node_type":"tool"},{"name":"search_b","node_type":"tool"},
{"name":"write","node_type":"llm"}],
"edges":[{"from":"plan","to":"search_a","edge_type":"parallel"},{"from":"plan","to":"search_b","edge_type":"parallel"},
{"from":"search_a","to":"write","edge_type":"direct"},{"from":"search_b","to":"write","edge_type":"direct"}]}`

// traceBuilder writes one run's messages with consecutive sequences and
// producer times it is told.
type traceBuilder struct {
	thread string
	t0     time.Time
	at     time.Duration
	seq    uint64
	msgs   []*pb.DashStreamMessage
}

func (b *traceBuilder) header(typ pb.MessageType) *pb.Header {
	b.seq++
	id := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(b.thread), b.seq))
	return &pb.Header{MessageId: id[:16], TimestampUs: b.t0.Add(b.at).UnixMicro(), ThreadId: b.thread, Sequence: b.seq, Type: typ, SchemaVersion: 1}
}

// wait moves the producer's clock on.
func (b *traceBuilder) wait(d time.Duration) *traceBuilder { b.at += d; return b }

func (b *traceBuilder) event(typ pb.EventType, node, request string, attrs map[string]*pb.AttributeValue) *traceBuilder {
	ev := &pb.Event{Header: b.header(pb.MessageType_MESSAGE_TYPE_EVENT), EventType: typ, NodeId: node, Attributes: attrs, LlmRequestId: request}
	b.msgs = append(b.msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: ev}})
	return b
}

func sattr(s string) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_StringValue{StringValue: s}}
}

func fattr(f float64) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_FloatValue{FloatValue: f}}
}

// llm sends an announced LLM call of node streaming chunks chunks, one
// every 20 ms; a failing one ends with finish_reason ERROR.
func (b *traceBuilder) llm(node, request, model string, chunks int, prompt uint32, fail bool) *traceBuilder {
	b.event(pb.EventType_EVENT_TYPE_LLM_START, node, request, map[string]*pb.AttributeValue{"model": sattr(model)})
	b.wait(300 * time.Millisecond)
	for i := range chunks {
		tc := &pb.TokenChunk{Header: b.header(pb.MessageType_MESSAGE_TYPE_TOKEN_CHUNK), RequestId: request, Text: fmt.Sprintf("word%d ", i),
			ChunkIndex: uint32(i), Model: model}
		if i == chunks-1 {
			tc.IsFinal, tc.FinishReason = true, pb.TokenChunk_FINISH_REASON_STOP
			if fail {
				tc.FinishReason = pb.TokenChunk_FINISH_REASON_ERROR
			} else {
				tc.Stats = &pb.TokenStats{PromptTokens: prompt, CompletionTokens: uint32(chunks), TotalTokens: prompt + uint32(chunks)}
			}
		}
		b.msgs = append(b.msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_TokenChunk{TokenChunk: tc}})
		b.wait(20 * time.Millisecond)
	}
	if fail {
		return b.event(pb.EventType_EVENT_TYPE_LLM_ERROR, node, request, map[string]*pb.AttributeValue{"error": sattr("429 rate limited")})
	}
	return b.event(pb.EventType_EVENT_TYPE_LLM_END, node, request, map[string]*pb.AttributeValue{"model": sattr(model)})
}

func (b *traceBuilder) tool(call, name string, stages ...pb.ToolExecution_ExecutionStage) *traceBuilder {
	for i, st := range stages {
		te := &pb.ToolExecution{Header: b.header(pb.MessageType_MESSAGE_TYPE_TOOL_EXECUTION), CallId: call, ToolName: name, Stage: st,
			Arguments: []byte(`{"q":"rayleigh"}`), RetryCount: uint32(i / 2)}
		if st == pb.ToolExecution_EXECUTION_STAGE_COMPLETED {
			te.Result, te.DurationUs = []byte(`{"hits":3}`), 200_000
		}
		b.msgs = append(b.msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_ToolExecution{ToolExecution: te}})
		b.wait(150 * time.Millisecond)
	}
	return b
}

// traceRun builds a run of traceSchema that started a minute ago: plan
// (one LLM call of planChunks chunks), the two searches at once (a tool
// call each, one retried), write (an LLM call of an unpriced model), then,
// when fail, write again with a call that fails, failing the run; else the
// run ends. About 150 messages: more than a hundred slider positions.
func traceRun(t *testing.T, thread string, planChunks int, fail bool) [][]byte {
	t.Helper()
	b := &traceBuilder{thread: thread, t0: time.Now().Add(-time.Minute)}
	b.event(pb.EventType_EVENT_TYPE_GRAPH_START, "", "", map[string]*pb.AttributeValue{
		"graph_schema_json": sattr(traceSchema), "initial_state_json": sattr(`{"n":0}`), "graph_name": sattr("e2e_trace")})
	b.wait(100*time.Millisecond).event(pb.EventType_EVENT_TYPE_NODE_START, "plan", "", nil)
	b.wait(50*time.Millisecond).llm("plan", thread+"-plan", "gpt-4o-mini", planChunks, 1500, false)
	b.event(pb.EventType_EVENT_TYPE_NODE_PROGRESS, "plan", "", map[string]*pb.AttributeValue{
		"message": sattr("step 1 of 3"), "percent": fattr(1.0 / 3)})
	b.wait(50*time.Millisecond).event(pb.EventType_EVENT_TYPE_NODE_END, "plan", "", nil)
	b.event(pb.EventType_EVENT_TYPE_NODE_START, "search_a", "", nil).event(pb.EventType_EVENT_TYPE_NODE_START, "search_b", "", nil)
	b.tool(thread+"-a", "search_a", pb.ToolExecution_EXECUTION_STAGE_STARTED, pb.ToolExecution_EXECUTION_STAGE_COMPLETED)
	b.tool(thread+"-b", "search_b", pb.ToolExecution_EXECUTION_STAGE_STARTED, pb.ToolExecution_EXECUTION_STAGE_RETRYING,
		pb.ToolExecution_EXECUTION_STAGE_COMPLETED)
	b.event(pb.EventType_EVENT_TYPE_NODE_END, "search_a", "", nil).wait(100*time.Millisecond).event(pb.EventType_EVENT_TYPE_NODE_END, "search_b", "", nil)
	b.event(pb.EventType_EVENT_TYPE_NODE_START, "write", "", nil)
	b.llm("write", thread+"-w1", "llama-3.1-70b-instruct", 50, 4000, false)
	b.event(pb.EventType_EVENT_TYPE_NODE_END, "write", "", nil)
	m := &pb.Metrics{Header: b.header(pb.MessageType_MESSAGE_TYPE_METRICS), Scope: "graph", ScopeId: thread,
		Metrics: map[string]*pb.MetricValue{"agreement": {Value: &pb.MetricValue_FloatValue{FloatValue: 2.0 / 3}, Unit: "ratio",
			Type: pb.MetricValue_METRIC_TYPE_GAUGE}}}
	b.msgs = append(b.msgs, &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Metrics{Metrics: m}})
	if fail {
		b.wait(100*time.Millisecond).event(pb.EventType_EVENT_TYPE_NODE_START, "write", "", nil)
		b.llm("write", thread+"-w2", "claude-3-5-sonnet", 3, 0, true)
		b.event(pb.EventType_EVENT_TYPE_NODE_ERROR, "write", "", map[string]*pb.AttributeValue{"error": sattr("rate limited by the provider")})
		b.event(pb.EventType_EVENT_TYPE_GRAPH_ERROR, "", "", map[string]*pb.AttributeValue{"error": sattr("write: rate limited by the provider")})
	} else {
		b.wait(100*time.Millisecond).event(pb.EventType_EVENT_TYPE_GRAPH_END, "", "", nil)
	}
	out := make([][]byte, len(b.msgs))
	for i, msg := range b.msgs {
		v, err := protocol.Encode(msg)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = v
	}
	return out
}

// inApp opens path inside the page, as a click on a link does: the
// dashboard keeps its session and its run store (a page load starts a new
// session, which rebuilds a run by replaying its thread).
func inApp(ctx context.Context, path string) error {
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](`(() => { const a = document.createElement("a"); a.href = `+jsString(path)+`;
		document.body.appendChild(a); a.click(); a.remove(); return 0; })()`))
	return err
}

// pollWhy is poll that says, when it gives up, what the session knew: its
// figures and the run's messages by sequence.
func pollWhy(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		why, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.dashstream?.snapshot()) + " | " + location.href + " | " +
			(document.querySelector("#slider-position")?.textContent || "no slider") + " | " + (document.querySelector("#run-totals")?.textContent || "")`))
		t.Fatalf("%s: %v\n%s", what, err, why)
	}
}

// sliderAgreesFn is a function that is true when the range input's value
// and max say what the position text says ("Event i of n"); sliderAgrees
// calls it.
const (
	sliderAgreesFn = `(() => { const s = document.querySelector("#seq-slider"), p = document.querySelector("#slider-position");
	if (!s || !p) return false;
	const m = p.textContent.match(/Event (\d+) of (\d+)/);
	return !!m && Number(s.value) === Number(m[1]) - 1 && Number(s.max) === Number(m[2]) - 1; })`
	sliderAgrees = sliderAgreesFn + "()"
)

// viewsTrace is the part of TestE2E_Views about the run page as a trace:
// the timeline, the header's totals and failure, the comparison, the
// slider, the URL state of the events, rounding, layout.
func viewsTrace(t *testing.T, ctx context.Context, gw *gateway, base, shots string) {
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	a, b := "e2e-trace-a-"+suffix, "e2e-trace-b-"+suffix
	// Produced while a dashboard page is open and live, so that its store
	// holds both runs from their first message: the subtests up to the
	// reload move inside that page (inApp). The later ones load pages,
	// which rebuild the runs by thread replay, as a bookmark does.
	poll(t, ctx, "a live dashboard page", `document.querySelector(".page")?.dataset.runtime === "wasm"
		&& window.dashstream.snapshot().state === "connected"`)
	produceTo(t, gw.brokers, "dashstream-events", traceRun(t, a, 60, true)...)
	produceTo(t, gw.brokers, "dashstream-events", traceRun(t, b, 90, false)...)
	runA := base + "/runs/" + a

	t.Run("the timeline shows one bar per execution and a click moves the slider and the URL", func(t *testing.T) {
		if err := inApp(ctx, "/runs/"+a+"?tab=timeline"); err != nil {
			t.Fatal(err)
		}
		// The run is complete when its failure arrived: 5 node executions
		// (write ran twice), as many as the header counts.
		pollWhy(t, ctx, "the timeline of the whole run", `document.querySelectorAll("#trace-rows .trace-node").length === 5
			&& document.querySelector("#run-totals [data-key=nodes] dd")?.textContent === "5"`)
		counts := evalString(t, ctx, `["trace-node", "trace-llm", "trace-tool"].map(c => document.querySelectorAll("#trace-rows ." + c).length).join(",")`)
		if counts != "5,3,2" {
			t.Errorf("rows node,llm,tool = %s, want 5,3,2", counts)
		}
		if n := evalString(t, ctx, `String(document.querySelectorAll("#trace-rows .trace-llm.trace-depth-1").length)`); n != "3" {
			t.Errorf("%s LLM calls nested under their node, want 3", n)
		}
		shoot(t, ctx, shots, "09-run-timeline")
		// Click the first execution of write: the slider moves to its end,
		// and the address says so.
		seq := evalString(t, ctx, `document.querySelector('[data-key="node:write#1"]').dataset.seq`)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('[data-key="node:write#1"]').click(); 0`)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "the slider and the address at the execution", `location.search === "?seq=`+seq+`&node=write&tab=timeline"
			&& document.querySelector("#tabpanel").dataset.seq === "`+seq+`"
			&& document.querySelector("#slider-position").textContent.includes("seq `+seq+`")
			&& document.querySelector('[data-key="node:write#1"]').classList.contains("trace-selected")`)
		poll(t, ctx, "the thumb where the text says", sliderAgrees)
		// Arrow keys move between rows.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('[data-key="node:write#1"]').focus();
			document.activeElement.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowDown", bubbles: true})); 0`)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "focus on the next row", `document.activeElement?.dataset.key === "llm:`+a+`-w1"`)
	})

	t.Run("a failed run's header says why, where, and links to the moment", func(t *testing.T) {
		poll(t, ctx, "the failure line and the priced totals", `document.querySelector("#run-failure")?.textContent.includes("Failed in write")
			&& document.querySelector("#run-failure").textContent.includes("rate limited by the provider")
			&& document.querySelector("#run-totals").textContent.includes("$0.00026+")`)
		href := evalString(t, ctx, `document.querySelector("#failure-link").getAttribute("href")`)
		if !strings.Contains(href, "node=write") || !strings.Contains(href, "seq=") {
			t.Errorf("failure link %q", href)
		}
		totals := evalString(t, ctx, `document.querySelector("#run-totals").textContent`)
		for _, w := range []string{"LLM calls3", "Tokens5,610", "Tool calls2", "Errors3"} {
			if !strings.Contains(totals, w) {
				t.Errorf("totals %q lack %q", totals, w)
			}
		}
		shoot(t, ctx, shots, "10-run-failed-header")
	})

	t.Run("LLM calls show usage, timing and cost", func(t *testing.T) {
		if err := inApp(ctx, "/runs/"+a+"?tab=tokens"); err != nil {
			t.Fatal(err)
		}
		// The prices arrive once, a moment after the page's first draw.
		poll(t, ctx, "three calls, priced", `document.querySelectorAll("#llm-calls .llm-call").length === 3
			&& document.querySelector("#llm-calls").textContent.includes("$0.00026")`)
		text := evalString(t, ctx, `document.querySelector("#llm-calls").textContent`)
		for _, w := range []string{"gpt-4o-mini", "1,500 → 60", "$0.00026", "300 ms", "llama-3.1-70b-instruct", "failed"} {
			if !strings.Contains(text, w) {
				t.Errorf("LLM calls lack %q", w)
			}
		}
		shoot(t, ctx, shots, "11-run-llm-calls")
	})

	t.Run("events keep their search and page in the URL, with rounded numbers", func(t *testing.T) {
		if err := inApp(ctx, "/runs/"+a+"?tab=events&q=node_progress"); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "the searched event", `document.querySelector("#event-search")?.value === "node_progress"
			&& document.querySelectorAll("#events tbody tr").length === 1`)
		details := evalString(t, ctx, `document.querySelector("#events tbody tr").textContent`)
		if !strings.Contains(details, "percent=0.333") || strings.Contains(details, "0.3333333") {
			t.Errorf("a float is rounded for display: %q", details)
		}
		// Typing keeps the address in step.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`(() => { const s = document.querySelector("#event-search");
			s.value = "llm_"; s.dispatchEvent(new Event("input", {bubbles: true})); return 0; })()`)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "the search in the address", `location.search === "?tab=events&q=llm_"`)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector("#copy-link").click(); 0`)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "copy link says so", `document.querySelector("#copy-link").textContent.includes("copied")`)
	})

	t.Run("metric values sit on their row's baseline and are rounded", func(t *testing.T) {
		if err := inApp(ctx, "/runs/"+a+"?tab=metrics"); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "the metric", `[...document.querySelectorAll(".metrics-table td")].some(td => td.textContent === "0.667")`)
		// A zero-height inline block sits on the line's baseline.
		offs := evalString(t, ctx, `(() => { const row = [...document.querySelectorAll(".metrics-table tbody tr")].find(r => r.textContent.includes("agreement"));
			return [...row.cells].map(td => { const m = document.createElement("span"); m.style.cssText = "display:inline-block;height:0;width:0";
				td.appendChild(m); const y = m.getBoundingClientRect().top; m.remove(); return Math.round(y); }).join(","); })()`)
		parts := strings.Split(offs, ",")
		for _, p := range parts {
			if p != parts[0] {
				t.Errorf("baselines of the metric's cells: %s", offs)
				break
			}
		}
	})

	t.Run("the first screen at 1440x900 has the header, graph, slider and the tab's first rows", func(t *testing.T) {
		if err := inApp(ctx, "/runs/"+a+"?tab=timeline"); err != nil {
			t.Fatal(err)
		}
		defer chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720))
		poll(t, ctx, "the timeline", `document.querySelectorAll("#trace-rows .trace-node").length === 5`)
		for _, size := range [][2]int64{{1440, 900}, {1280, 720}} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1])); err != nil {
				t.Fatal(err)
			}
			// Above the status bar: the third row of the timeline is on screen.
			visible := evalString(t, ctx, `(() => { const bar = document.querySelector("#status-bar").getBoundingClientRect().top;
				const r = document.querySelectorAll("#trace-rows .trace-row")[2].getBoundingClientRect();
				return String(r.bottom <= bar && document.querySelector("#graph").getBoundingClientRect().top > 0); })()`)
			if visible != "true" {
				t.Errorf("at %dx%d the third timeline row is below the fold", size[0], size[1])
			}
			shoot(t, ctx, shots, fmt.Sprintf("14-first-screen-%d", size[0]))
		}
	})

	t.Run("the graph folds away and stays folded after a reload", func(t *testing.T) {
		if err := inApp(ctx, "/runs/"+a); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "the graph", `document.querySelectorAll("#graph g.node").length === 4`)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector("#graph-fold").click(); 0`)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "folded", `document.querySelector("#graph-panel").dataset.folded === "true" && !document.querySelector("#graph")`)
		if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "still folded", `document.querySelector(".page")?.dataset.runtime === "wasm" && document.querySelector("#graph-panel")?.dataset.folded === "true"`)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector("#graph-fold").click(); 0`)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "open again", `document.querySelectorAll("#graph g.node").length > 0`)
	})

	t.Run("the slider's thumb agrees with its text at a bookmarked moment", func(t *testing.T) {
		// go-app set value and max in no fixed order, so a value above the
		// old max was clamped half the time: several fresh loads.
		for _, seq := range []int{101, 112, 124, 135} {
			if err := chromedp.Do(ctx, chromedp.Navigate(runA+"?seq="+strconv.Itoa(seq)+"&tab=diff")); err != nil {
				t.Fatal(err)
			}
			poll(t, ctx, "at seq "+strconv.Itoa(seq), `document.querySelector("#tabpanel")?.dataset.seq === "`+strconv.Itoa(seq)+`"
				&& !(window.dashstream.snapshot().replayingThreads || []).includes("`+a+`")`)
			poll(t, ctx, "thumb and text agree at seq "+strconv.Itoa(seq), sliderAgrees)
		}
	})

	t.Run("the slider's thumb stays with its text while a live run grows", func(t *testing.T) {
		// Live, max and value change together at every redraw; set in the
		// wrong order, the value was clamped to the old max ("Event 230 of
		// 230" with the thumb at 78%). A run written a message every 50 ms
		// while the page follows it live: every redraw is checked.
		live := "e2e-trace-live-" + suffix
		msgs := traceRun(t, live, 200, false)
		produceTo(t, gw.brokers, "dashstream-events", msgs[:20]...)
		cl, err := kgo.NewClient(kgo.SeedBrokers(gw.brokers...), kgo.DefaultProduceTopic("dashstream-events"),
			kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs/"+live)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "the live slider", `!!document.querySelector("#seq-slider") && document.querySelector("#live-toggle")?.getAttribute("aria-pressed") === "true"`)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.__slider = {checks: 0, bad: 0, last: ""};
			new MutationObserver(() => {
				if (!`+sliderAgreesFn+`()) { __slider.bad++; const s = document.querySelector("#seq-slider");
					__slider.last = s.value + "/" + s.max + " · " + document.querySelector("#slider-position").textContent; }
				__slider.checks++;
			}).observe(document.querySelector("#main"), {subtree: true, childList: true, characterData: true, attributes: true}); 0`)); err != nil {
			t.Fatal(err)
		}
		// The pace is the run's content (a model streaming tokens), not a
		// wait for anything: the check below waits on the page.
		wctx, stop := context.WithCancel(context.Background())
		written := make(chan error, 1)
		go func() {
			for _, m := range msgs[20:] {
				if err := cl.ProduceSync(wctx, &kgo.Record{Partition: 0, Value: m}).FirstErr(); err != nil {
					written <- err
					return
				}
				select {
				case <-wctx.Done():
					written <- nil
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
			written <- nil
		}()
		poll(t, ctx, "40 redraws of the live run", `__slider.checks >= 40`)
		stop()
		if err := <-written; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
		if got := evalString(t, ctx, `JSON.stringify(__slider)`); !strings.Contains(got, `"bad":0,`) {
			t.Errorf("the thumb left its text while the run grew: %s", got)
		}
	})

	t.Run("compare opened from its URL in a fresh tab shows both runs", func(t *testing.T) {
		tab, cancel := chromedp.NewContext(ctx)
		defer cancel()
		if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 720), chromedp.Navigate(base+"/compare?a="+a+"&b="+b)); err != nil {
			t.Fatal(err)
		}
		poll(t, tab, "both runs, whole", `document.querySelector("#compare-A")?.dataset.history === "complete" && document.querySelector("#compare-B")?.dataset.history === "complete"
			&& document.querySelectorAll("#compare-nodes tbody tr").length === 4`)
		text := evalString(t, tab, `document.querySelector("#compare-nodes").textContent`)
		if !strings.Contains(text, "×2") || !strings.Contains(text, "+600 ms") {
			t.Errorf("node times: %q (plan took 30 chunks × 20 ms longer in b; write ran twice in a)", text)
		}
		shoot(t, tab, shots, "12-compare")
		if err := chromedp.Do(tab, chromedp.EmulateViewport(1440, 900)); err != nil {
			t.Fatal(err)
		}
		shoot(t, tab, shots, "12-compare-1440")
	})

	t.Run("an unknown path is the app's not-found page", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/no/such/page")); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "not found", `document.querySelector("#not-found-page a[href='/runs']") !== null && document.querySelector("#status-bar") !== null`)
	})

	t.Run("at 390 px wide nothing scrolls sideways", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
			t.Fatal(err)
		}
		defer chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720))
		for _, u := range []string{runA + "?tab=timeline", base + "/compare?a=" + a + "&b=" + b} {
			if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
				t.Fatal(err)
			}
			poll(t, ctx, "the page", `document.querySelector(".page")?.dataset.runtime === "wasm"
				&& (!!document.querySelector("#trace-rows") || document.querySelector("#compare-B")?.dataset.found === "true")
				&& !(window.dashstream.snapshot().replayingThreads || []).length`)
			if w := evalString(t, ctx, `document.documentElement.scrollWidth + " > " + innerWidth`); w != "390 > 390" {
				t.Errorf("%s at 390 px: scroll width %s", u, w)
			}
		}
		shoot(t, ctx, shots, "13-compare-390")
	})
}

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dashstream/dashstream/server/producer"
)

// TestE2E_MainThreadUnderLoad streams about 2,000 messages/s for 5 s
// through the real producer, broker and gateway into a page showing /runs,
// and reports the main thread's long tasks (the figure: none over
// 50 ms). Durations are reported, never asserted; what is asserted is that
// the page kept up: every produced message was applied.
func TestE2E_MainThreadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := browserContext(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatal(err)
	}
	gw, srv := startGateway(t, sharedWeb(t))
	pageReady(t, ctx, srv.URL)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/runs")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "connected", `window.dashstream?.snapshot().state === "connected"`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.__longTasks = [];
		new PerformanceObserver(l => l.getEntries().forEach(e => __longTasks.push(e.duration))).observe({type: "longtask"}); 0`)); err != nil {
		t.Fatal(err)
	}

	pcfg := producer.DefaultConfig()
	pcfg.Brokers, pcfg.Topic = gw.brokers, "dashstream-events"
	p, err := producer.New(pcfg, producer.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())

	// 50 runs at once, each a node every tick: NODE_START, NODE_END and a
	// StateDiff, so 150 messages per 75 ms tick, 2,000 per second.
	const runs, tick, duration = 50, 75 * time.Millisecond, 5 * time.Second
	active := make([]*producer.Run, runs)
	state := func(i, step int) map[string]any {
		return map[string]any{"step": step, "score": float64(step%10) / 10, "notes": fmt.Sprintf("run %d step %d", i, step)}
	}
	for i := range active {
		active[i] = p.StartRun(producer.RunStart{ThreadID: fmt.Sprintf("load-%02d", i), GraphName: "load", InitialState: state(i, 0)})
	}
	start := time.Now()
	step := 0
	for time.Since(start) < duration {
		step++
		for i, r := range active {
			node := fmt.Sprintf("n%d", step)
			r.NodeStart(node)
			r.NodeEnd(node, state(i, step), time.Millisecond)
		}
		time.Sleep(time.Until(start.Add(time.Duration(step) * tick)))
	}
	for i, r := range active {
		r.End(state(i, step))
	}
	fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	sent := p.Stats().Sent
	elapsed := time.Since(start)

	// Every message of the load runs reaches the page and is applied.
	poll(t, ctx, "the load applied", fmt.Sprintf(`window.dashstream.snapshot().applied >= %d`, sent))
	d, err := snapshot(ctx)
	if err != nil || d == nil {
		t.Fatal(err)
	}
	if d.Quarantined != 0 || d.HashMismatches != 0 {
		t.Errorf("under load: %d quarantined, %d hash mismatches", d.Quarantined, d.HashMismatches)
	}
	lt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const l = window.__longTasks || [];
		return l.length + " long tasks over 50 ms, longest " + Math.round(Math.max(0, ...l)) + " ms"; })()`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("measured: %d messages in %v (%.0f/s) into /runs: %s", sent, elapsed.Round(time.Millisecond), float64(sent)/elapsed.Seconds(), lt)
}

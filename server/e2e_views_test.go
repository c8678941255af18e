package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
)

// The views' end-to-end tests: the real gateway with the demo, the wasm
// dashboard in headless Chromium at 1280×720, pages opened by their URL.
// They share one gateway, one browser and one wasm build (sharedWeb).

// screenshotDir is where the views' screenshots go: $DASHSTREAM_SCREENSHOTS,
// or a fresh folder that is kept (and printed) so a person can look.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DASHSTREAM_SCREENSHOTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "dashstream-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", dir)
	fmt.Fprintf(os.Stderr, "views screenshots: %s\n", dir)
	return dir
}

func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	// From the top, or the sticky header lands mid-page in a full shot.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.scrollTo(0, 0); 0`)); err != nil {
		t.Error(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

func poll(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\n%.1500s", what, err, html)
	}
}

func evalString(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return s
}

// pageReady waits until the wasm has taken over the dashboard page.
func pageReady(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	resp, err := http.Get(base + "/runs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /runs: %s; the server must prerender the view routes (ui.Routes)", resp.Status)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector(".page")?.dataset.runtime === "wasm"`,
		chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatalf("the wasm never took over the page: %v", err)
	}
}

func TestE2E_Views(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := browserContext(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatal(err)
	}
	gw, srv := startGateway(t, sharedWeb(t), "--demo", "on")
	base := srv.URL
	pageReady(t, ctx, base)
	shots := screenshotDir(t)

	// Overview first: it must have a heading and no horizontal scroll.
	poll(t, ctx, "overview cards", `document.querySelectorAll(".card").length >= 4`)
	shoot(t, ctx, shots, "01-overview")

	var runHref, thread string
	t.Run("runs list fills with links to each run", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs")); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "a run row", `document.querySelectorAll('tr.run-row a[href^="/runs/"]').length > 0`)
		if ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.now()`)); err == nil {
			t.Logf("measured: /runs showed its first run %.0f ms after navigation started (upper bound: includes the poll interval)", ms)
		}
		// Prefer a run whose graph is known (its GraphStart was seen).
		runHref = evalString(t, ctx, `(() => { const rows = [...document.querySelectorAll("tr.run-row")];
			const r = rows.find(r => r.querySelector(".cell-graph").textContent !== "–") || rows[0];
			return r.querySelector("a").getAttribute("href"); })()`)
		thread = strings.TrimPrefix(runHref, "/runs/")
		if w := evalString(t, ctx, `String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`); w != "false" {
			t.Error("the runs list scrolls horizontally at 1280×720")
		}
		shoot(t, ctx, shots, "02-runs")
	})
	if runHref == "" {
		t.Fatal("no run to open")
	}

	t.Run("a run opened by its URL in a fresh tab shows its thread and graph", func(t *testing.T) {
		tab, cancel := chromedp.NewContext(ctx)
		defer cancel()
		if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 720), chromedp.Navigate(base+runHref)); err != nil {
			t.Fatal(err)
		}
		poll(t, tab, "thread id and graph", `document.querySelector("#run-thread")?.textContent === `+jsString(thread)+
			` && document.querySelectorAll("#graph g.node").length > 0`)
		shoot(t, tab, shots, "03-run-live")
	})

	t.Run("seq=3 survives a reload and shows the state at sequence 3", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+runHref+"?seq=3")); err != nil {
			t.Fatal(err)
		}
		at3 := `document.querySelector("#tabpanel")?.dataset.seq === "3" && document.querySelector("#slider-position")?.textContent.includes("seq 3")`
		poll(t, ctx, "paused at seq 3", at3)
		if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "paused at seq 3 after reload", at3)
		if got := evalString(t, ctx, `location.pathname + location.search`); got != runHref+"?seq=3" {
			t.Errorf("after reload the address is %q", got)
		}
		poll(t, ctx, "the state tree or its reason", `!!(document.querySelector("#state-tree") || document.querySelector("#tabpanel .empty"))`)
		shoot(t, ctx, shots, "04-run-seq3")
	})

	t.Run("moving the slider bookmarks the position", func(t *testing.T) {
		// After the reload the page replays the run's thread from its start;
		// the events after seq 3 exist once that is done (and the run has
		// them): the Next button is enabled then.
		poll(t, ctx, "the run's history loaded", `!(window.dashstream.snapshot().replayingThreads || []).includes(`+jsString(thread)+`)`+
			` && document.querySelector('button[aria-label="Next event"]')?.disabled === false`)
		// A click on the element itself: a mouse click at coordinates can
		// land beside the button while a banner above it goes away.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('button[aria-label="Next event"]').click(); 0`)); err != nil {
			t.Fatal(err)
		}
		// The next event's sequence: the address and the panel agree on it.
		moved := `(() => { const seq = document.querySelector("#tabpanel")?.dataset.seq;
			return Number(seq) > 3 && location.search === "?seq=" + seq; })()`
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](moved, chromedp.WithPollingTimeout(45*time.Second))); err != nil {
			where := evalString(t, ctx, `location.search + " | panel seq " + document.querySelector("#tabpanel")?.dataset.seq +
				" | " + document.querySelector("#slider-position")?.textContent`)
			t.Fatalf("the address at the next event: %v (%s)", err, where)
		}
		seq := evalString(t, ctx, `document.querySelector("#tabpanel").dataset.seq`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#tab-diff`))); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "address with the diff tab", `location.search === "?seq=`+seq+`&tab=diff"`)
		shoot(t, ctx, shots, "05-run-diff")
	})

	t.Run("back and forward move between pages", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs")); err != nil {
			t.Fatal(err)
		}
		// The prerendered page already lists the runs; click once the wasm
		// has it, or the click may land on the page it replaces.
		poll(t, ctx, "runs list", `document.querySelector(".page")?.dataset.runtime === "wasm" && document.querySelectorAll("tr.run-row").length > 0`)
		// Long tasks are watched from here on (back and forward stay in the
		// same document), to report, not assert, how the main thread fares
		// while the demo streams.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.__longTasks = [];
			new PerformanceObserver(l => l.getEntries().forEach(e => __longTasks.push(e.duration))).observe({type: "longtask"}); 0`)); err != nil {
			t.Fatal(err)
		}
		// A full page load starts from the stored cursor, so the list holds
		// the runs seen since; any of them will do.
		href := evalString(t, ctx, `document.querySelector("tr.run-row a").getAttribute("href")`)
		id := strings.TrimPrefix(href, "/runs/")
		// The element, not its coordinates: live runs arriving at the top
		// of the list move the rows down.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('tr.run-row a[href="`+href+`"]').click(); 0`)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "run page after the click", `document.querySelector("#run-thread")?.textContent === `+jsString(id))
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`history.back()`)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "runs list after back", `location.pathname === "/runs" && document.querySelectorAll("tr.run-row").length > 0`)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`history.forward()`)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "run page after forward", `document.querySelector("#run-thread")?.textContent === `+jsString(id))
		if lt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const l = window.__longTasks || [];
			return l.length + " long tasks, longest " + Math.round(Math.max(0, ...l)) + " ms"; })()`)); err == nil {
			t.Logf("measured while the demo streamed: %s", lt)
		}
	})

	t.Run("an unknown run says not found with a way back", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs/no-such-run")); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "not found", `document.querySelector(".not-found a[href='/runs']") !== null`)
		shoot(t, ctx, shots, "06-not-found")
	})

	t.Run("a corrupted run shows its banner", func(t *testing.T) {
		produceTo(t, gw.brokers, "dashstream-events", corruptedRun(t, "e2e-corrupted-run")...)
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/runs/e2e-corrupted-run")); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "the corrupted banner", `document.querySelector("#run-integrity")?.textContent.includes("Corrupted state")`)
		if got := evalString(t, ctx, `document.querySelector("#run-integrity").textContent`); !strings.Contains(got, "hash mismatch") {
			t.Errorf("banner %q does not say why", got)
		}
		shoot(t, ctx, shots, "07-run-corrupted")
	})

	t.Run("dark theme follows prefers-color-scheme", func(t *testing.T) {
		if err := chromedp.Do(ctx, emulateDark(), chromedp.Navigate(base+runHref+"?tab=events")); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, "events in the dark", `document.querySelectorAll("#events tr").length > 1`)
		bg := evalString(t, ctx, `getComputedStyle(document.body).backgroundColor`)
		if bg != "rgb(15, 20, 27)" {
			t.Errorf("dark background %q", bg)
		}
		shoot(t, ctx, shots, "08-run-events-dark")
	})
	if err := chromedp.Do(ctx, emulateLight()); err != nil {
		t.Fatal(err)
	}

	viewsTrace(t, ctx, gw, base, shots)
}

// corruptedRun returns the framed messages of a run whose second message
// carries a wrong state_hash: a GraphStart with its schema and initial
// state, then a StateDiff that the dashboard must flag.
func corruptedRun(t *testing.T, thread string) [][]byte {
	t.Helper()
	str := func(s string) *pb.AttributeValue {
		return &pb.AttributeValue{Value: &pb.AttributeValue_StringValue{StringValue: s}}
	}
	header := func(seq uint64, typ pb.MessageType) *pb.Header {
		return &pb.Header{MessageId: []byte(fmt.Sprintf("%s-%016d", thread, seq)), TimestampUs: time.Now().UnixMicro(),
			ThreadId: thread, Sequence: seq, Type: typ, SchemaVersion: 1}
	}
	msgs := []*pb.DashStreamMessage{
		{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{Header: header(1, pb.MessageType_MESSAGE_TYPE_EVENT),
			EventType: pb.EventType_EVENT_TYPE_GRAPH_START, Attributes: map[string]*pb.AttributeValue{
				"graph_schema_json":  str(`{"name":"tampered","nodes":[{"name":"a","node_type":"llm"}],"edges":[]}`),
				"initial_state_json": str(`{"n":0}`)}}}},
		{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{Header: header(2, pb.MessageType_MESSAGE_TYPE_STATE_DIFF),
			Operations: []*pb.DiffOperation{{Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/n", Value: []byte("1")}},
			StateHash:  make([]byte, 32)}}},
	}
	var out [][]byte
	for _, m := range msgs {
		b, err := protocol.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// emulateLight gives the page back its light colour scheme.
func emulateLight() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}})
		return err
	})
}

// emulateDark asks the page for the dark colour scheme.
func emulateDark() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	})
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

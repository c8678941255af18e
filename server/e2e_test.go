package main

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserContext starts headless Chromium with the flags that work on this
// kind of machine, or skips the test with a notice when there is none.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("NOTICE: chromium not installed; run `make test`, which installs it, to run browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

func TestE2E_DashboardPageBootsItsWasmInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := browserContext(t)
	_, srv := startGateway(t, sharedWeb(t))

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	// Only the wasm build sets data-runtime="wasm": the prerendered HTML
	// alone cannot pass this.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.querySelector(".shell")?.dataset.runtime === "wasm"`,
		chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("the wasm never took over the page: %v\n%.2000s", err, html)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#title")))
	if err != nil || title != "DashStream" {
		t.Errorf("title %q, %v", title, err)
	}
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#conn-state").dataset.state`))
	// "connected" proves the wasm session fetched /version, dialed /ws,
	// resumed and got the server's replay_complete.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#conn-state")?.dataset.state === "connected"`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		state, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#conn-state").dataset.state`))
	} else {
		state = "connected"
	}
	if err != nil || state != "connected" {
		t.Errorf("connection state %q, %v", state, err)
	}
}

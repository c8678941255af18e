package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// buildWeb builds ./wasm into a fresh web folder next to the repository's
// static assets and returns that folder.
func buildWeb(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "app.wasm"), "../wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm: %v\n%s", err, out)
	}
	for _, name := range []string{"app.css", "icon.svg", "icon.png"} {
		b, err := os.ReadFile(filepath.Join("..", "web", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestE2E_DashboardPageBootsItsWasmInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := browserContext(t)
	_, srv := startGateway(t, buildWeb(t))

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
	if err != nil || state != "connecting" {
		t.Errorf("connection state %q, %v", state, err)
	}
}

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/server/config"
)

// The wasm takes many seconds to build: every browser test of this binary
// shares one build.
var (
	webOnce sync.Once
	webDir  string
	webErr  error
)

// sharedWeb builds ./wasm once per test binary into a web folder next to
// the static assets.
func sharedWeb(t *testing.T) string {
	t.Helper()
	webOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dashstream-e2e-web-")
		if err != nil {
			webErr = err
			return
		}
		webDir = dir
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "app.wasm"), "../wasm")
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			webErr = fmt.Errorf("building the wasm: %v\n%s", err, out)
			return
		}
		for _, name := range []string{"app.css", "icon.svg", "icon.png"} {
			b, err := os.ReadFile(filepath.Join("..", "web", name))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
			}
			if err != nil {
				webErr = err
				return
			}
		}
	})
	if webErr != nil {
		t.Fatal(webErr)
	}
	return webDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if webDir != "" {
		os.RemoveAll(webDir)
	}
	os.Exit(code)
}

// fixedGateway is the whole gateway on a fixed address and data folder,
// so it can be stopped and started again as the same server.
type fixedGateway struct {
	t      *testing.T
	cfg    *config.Config
	ln     net.Listener
	addr   string
	gw     *gateway
	srv    *http.Server
	cancel context.CancelFunc
}

func startFixedGateway(t *testing.T, web string, args ...string) *fixedGateway {
	t.Helper()
	data := t.TempDir()
	cfg, err := config.Load(append([]string{"--web-dir", web, "--data-dir", data, "--schemas-path", filepath.Join(data, "schemas.json")}, args...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f := &fixedGateway{t: t, cfg: cfg, addr: "127.0.0.1:0"}
	f.start()
	t.Cleanup(f.stop)
	return f
}

func (f *fixedGateway) url() string { return "http://" + f.addr }

func (f *fixedGateway) start() {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	gw, err := start(ctx, f.cfg, quiet)
	if err != nil {
		cancel()
		f.t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ { // the old socket may linger for a moment after a restart
		ln, err = net.Listen("tcp", f.addr)
		if err == nil || i == 100 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		cancel()
		f.t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.gw, f.cancel, f.srv = gw, cancel, &http.Server{Handler: gw.handler}
	go f.srv.Serve(ln) // ends when stop closes the server
}

func (f *fixedGateway) stop() {
	if f.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	f.gw.closeClients(ctx)
	f.srv.Close()
	f.cancel()
	f.gw.stop(ctx)
	f.srv = nil
}

// snapshot reads window.dashstream.snapshot() (nil before the wasm set it).
func snapshot(ctx context.Context) (*session.Debug, error) {
	d, err := chromedp.Run(ctx, chromedp.Evaluate[*session.Debug](`window.dashstream ? window.dashstream.snapshot() : null`))
	return d, err
}

// waitFor polls the page's debug object until cond holds.
func waitFor(t *testing.T, ctx context.Context, what string, cond func(d *session.Debug) bool) *session.Debug {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last *session.Debug
	for {
		d, err := snapshot(ctx)
		if err == nil && d != nil {
			last = d
			if cond(d) {
				return d
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s; last snapshot %+v (err %v)", what, last, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func num(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -2
	}
	return n
}

// checkFlow proves, per partition, that the page received every offset
// after the one it resumed from exactly once in order: the first offset
// follows the stored cursor, and the count of new offsets equals the
// distance covered (the embedded broker's offsets are contiguous: the
// producer is idempotent, not transactional, so there are no markers).
func checkFlow(t *testing.T, d *session.Debug, resumed bool) {
	t.Helper()
	if len(d.Flow) == 0 {
		t.Fatalf("no partition flow in %+v", d)
	}
	for p, f := range d.Flow {
		after, first, last, frames := num(f["resumedAfter"]), num(f["first"]), num(f["last"]), num(f["frames"])
		if first < 0 {
			continue // nothing arrived on this partition yet
		}
		if resumed && after >= 0 && first != after+1 {
			t.Errorf("partition %s: resumed after %d but the first offset was %d: skipped or repeated", p, after, first)
		}
		start := first - 1
		if after >= 0 {
			start = after
		}
		if frames != last-start {
			t.Errorf("partition %s: %d frames for offsets %d..%d: skipped or repeated", p, frames, start+1, last)
		}
	}
}

func healthy(d *session.Debug) error {
	switch {
	case d.HashMismatches != 0:
		return fmt.Errorf("%d hash mismatches", d.HashMismatches)
	case len(d.DecodeErrors) != 0:
		return fmt.Errorf("decode errors %v", d.DecodeErrors)
	case d.Quarantined != 0:
		return fmt.Errorf("%d quarantined runs", d.Quarantined)
	}
	return nil
}

func TestE2E_SessionSurvivesReloadAndServerRestartWithNothingSkippedOrAppliedTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	ctx := browserContext(t)
	g := startFixedGateway(t, sharedWeb(t), "--demo", "on", "--demo-rate", "120")

	if err := chromedp.Do(ctx, chromedp.Navigate(g.url()+"/")); err != nil {
		t.Fatal(err)
	}
	// 1. Steady state: live, every state hash verified, nothing untrusted.
	d := waitFor(t, ctx, "a steady stream with verified hashes", func(d *session.Debug) bool {
		return d.State == "connected" && d.Applied >= 200 && d.HashesVerified >= 20 && d.CursorsCommitted > 0
	})
	if err := healthy(d); err != nil {
		t.Errorf("steady state: %v", err)
	}
	if d.Duplicates != 0 {
		t.Errorf("%d duplicates on a fresh live stream", d.Duplicates)
	}
	checkFlow(t, d, false)
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#conn-state").dataset.state`))
	if err != nil || state != "connected" {
		t.Errorf("#conn-state %q, %v", state, err)
	}

	// 2. Reload mid-stream: the new page resumes after the stored cursor,
	// so nothing is skipped and nothing received twice.
	before := waitFor(t, ctx, "cursors committed", func(d *session.Debug) bool { return len(d.Committed) > 0 })
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	after := waitFor(t, ctx, "the reloaded page live again", func(d *session.Debug) bool {
		if d.State != "connected" || d.Applied < 50 {
			return false
		}
		for _, f := range d.Flow {
			if num(f["resumedAfter"]) >= 0 && num(f["first"]) >= 0 {
				return true
			}
		}
		return false
	})
	for p, o := range before.Committed {
		f, ok := after.Flow[p]
		if !ok || num(f["resumedAfter"]) < num(o) {
			t.Errorf("partition %s: committed %s before the reload, but the new page resumed after %v", p, o, f["resumedAfter"])
		}
	}
	checkFlow(t, after, true)
	if after.Duplicates != 0 || after.Epoch != 1 {
		t.Errorf("after the reload: %d duplicates, epoch %d", after.Duplicates, after.Epoch)
	}
	if err := healthy(after); err != nil {
		t.Errorf("after the reload: %v", err)
	}

	// 3. Restart the server on the same address with the same data: the
	// page reconnects by itself and goes on where it was.
	g.stop()
	waitFor(t, ctx, "the page noticing", func(d *session.Debug) bool { return d.State == "reconnecting" })
	g.start()
	restarted := waitFor(t, ctx, "the page live on the restarted server", func(d *session.Debug) bool {
		return d.State == "connected" && d.Epoch >= 2 && d.Applied >= after.Applied+50
	})
	checkFlow(t, restarted, true)
	if err := healthy(restarted); err != nil {
		t.Errorf("after the restart: %v", err)
	}
	t.Logf("steady %d applied/%d verified; reload resumed %v; after restart epoch %d, %d applied, %d duplicates skipped by the store",
		d.Applied, d.HashesVerified, after.Flow, restarted.Epoch, restarted.Applied, restarted.Duplicates)
	t.Logf("restarted flow %v", restarted.Flow)
}

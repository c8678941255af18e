package applybench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The bench serves two pages to one headless Chromium: ours.html runs the
// dashboard's apply loop compiled to WebAssembly (./wasmloop), peer.html
// its JavaScript peer (web/peer.js with the npm packages pinned in
// tools/js). Both fetch the same recorded stream from the same server and
// time whole passes over it with performance.now() (web/bench.js).

// sides are the pages compared: ours, the dashboard's loop (the first,
// the figure of the goal) and our parts doing only the peer's work, then
// the peer with each SHA-256. With APPLYBENCH_BASE set to another
// checkout's directory, benchSides adds that checkout's loop in both modes,
// for a before/after in the same browser and the same run.
var sides = []side{
	{"go-wasm", "/ours.html", true},
	{"go-wasm-peer-work", "/ours.html?mode=minimal", true},
	{"js-subtle", "/peer.html?sha=subtle", false},
	{"js-noble", "/peer.html?sha=noble", false},
	{"js-sha256", "/peer.html?sha=jssha256", false},
}

// baseSides are the sides of APPLYBENCH_BASE's loop.
var baseSides = []side{
	{"go-wasm-base", "/ours.html?wasm=base", true},
	{"go-wasm-base-peer-work", "/ours.html?wasm=base&mode=minimal", true},
}

func benchSides() []side {
	if os.Getenv("APPLYBENCH_BASE") == "" {
		return sides
	}
	return append(slices.Clone(sides), baseSides...)
}

// passResult is what a page returns for a run of passes.
type passResult struct {
	MS     []float64 `json:"ms"`
	Result struct {
		Messages     int `json:"messages"`
		DecodeErrors int `json:"decodeErrors"`
		Verified     int `json:"verified"`
		Mismatches   int `json:"mismatches"`
		Runs         int `json:"runs"`
		// GC: our loop's garbage collection in the pass (cycles,
		// allocatedMB, heapMB); none for the peer.
		GC map[string]float64 `json:"gc"`
	} `json:"result"`
	Finals map[string]string `json:"finals"`
}

// harness is the server and browser of one test or benchmark.
type harness struct {
	url string
	ctx context.Context
}

var (
	cleanups []func() // run by TestMain
	loops    sync.Map // source directory → *loopBuild
)

type loopBuild struct {
	once sync.Once
	path string
	err  error
}

// buildLoop compiles ./wasmloop once per test binary, as make wasm compiles
// the message path (its packages keep inlining there), but with the
// function names kept, so that a profile names them. With a checkout's
// directory (APPLYBENCH_BASE) it compiles that checkout's wasmloop.
func buildLoop(tb testing.TB, checkout string) string {
	v, _ := loops.LoadOrStore(checkout, new(loopBuild))
	lb := v.(*loopBuild)
	lb.once.Do(func() {
		dir, err := os.MkdirTemp("", "applybench-")
		if err != nil {
			lb.err = err
			return
		}
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		lb.path = filepath.Join(dir, "loop.wasm")
		pkg := "./wasmloop"
		cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-o", lb.path, pkg)
		if checkout != "" {
			cmd.Args[len(cmd.Args)-1] = "./server/internal/applybench/wasmloop"
			cmd.Dir = checkout
		}
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			lb.err = fmt.Errorf("building wasmloop of %q: %v\n%s", checkout, err, out)
		}
	})
	if lb.err != nil {
		tb.Fatal(lb.err)
	}
	return lb.path
}

// newHarness serves the pages, the npm packages, the proto file and the
// streams, and starts headless Chromium; it skips (with a notice) when
// Chromium or the npm packages are missing: `make test` installs both.
func newHarness(tb testing.TB, streams ...stream) *harness {
	tb.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		tb.Skip("NOTICE: chromium not installed; run `make test`, which installs it, to run browser tests")
	}
	npm, err := filepath.Abs("../../../tools/js/node_modules")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(npm, "fast-json-patch")); err != nil {
		tb.Skip("NOTICE: tools/js/node_modules missing; run `make test` (tools/deps.sh test runs npm ci there)")
	}
	loop := buildLoop(tb, "")
	blobs := map[string][]byte{}
	for _, s := range streams {
		blobs[s.name+".bin"] = s.blob()
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir("web")))
	mux.Handle("/npm/", http.StripPrefix("/npm/", http.FileServer(http.Dir(npm))))
	mux.HandleFunc("/loop.wasm", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/wasm")
		http.ServeFile(w, r, loop)
	})
	if base := os.Getenv("APPLYBENCH_BASE"); base != "" {
		baseLoop := buildLoop(tb, base)
		mux.HandleFunc("/base/loop.wasm", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/wasm")
			http.ServeFile(w, r, baseLoop)
		})
	}
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	})
	mux.HandleFunc("/dashstream.proto", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "../../../protocol/dashstream.proto")
	})
	mux.HandleFunc("/stream/", func(w http.ResponseWriter, r *http.Request) {
		b, ok := blobs[strings.TrimPrefix(r.URL.Path, "/stream/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(b)
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 20*time.Minute)
	tb.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser
		tb.Fatal(err)
	}
	return &harness{url: srv.URL, ctx: ctx}
}

// run loads page in a new tab and times passes over the stream there.
func (h *harness) run(tb testing.TB, page, stream string, passes int) passResult {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(h.ctx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+page)); err != nil {
		tb.Fatalf("%s: %v", page, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.benchReady === true`, chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
		tb.Fatalf("%s never got ready: %v", page, err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[passResult](
		fmt.Sprintf(`benchRun(%q, %d)`, stream+".bin", passes), chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("%s on %s: %v", page, stream, err)
	}
	return res
}

package assets

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

func TestAcceptedEncodings(t *testing.T) {
	cases := map[string]map[string]bool{
		"":                     {},
		"gzip, br":             {"gzip": true, "br": true},
		"br;q=0, gzip;q=0.5":   {"br": false, "gzip": true},
		" BR ;q=1.0 , *;q=0.1": {"br": true, "*": true},
		"gzip;q=bogus":         {"gzip": true},
		",,;;":                 {},
	}
	for in, want := range cases {
		got := acceptedEncodings(in)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%q: %s=%v, want %v", in, k, got[k], v)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%q: %v", in, got)
		}
	}
}

func TestHandler_StaleCompressedFileIsNotServed(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.wasm.br"), []byte("old"), 0o644)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "app.wasm.br"), past, past)
	os.WriteFile(filepath.Join(dir, "app.wasm"), []byte("new raw"), 0o644)
	h := New(dir)
	r := httptest.NewRequest("GET", "/web/app.wasm", nil)
	r.Header.Set("Accept-Encoding", "br")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Body.String() != "new raw" || w.Header().Get("Content-Encoding") != "" {
		t.Errorf("served %q with encoding %q: a .br older than the wasm is stale", w.Body, w.Header().Get("Content-Encoding"))
	}
	for _, path := range []string{"/web/", "/web/.hidden", "/web/../assets.go", "/web/missing"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusNotFound {
			t.Errorf("%s: %d", path, w.Code)
		}
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/web/app.wasm", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
}

func FuzzAcceptedEncodings(f *testing.F) {
	for _, s := range []string{"gzip, br", "br;q=0", ";;;", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { acceptedEncodings(s) })
}

// get serves one request for /web/app.wasm with the given Accept-Encoding.
func get(h http.Handler, accept string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/web/app.wasm", nil)
	r.Header.Set("Accept-Encoding", accept)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The siblings are built exactly as `make wasm` builds them (tools/wasmzip.sh)
// and served whenever they hold the current content, whatever their clocks
// say; a rebuilt file is never answered with the old siblings.
func TestHandler_ServesSiblingsByContentNotClock(t *testing.T) {
	for _, tool := range []string{"gzip", "brotli"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (tools/deps.sh installs it)", tool)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "app.wasm")
	write := func(seed string) []byte {
		var b bytes.Buffer
		for i := 0; b.Len() < 1<<20; i++ {
			fmt.Fprintf(&b, "%s func_%d local.get %d i32.add\n", seed, i, i*7)
		}
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	wasmzip := func() {
		if out, err := exec.Command("../../tools/wasmzip.sh", "fast", file).CombinedOutput(); err != nil {
			t.Fatalf("wasmzip: %v\n%s", err, out)
		}
	}
	raw := write("v1")
	wasmzip()
	// brotli -o gives its output the source's time rounded down to whole
	// seconds: older than the file. It must not matter.
	mod := time.Now().Add(-time.Hour).Truncate(time.Second)
	os.Chtimes(file, mod.Add(500*time.Millisecond), mod.Add(500*time.Millisecond))
	os.Chtimes(file+".br", mod, mod)
	os.Chtimes(file+".gz", mod, mod)
	h := New(dir)
	check := func(accept, wantEnc string, want []byte) {
		t.Helper()
		w := get(h, accept)
		if w.Code != 200 || w.Header().Get("Content-Encoding") != wantEnc {
			t.Fatalf("Accept-Encoding %q: %d, encoding %q, want %q", accept, w.Code, w.Header().Get("Content-Encoding"), wantEnc)
		}
		body := w.Body.Bytes()
		switch wantEnc {
		case "br":
			body, _ = io.ReadAll(brotli.NewReader(bytes.NewReader(body)))
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		if !bytes.Equal(body, want) {
			t.Fatalf("Accept-Encoding %q: the content differs from the file", accept)
		}
	}
	check("gzip, deflate, br, zstd", "br", raw)
	check("br", "br", raw) // a client accepting only br gets br, never the raw file
	check("gzip", "gzip", raw)
	check("identity", "", raw)
	brTag, gzTag := get(h, "br").Header().Get("ETag"), get(h, "gzip").Header().Get("ETag")
	if brTag == gzTag || brTag == get(h, "").Header().Get("ETag") {
		t.Errorf("representations share an ETag: br %s gzip %s", brTag, gzTag)
	}

	// Rebuilt but not yet recompressed: the old siblings are stale.
	raw2 := write("v2")
	check("br, gzip", "", raw2)
	wasmzip()
	check("br, gzip", "br", raw2)

	// A truncated sibling (a crash mid-write) is never served.
	br, _ := os.ReadFile(file + ".br")
	os.WriteFile(file+".br", br[:len(br)/2], 0o644)
	check("br, gzip", "gzip", raw2)
}

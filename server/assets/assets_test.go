package assets

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
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

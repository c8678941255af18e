// Package assets serves the dashboard's static files (/web/...) with the
// precompressed siblings `make wasm` writes (app.wasm.br, app.wasm.gz) chosen
// by Accept-Encoding, correct content types, validators and cache headers.
// It is also the go-app resource resolver, so go-app's own /web/ requests
// come here.
package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Prefix is the URL path the files are served under.
const Prefix = "/web/"

// UncompressedLengthHeader carries the decompressed size of a compressed
// response, so go-app's loader can show real progress for app.wasm.
const UncompressedLengthHeader = "X-Uncompressed-Length"

// Handler serves the files of a folder.
type Handler struct {
	dir string

	mu   sync.Mutex
	tags map[string]etag // cached ETags by file path
}

type etag struct {
	size  int64
	mod   time.Time
	value string
}

// New serves the files of dir.
func New(dir string) *Handler { return &Handler{dir: dir, tags: map[string]etag{}} }

// Resolve keeps resource URLs as they are (go-app's ResourceResolver).
func (h *Handler) Resolve(location string) string { return location }

var encodings = []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}}

// ServeHTTP serves GET and HEAD of Prefix + a file name.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rel := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.URL.Path, Prefix)), "/")
	if rel == "" || strings.HasPrefix(rel, ".") {
		http.NotFound(w, r)
		return
	}
	name := filepath.Join(h.dir, filepath.FromSlash(rel))
	info, err := os.Stat(name)
	if err != nil || info.IsDir() {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(rel))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Vary", "Accept-Encoding")
	// File names are not fingerprinted: revalidate every time (cheap with
	// the ETag) so a rebuilt app.wasm is never served stale.
	w.Header().Set("Cache-Control", "no-cache")

	serve := name
	if !isCompressed(rel) {
		accepted := acceptedEncodings(r.Header.Get("Accept-Encoding"))
		for _, enc := range encodings {
			if !accepted[enc.name] {
				continue
			}
			ci, err := os.Stat(name + enc.ext)
			if err != nil || ci.ModTime().Before(info.ModTime()) {
				continue // missing, or older than the file it compresses
			}
			serve = name + enc.ext
			w.Header().Set("Content-Encoding", enc.name)
			w.Header().Set(UncompressedLengthHeader, strconv.FormatInt(info.Size(), 10))
			break
		}
	}
	f, err := os.Open(serve)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, "cannot read file", http.StatusInternalServerError)
		return
	}
	tag, err := h.etag(serve, fi)
	if err == nil {
		w.Header().Set("ETag", tag)
	}
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

func isCompressed(rel string) bool {
	for _, enc := range encodings {
		if strings.HasSuffix(rel, enc.ext) {
			return true
		}
	}
	return false
}

// acceptedEncodings parses Accept-Encoding, honouring q=0 as "not accepted".
func acceptedEncodings(header string) map[string]bool {
	out := map[string]bool{}
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		name := strings.ToLower(strings.TrimSpace(fields[0]))
		ok := true
		for _, f := range fields[1:] {
			if q, found := strings.CutPrefix(strings.TrimSpace(f), "q="); found {
				if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
					ok = false
				}
			}
		}
		if name != "" {
			out[name] = ok
		}
	}
	return out
}

// etag returns a strong validator of the file's content, cached while its
// size and modification time do not change.
func (h *Handler) etag(name string, fi os.FileInfo) (string, error) {
	h.mu.Lock()
	t, ok := h.tags[name]
	h.mu.Unlock()
	if ok && t.size == fi.Size() && t.mod.Equal(fi.ModTime()) {
		return t.value, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("etag: %w", err)
	}
	sum := sha256.Sum256(b)
	value := `"` + hex.EncodeToString(sum[:12]) + `"`
	h.mu.Lock()
	h.tags[name] = etag{size: fi.Size(), mod: fi.ModTime(), value: value}
	h.mu.Unlock()
	return value, nil
}

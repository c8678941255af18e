// Package assets serves the dashboard's static files (/web/...) with the
// precompressed siblings `make wasm` writes (app.wasm.br, app.wasm.gz) chosen
// by Accept-Encoding, correct content types, validators and cache headers.
// It is also the go-app resource resolver, so go-app's own /web/ requests
// come here.
//
// A sibling is served only when it is the compression of the file as it is
// now: the handler decompresses it once per version of either file and
// compares SHA-256 digests. Clocks cannot tell (brotli gives its output the
// source's modification time rounded down to whole seconds, so it looks
// older than the file it was made from), and a stale or half-written
// sibling must never be served for a rebuilt app.wasm.
package assets

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// Prefix is the URL path the files are served under.
const Prefix = "/web/"

// UncompressedLengthHeader carries the decompressed size of a compressed
// response, so go-app's loader can show real progress for app.wasm.
const UncompressedLengthHeader = "X-Uncompressed-Length"

// Handler serves the files of a folder.
type Handler struct {
	dir string

	mu      sync.Mutex
	digests map[string]digest // content digests by file path, for the file's current stamp
	hashing sync.Mutex        // one digest computed at a time: a crowd of first requests reads the file once
}

// digest is the SHA-256 of a file's content (decompressed, for a
// compressed sibling), valid while its stamp does not change.
type digest struct {
	stamp stamp
	sum   [sha256.Size]byte
	ok    bool // false: the sibling does not decompress (within the source's size)
}

// New serves the files of dir.
func New(dir string) *Handler { return &Handler{dir: dir, digests: map[string]digest{}} }

// Resolve keeps resource URLs as they are (go-app's ResourceResolver).
func (h *Handler) Resolve(location string) string { return location }

var encodings = []struct {
	name, ext string
	reader    func(io.Reader) (io.Reader, error)
}{
	{"br", ".br", func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }},
	{"gzip", ".gz", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
}

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
	f, err := os.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
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

	src, err := h.digest(name, f, fi, nil)
	if err != nil {
		http.Error(w, "cannot read file", http.StatusInternalServerError)
		return
	}
	tag := hex.EncodeToString(src.sum[:12])
	serve, serveInfo := f, fi
	if !isCompressed(rel) {
		accepted := acceptedEncodings(r.Header.Get("Accept-Encoding"))
		for _, enc := range encodings {
			if !accepted[enc.name] {
				continue
			}
			cf, ci, ok := h.sibling(name+enc.ext, enc.reader, src.sum, fi.Size())
			if !ok {
				continue // missing, unreadable, or the compression of another version
			}
			defer cf.Close()
			serve, serveInfo = cf, ci
			tag += "-" + enc.name
			w.Header().Set("Content-Encoding", enc.name)
			w.Header().Set(UncompressedLengthHeader, strconv.FormatInt(fi.Size(), 10))
			break
		}
	}
	w.Header().Set("ETag", `"`+tag+`"`)
	http.ServeContent(w, r, "", serveInfo.ModTime(), serve)
}

// sibling opens a compressed sibling and reports whether it decompresses
// to content with the digest want (of a file of size bytes).
func (h *Handler) sibling(name string, reader func(io.Reader) (io.Reader, error), want [sha256.Size]byte, size int64) (*os.File, os.FileInfo, bool) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, false
	}
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		f.Close()
		return nil, nil, false
	}
	d, err := h.digest(name, f, fi, func(r io.Reader) (io.Reader, error) {
		dr, err := reader(r)
		if err != nil {
			return nil, err
		}
		// One byte more than the file: a longer output cannot match, and a
		// hostile sibling cannot inflate without bound.
		return io.LimitReader(dr, size+1), nil
	})
	if err != nil || !d.ok || d.sum != want {
		f.Close()
		return nil, nil, false
	}
	return f, fi, true
}

// digest returns the SHA-256 of f's content, through decode when it is not
// nil, cached while the file's stamp is unchanged. f is read from its start
// and left there.
func (h *Handler) digest(name string, f *os.File, fi os.FileInfo, decode func(io.Reader) (io.Reader, error)) (digest, error) {
	st := stampOf(fi)
	h.mu.Lock()
	d, ok := h.digests[name]
	h.mu.Unlock()
	if ok && d.stamp == st {
		return d, nil
	}
	h.hashing.Lock()
	defer h.hashing.Unlock()
	h.mu.Lock()
	d, ok = h.digests[name]
	h.mu.Unlock()
	if ok && d.stamp == st {
		return d, nil // computed while this request waited
	}
	d = digest{stamp: st, ok: true}
	var r io.Reader = io.NewSectionReader(f, 0, fi.Size())
	var err error
	if decode != nil {
		if r, err = decode(r); err != nil {
			d.ok = false
		}
	}
	if d.ok {
		sum := sha256.New()
		if _, err := io.Copy(sum, r); err != nil {
			if decode == nil {
				return digest{}, fmt.Errorf("hashing %s: %w", name, err)
			}
			d.ok = false // truncated or corrupt: never served
		}
		copy(d.sum[:], sum.Sum(nil))
	}
	h.mu.Lock()
	h.digests[name] = d
	h.mu.Unlock()
	return d, nil
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

// Package schemas is the expected-schema API of the upstream server (§2.5):
// operators pin the schema_id a graph is expected to have, and the dashboard
// flags runs whose schema differs. Changes require the gateway's token when
// one is configured, or a loopback client when none is, and a same-site
// Origin (upstream had neither); admit.Gate.Authorize decides.
//
// The store is bounded (entries, bytes per entry, bytes in total) and
// persists incrementally: the file at path is a snapshot (the upstream JSON
// object keyed by graph name), and every change appends one JSON line to
// path+".log". The log is folded into a new snapshot (written to a temporary
// file and renamed) once it outgrows the snapshot, so a change costs one
// small append, amortised, however many entries there are.
package schemas

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dashstream/dashstream/server/admit"
)

// Entry is one pinned expectation.
type Entry struct {
	SchemaID    string  `json:"schema_id"`
	GraphName   string  `json:"graph_name"`
	Environment *string `json:"environment"`
	PinnedAt    int64   `json:"pinned_at"` // milliseconds since the epoch
	PinnedBy    *string `json:"pinned_by"`
	Note        *string `json:"note"`
}

const (
	maxField = 256
	maxNote  = 4096
)

// Limits bound the store.
type Limits struct {
	Entries    int // graphs with an expectation
	EntryBytes int // one entry, JSON-encoded
	TotalBytes int // all entries, JSON-encoded
	// CompactBytes is the log size below which the log is never folded into
	// the snapshot; above it, the log is folded once it outgrows the snapshot.
	CompactBytes int64
}

// DefaultLimits hold a thousand typical entries (a few hundred bytes each)
// with room to spare, and keep the snapshot small enough to rewrite.
var DefaultLimits = Limits{Entries: 1000, EntryBytes: 8 << 10, TotalBytes: 2 << 20, CompactBytes: 256 << 10}

// Authorizer decides whether a request may change entries; errors wrapping
// admit.ErrUnauthorized are answered 401, others 403.
type Authorizer func(r *http.Request) error

// Store holds the entries.
type Store struct {
	path      string
	authorize Authorizer
	log       *slog.Logger
	now       func() time.Time
	limits    Limits

	mu          sync.Mutex
	entries     map[string]Entry
	sizes       map[string]int // encoded size of each entry
	total       int            // sum of sizes
	snapSize    int64          // bytes of the snapshot file
	logSize     int64          // bytes of the log file
	compactions int            // snapshots written, for tests
}

// logLine is one change in the log: an entry to set, or a graph to delete.
type logLine struct {
	Put    *Entry `json:"put,omitempty"`
	Delete string `json:"delete,omitempty"`
}

// Open loads path and its log (a missing file is an empty store; a corrupt
// snapshot is logged, kept aside for inspection and the store starts empty;
// a torn last log line, from a crash mid-append, is ignored). Entries beyond
// the limits, left by an older version, are dropped with a warning.
func Open(path string, authorize Authorizer, log *slog.Logger) *Store {
	return open(path, authorize, log, DefaultLimits)
}

func open(path string, authorize Authorizer, log *slog.Logger, limits Limits) *Store {
	s := &Store{path: path, authorize: authorize, log: log, now: time.Now, limits: limits,
		entries: map[string]Entry{}, sizes: map[string]int{}}
	loaded := map[string]Entry{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		log.Warn("expected schemas not loaded", "path", path, "err", err)
	default:
		s.snapSize = int64(len(b))
		if err := json.Unmarshal(b, &loaded); err != nil {
			aside := fmt.Sprintf("%s.corrupt-%d", path, s.now().Unix())
			log.Warn("expected schemas file is not valid; starting empty", "path", path, "moved_to", aside, "err", err)
			_ = os.Rename(path, aside)
			loaded, s.snapSize = map[string]Entry{}, 0
		}
	}
	if lb, err := os.ReadFile(s.logPath()); err == nil {
		s.logSize = int64(len(lb))
		sc := bufio.NewScanner(bytes.NewReader(lb))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		bad := 0
		for sc.Scan() {
			var l logLine
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				bad++
				continue
			}
			switch {
			case l.Put != nil:
				loaded[l.Put.GraphName] = *l.Put
			case l.Delete != "":
				delete(loaded, l.Delete)
			}
		}
		if bad > 0 || sc.Err() != nil {
			log.Warn("expected schemas log has unreadable lines (a crash mid-write?); they are ignored", "path", s.logPath(), "lines", bad, "err", sc.Err())
		}
	}
	names := make([]string, 0, len(loaded))
	for g := range loaded {
		names = append(names, g)
	}
	sort.Strings(names)
	dropped := 0
	for _, g := range names {
		e := loaded[g]
		e.GraphName = g
		size, err := s.admitLocked(e)
		if err != nil {
			dropped++
			continue
		}
		s.setLocked(e, size)
	}
	if dropped > 0 {
		log.Warn("expected schemas over the store's limits were dropped", "path", path, "dropped", dropped, "kept", len(s.entries))
	}
	if dropped > 0 || s.logSize > 0 {
		s.mu.Lock()
		if err := s.compactLocked(); err != nil {
			log.Error("expected schemas not compacted", "path", path, "err", err)
		}
		s.mu.Unlock()
	}
	return s
}

func (s *Store) logPath() string { return s.path + ".log" }

// errFull and errTooLarge are the bounds' refusals.
var (
	errFull     = errors.New("too many expected schemas")
	errTooLarge = errors.New("expected schema too large")
)

// admitLocked checks e against the limits, counting a replaced entry as
// freed, and returns its encoded size.
func (s *Store) admitLocked(e Entry) (int, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	size := len(b)
	old, exists := s.sizes[e.GraphName]
	switch {
	case size > s.limits.EntryBytes:
		return 0, fmt.Errorf("%w: %d bytes encoded, limit %d", errTooLarge, size, s.limits.EntryBytes)
	case !exists && len(s.entries) >= s.limits.Entries:
		return 0, fmt.Errorf("%w: limit %d", errFull, s.limits.Entries)
	case s.total-old+size > s.limits.TotalBytes:
		return 0, fmt.Errorf("%w: the store would hold %d bytes, limit %d", errFull, s.total-old+size, s.limits.TotalBytes)
	}
	return size, nil
}

func (s *Store) setLocked(e Entry, size int) {
	s.total += size - s.sizes[e.GraphName]
	s.entries[e.GraphName] = e
	s.sizes[e.GraphName] = size
}

func (s *Store) deleteLocked(graph string) {
	s.total -= s.sizes[graph]
	delete(s.entries, graph)
	delete(s.sizes, graph)
}

// Routes registers the API on mux.
func (s *Store) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/expected-schema", s.list)
	mux.HandleFunc("GET /api/expected-schema/{graph}", s.get)
	mux.HandleFunc("PUT /api/expected-schema/{graph}", s.put)
	mux.HandleFunc("DELETE /api/expected-schema/{graph}", s.delete)
}

func (s *Store) list(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make([]Entry, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].GraphName < out[j].GraphName })
	writeJSON(w, http.StatusOK, out)
}

func (s *Store) get(w http.ResponseWriter, r *http.Request) {
	graph := r.PathValue("graph")
	s.mu.Lock()
	e, ok := s.entries[graph]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "No expected schema set for this graph", "graph_name": graph})
		return
	}
	writeJSON(w, http.StatusOK, e)
}

type putBody struct {
	SchemaID    *string `json:"schema_id"`
	Environment *string `json:"environment"`
	PinnedBy    *string `json:"pinned_by"`
	Note        *string `json:"note"`
}

func (s *Store) put(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(w, r) {
		return
	}
	graph := r.PathValue("graph")
	if err := checkText("graph_name", graph, maxField, true); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": err.Error()})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "Content-Type must be application/json"})
		return
	}
	maxBody := 2 * s.limits.EntryBytes
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(maxBody)+1))
	if err != nil || len(body) > maxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("body over %d bytes or unreadable", maxBody)})
		return
	}
	var b putBody
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body: " + err.Error()})
		return
	}
	if b.SchemaID == nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "schema_id is required"})
		return
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
		req  bool
	}{{"schema_id", b.SchemaID, maxField, true}, {"environment", b.Environment, maxField, false}, {"pinned_by", b.PinnedBy, maxField, false}, {"note", b.Note, maxNote, false}} {
		if f.v == nil {
			continue
		}
		if err := checkText(f.name, *f.v, f.max, f.req); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": err.Error()})
			return
		}
	}
	e := Entry{SchemaID: *b.SchemaID, GraphName: graph, Environment: b.Environment, PinnedAt: s.now().UnixMilli(), PinnedBy: b.PinnedBy, Note: b.Note}
	s.mu.Lock()
	size, err := s.admitLocked(e)
	if err != nil {
		s.mu.Unlock()
		code := http.StatusInsufficientStorage
		if errors.Is(err, errTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	s.setLocked(e, size)
	err = s.appendLocked(logLine{Put: &e})
	s.mu.Unlock()
	if err != nil {
		s.log.Error("expected schema not persisted", "path", s.path, "err", err)
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Store) delete(w http.ResponseWriter, r *http.Request) {
	if !s.allowed(w, r) {
		return
	}
	graph := r.PathValue("graph")
	s.mu.Lock()
	e, ok := s.entries[graph]
	var err error
	if ok {
		s.deleteLocked(graph)
		err = s.appendLocked(logLine{Delete: graph})
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "No expected schema to delete", "graph_name": graph})
		return
	}
	if err != nil {
		s.log.Error("expected schema deletion not persisted", "path", s.path, "err", err)
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Store) allowed(w http.ResponseWriter, r *http.Request) bool {
	if s.authorize == nil {
		return true
	}
	if err := s.authorize(r); err != nil {
		code := http.StatusForbidden
		if errors.Is(err, admit.ErrUnauthorized) {
			code = http.StatusUnauthorized
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return false
	}
	return true
}

// appendLocked records one change in the log, and folds the log into a new
// snapshot once it has outgrown both CompactBytes and the snapshot, so the
// rewrites cost O(1) per change, amortised.
func (s *Store) appendLocked(l logLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encoding the change: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("creating the folder: %w", err)
	}
	f, err := os.OpenFile(s.logPath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening the log: %w", err)
	}
	n, err := f.Write(append(b, '\n'))
	s.logSize += int64(n)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("appending to the log: %w", err)
	}
	if s.logSize > s.limits.CompactBytes && s.logSize > s.snapSize {
		return s.compactLocked()
	}
	return nil
}

// compactLocked writes the entries to a temporary file, renames it over the
// snapshot, then empties the log. A crash between the two leaves a log whose
// changes are already in the snapshot: replaying them is harmless.
func (s *Store) compactLocked() error {
	b, err := json.Marshal(s.entries)
	if err != nil {
		return fmt.Errorf("encoding the snapshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("creating the folder: %w", err)
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("writing the snapshot: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("replacing the snapshot: %w", err)
	}
	s.snapSize = int64(len(b))
	s.compactions++
	if err := os.Remove(s.logPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("emptying the log: %w", err)
	}
	s.logSize = 0
	return nil
}

func checkText(name, v string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return fmt.Errorf("%s must not be empty", name)
	case !utf8.ValidString(v):
		return fmt.Errorf("%s is not valid UTF-8", name)
	case utf8.RuneCountInString(v) > max:
		return fmt.Errorf("%s is longer than %d characters", name, max)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// Package schemas is the expected-schema API of the upstream server (§2.5):
// operators pin the schema_id a graph is expected to have, and the dashboard
// flags runs whose schema differs. Entries persist to a JSON file (written to
// a temporary file and renamed, so a crash never leaves half a file).
// Changes require a valid token when the gateway has one, and a same-site
// Origin (upstream had neither).
package schemas

import (
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
	maxBody   = 64 << 10
	maxField  = 256
	maxNote   = 4096
	maxGraphs = 10_000
)

// Authorizer decides whether a request may change entries.
type Authorizer func(r *http.Request) error

// Store holds the entries.
type Store struct {
	path      string
	authorize Authorizer
	log       *slog.Logger
	now       func() time.Time

	mu      sync.Mutex
	entries map[string]Entry
}

// Open loads path (a missing file is an empty store; a corrupt one is logged
// and the store starts empty, keeping the file for inspection).
func Open(path string, authorize Authorizer, log *slog.Logger) *Store {
	s := &Store{path: path, authorize: authorize, log: log, now: time.Now, entries: map[string]Entry{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		log.Warn("expected schemas not loaded", "path", path, "err", err)
	default:
		if err := json.Unmarshal(b, &s.entries); err != nil {
			log.Warn("expected schemas file is not valid; starting empty", "path", path, "err", err)
			s.entries = map[string]Entry{}
		}
	}
	return s
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
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
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
	if _, exists := s.entries[graph]; !exists && len(s.entries) >= maxGraphs {
		s.mu.Unlock()
		writeJSON(w, http.StatusInsufficientStorage, map[string]string{"error": "too many expected schemas"})
		return
	}
	s.entries[graph] = e
	err = s.persistLocked()
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
		delete(s.entries, graph)
		err = s.persistLocked()
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
		writeJSON(w, http.StatusForbidden, map[string]string{"error": err.Error()})
		return false
	}
	return true
}

// persistLocked writes the entries to a temporary file and renames it over
// the target, creating the folder if needed.
func (s *Store) persistLocked() error {
	b, err := json.MarshalIndent(s.entries, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
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

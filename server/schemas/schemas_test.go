package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func serve(t *testing.T, s *Store) *httptest.Server {
	mux := http.NewServeMux()
	s.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func TestExpectedSchemaAPI_UpstreamShapesAndPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "schemas.json") // the folder is created
	srv := serve(t, Open(path, nil, quiet))
	if code, out := do(t, "GET", srv.URL+"/api/expected-schema/g1", ""); code != 404 || out["error"] != "No expected schema set for this graph" || out["graph_name"] != "g1" {
		t.Errorf("missing: %d %v", code, out)
	}
	code, out := do(t, "PUT", srv.URL+"/api/expected-schema/g1", `{"schema_id":"abc123","pinned_by":"ops","note":"é"}`)
	if code != 200 || out["schema_id"] != "abc123" || out["graph_name"] != "g1" || out["environment"] != nil || out["pinned_at"].(float64) <= 0 {
		t.Errorf("put: %d %v", code, out)
	}
	if code, out := do(t, "GET", srv.URL+"/api/expected-schema/g1", ""); code != 200 || out["pinned_by"] != "ops" {
		t.Errorf("get: %d %v", code, out)
	}
	// Persisted: a new store on the same file sees it.
	srv2 := serve(t, Open(path, nil, quiet))
	if code, _ := do(t, "GET", srv2.URL+"/api/expected-schema/g1", ""); code != 200 {
		t.Errorf("not persisted: %d", code)
	}
	if code, out := do(t, "DELETE", srv.URL+"/api/expected-schema/g1", ""); code != 200 || out["schema_id"] != "abc123" {
		t.Errorf("delete: %d %v", code, out)
	}
	if code, out := do(t, "DELETE", srv.URL+"/api/expected-schema/g1", ""); code != 404 || out["error"] != "No expected schema to delete" {
		t.Errorf("delete again: %d %v", code, out)
	}
}

func TestExpectedSchemaAPI_RejectsBadBodies(t *testing.T) {
	srv := serve(t, Open(filepath.Join(t.TempDir(), "s.json"), nil, quiet))
	cases := map[string]int{
		``:                            400,
		`not json`:                    400,
		`{}`:                          422,
		`{"schema_id":""}`:            422,
		`{"schema_id":"  "}`:          422,
		`{"schema_id":123}`:           400,
		`{"schema_id":"x","extra":1}`: 400,
		`{"schema_id":"` + strings.Repeat("x", 300) + `"}`: 422,
		`{"schema_id":"x"}` + strings.Repeat(" ", 70<<10):  413,
	}
	for body, want := range cases {
		if code, _ := do(t, "PUT", srv.URL+"/api/expected-schema/g", body); code != want {
			t.Errorf("body %.40q: %d, want %d", body, code, want)
		}
	}
}

func TestExpectedSchemaAPI_ChangesNeedAuthorization(t *testing.T) {
	srv := serve(t, Open(filepath.Join(t.TempDir(), "s.json"), func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer ok" {
			return errors.New("a valid token is required")
		}
		return nil
	}, quiet))
	if code, _ := do(t, "PUT", srv.URL+"/api/expected-schema/g", `{"schema_id":"x"}`); code != 403 {
		t.Errorf("unauthorized put: %d", code)
	}
	if code, _ := do(t, "GET", srv.URL+"/api/expected-schema", ""); code != 200 {
		t.Errorf("reads stay open: %d", code)
	}
}

func TestOpen_CorruptFileStartsEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	os.WriteFile(path, []byte("{garbage"), 0o644)
	s := Open(path, nil, quiet)
	if len(s.entries) != 0 {
		t.Errorf("entries %v", s.entries)
	}
}

func FuzzPut(f *testing.F) {
	f.Add("g", `{"schema_id":"x"}`)
	f.Add("\xff", `{"schema_id":"\u0000"}`)
	f.Add("g", `{"schema_id":"x","note":null,"environment":"prod"}`)
	s := Open(filepath.Join(f.TempDir(), "s.json"), nil, quiet)
	mux := http.NewServeMux()
	s.Routes(mux)
	f.Fuzz(func(t *testing.T, graph, body string) {
		r := httptest.NewRequest("PUT", "/api/expected-schema/x", strings.NewReader(body))
		r.SetPathValue("graph", graph)
		w := httptest.NewRecorder()
		s.put(w, r)
		if w.Code == 200 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("invalid JSON answer %q", w.Body)
		}
	})
}

func putEntry(t testing.TB, s *Store, graph, body string) int {
	t.Helper()
	r := httptest.NewRequest("PUT", "/api/expected-schema/"+graph, strings.NewReader(body))
	r.SetPathValue("graph", graph)
	w := httptest.NewRecorder()
	s.put(w, r)
	return w.Code
}

func TestStore_BoundedInCountEntrySizeAndTotal(t *testing.T) {
	limits := Limits{Entries: 3, EntryBytes: 300, TotalBytes: 500, CompactBytes: 1 << 20}
	s := open(filepath.Join(t.TempDir(), "s.json"), nil, quiet, limits)
	for _, g := range []string{"a", "b", "c"} {
		if code := putEntry(t, s, g, `{"schema_id":"x"}`); code != 200 {
			t.Fatalf("put %s: %d", g, code)
		}
	}
	if code := putEntry(t, s, "d", `{"schema_id":"x"}`); code != http.StatusInsufficientStorage {
		t.Errorf("fourth graph: %d, want 507", code)
	}
	if code := putEntry(t, s, "a", `{"schema_id":"y"}`); code != 200 {
		t.Errorf("replacing an entry of a full store: %d, want 200", code)
	}
	// Control characters escape to six bytes each: the encoded size counts.
	if code := putEntry(t, s, "a", `{"schema_id":"x","note":"`+strings.Repeat(`\u0001`, 60)+`"}`); code != http.StatusRequestEntityTooLarge {
		t.Errorf("entry over EntryBytes encoded: %d, want 413", code)
	}
	if code := putEntry(t, s, "b", `{"schema_id":"x","note":"`+strings.Repeat("n", 150)+`"}`); code != 200 {
		t.Fatalf("large entry within limits: %d", code)
	}
	if code := putEntry(t, s, "c", `{"schema_id":"x","note":"`+strings.Repeat("n", 150)+`"}`); code != http.StatusInsufficientStorage {
		t.Errorf("store over TotalBytes: %d, want 507", code)
	}
	if s.total > limits.TotalBytes || len(s.entries) > limits.Entries {
		t.Errorf("store holds %d entries, %d bytes", len(s.entries), s.total)
	}
}

// Every change is one appended line; the snapshot is rewritten only when the
// log outgrows it, a logarithmic number of times for a growing store.
func TestStore_PersistsIncrementally(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	s := open(path, nil, quiet, Limits{Entries: 1000, EntryBytes: 1000, TotalBytes: 1 << 20, CompactBytes: 1024})
	const n = 400
	for i := 0; i < n; i++ {
		if code := putEntry(t, s, fmt.Sprintf("g%03d", i), `{"schema_id":"x"}`); code != 200 {
			t.Fatalf("put %d: %d", i, code)
		}
	}
	for i := 0; i < n; i += 2 {
		r := httptest.NewRequest("DELETE", "/", nil)
		r.SetPathValue("graph", fmt.Sprintf("g%03d", i))
		w := httptest.NewRecorder()
		s.delete(w, r)
		if w.Code != 200 {
			t.Fatalf("delete %d: %d", i, w.Code)
		}
	}
	if s.compactions == 0 || s.compactions > 12 {
		t.Errorf("%d snapshots for %d changes: want a few (log-amortised), not one per change", s.compactions, n+n/2)
	}
	// A torn last line (a crash mid-append) is ignored; the rest is replayed.
	f, err := os.OpenFile(path+".log", os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"put":{"schema_id":"torn","graph_na`)
	f.Close()
	re := Open(path, nil, quiet)
	if len(re.entries) != n/2 {
		t.Fatalf("reopened store has %d entries, want %d", len(re.entries), n/2)
	}
	for g := range re.entries {
		if _, ok := s.entries[g]; !ok {
			t.Errorf("reopened store has %s, which was deleted", g)
		}
	}
	if _, err := os.Stat(path + ".log"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the log was not folded into the snapshot at open: %v", err)
	}
}

// A crash after the snapshot was replaced but before the log was emptied
// replays changes the snapshot already holds: same state.
func TestStore_CrashBetweenSnapshotAndLogIsHarmless(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	s := Open(path, nil, quiet)
	putEntry(t, s, "a", `{"schema_id":"1"}`)
	putEntry(t, s, "b", `{"schema_id":"2"}`)
	log, _ := os.ReadFile(path + ".log")
	s.mu.Lock()
	if err := s.compactLocked(); err != nil {
		t.Fatal(err)
	}
	s.mu.Unlock()
	os.WriteFile(path+".log", log, 0o644) // as if the removal never happened
	re := Open(path, nil, quiet)
	if len(re.entries) != 2 || re.entries["b"].SchemaID != "2" {
		t.Errorf("entries after replay: %v", re.entries)
	}
}

// A file left by an older version without bounds loads up to the limits.
func TestOpen_OversizedLegacyFileIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	legacy := map[string]Entry{}
	for i := 0; i < 50; i++ {
		note := strings.Repeat("n", 10*i)
		legacy[fmt.Sprintf("g%02d", i)] = Entry{SchemaID: "x", Note: &note}
	}
	b, _ := json.Marshal(legacy)
	os.WriteFile(path, b, 0o644)
	s := open(path, nil, quiet, Limits{Entries: 20, EntryBytes: 300, TotalBytes: 4000, CompactBytes: 1 << 20})
	if len(s.entries) == 0 || len(s.entries) > 20 || s.total > 4000 {
		t.Errorf("loaded %d entries, %d bytes", len(s.entries), s.total)
	}
	for g, e := range s.entries {
		if e.GraphName != g || s.sizes[g] > 300 {
			t.Errorf("%s: %+v (%d bytes)", g, e, s.sizes[g])
		}
	}
}

// BenchmarkPut_Store1000: a PUT into a store of 1,000 entries, appended to
// the log, beside the baseline of rewriting the whole file at every PUT (the
// previous design).
func BenchmarkPut_Store1000(b *testing.B) {
	for _, mode := range []string{"append-log", "baseline-rewrite-every-put"} {
		b.Run(mode, func(b *testing.B) {
			s := open(filepath.Join(b.TempDir(), "s.json"), nil, quiet, DefaultLimits)
			body := `{"schema_id":"` + strings.Repeat("s", 64) + `","note":"` + strings.Repeat("n", 1000) + `"}`
			for i := 0; i < 1000; i++ {
				putEntry(b, s, fmt.Sprintf("graph-%04d", i), body)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if code := putEntry(b, s, fmt.Sprintf("graph-%04d", i%1000), body); code != 200 {
					b.Fatal(code)
				}
				if mode != "append-log" {
					s.mu.Lock()
					s.compactLocked()
					s.mu.Unlock()
				}
			}
		})
	}
}

package schemas

import (
	"encoding/json"
	"errors"
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

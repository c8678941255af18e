package catalog

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Authorize admits a request to the API, or writes the refusal and returns
// false (the gateway passes the same Origin and token check as /ws).
type Authorize func(w http.ResponseWriter, r *http.Request) bool

// Routes registers `GET /api/runs`, `GET /api/runs/{thread_id}` and
// `GET /api/graphs` on mux.
func (c *Catalog) Routes(mux *http.ServeMux, allow Authorize) {
	guard := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if allow != nil && !allow(w, r) {
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /api/runs", guard(c.serveRuns))
	mux.HandleFunc("GET /api/runs/{thread...}", guard(c.serveRun))
	mux.HandleFunc("GET /api/graphs", guard(c.serveGraphs))
}

func (c *Catalog) serveRuns(w http.ResponseWriter, r *http.Request) {
	q, err := ParseQuery(r.URL.Query())
	if err != nil {
		badRequest(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c.Query(q))
}

func (c *Catalog) serveRun(w http.ResponseWriter, r *http.Request) {
	thread := r.PathValue("thread")
	if err := checkKnown(r.URL.Query()); err != nil {
		badRequest(w, err)
		return
	}
	s, ok := c.Get(thread)
	if !ok {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no retained run has this thread id", Parameter: "thread_id"})
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (c *Catalog) serveGraphs(w http.ResponseWriter, r *http.Request) {
	since, until, err := ParseGraphsQuery(r.URL.Query())
	if err != nil {
		badRequest(w, err)
		return
	}
	writeJSON(w, http.StatusOK, c.Graphs(since, until))
}

// errorBody is the JSON of a refused request.
type errorBody struct {
	Error     string `json:"error"`
	Parameter string `json:"parameter,omitempty"`
}

func badRequest(w http.ResponseWriter, err error) {
	body := errorBody{Error: err.Error()}
	var pe *ParamError
	if errors.As(err, &pe) {
		body.Parameter = pe.Param
	}
	writeJSON(w, http.StatusBadRequest, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

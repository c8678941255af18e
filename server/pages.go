package main

import (
	"net/http"
	"strings"

	"github.com/dashstream/dashstream/app/viewroute"
	"github.com/dashstream/dashstream/protocol/pricing"
)

// pricesPath is where the dashboard (session.PricesPath) fetches prices.
const pricesPath = "/api/prices"

// pricesHandler serves the effective LLM price table (the built-in one
// merged with --prices) in the form pricing.Parse reads: the dashboard
// prices each LLM call with it, as the gateway prices its run catalog.
func pricesHandler(t *pricing.Table) http.HandlerFunc {
	if t == nil {
		t = pricing.Builtin()
	}
	return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, t) }
}

// notFoundStatus serves the dashboard's pages through pages (go-app's
// handler, which renders the app's own not-found page for any path the
// routes do not name) and answers such a path with 404 instead of 200, so
// a link checker or a crawler is told the truth while a person sees the
// app with its header and a way back.
func notFoundStatus(pages http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if viewroute.Parse(r.URL).Page == viewroute.NotFound {
			w = &statusRewriter{ResponseWriter: w}
		}
		pages.ServeHTTP(w, r)
	})
}

// statusRewriter turns the 200 of an HTML page into a 404; go-app's own
// resources (app.js, the manifest, …) are not HTML and keep their status.
type statusRewriter struct {
	http.ResponseWriter
	wrote bool
}

func (s *statusRewriter) WriteHeader(code int) {
	if !s.wrote && code == http.StatusOK && strings.HasPrefix(s.Header().Get("Content-Type"), "text/html") {
		code = http.StatusNotFound
	}
	s.wrote = true
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRewriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRewriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// favicon answers /favicon.ico, which browsers ask for on any page
// (including a plain-text error), with the dashboard's icon.
func favicon(web http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/web/icon.png"
		web.ServeHTTP(w, r2)
	}
}

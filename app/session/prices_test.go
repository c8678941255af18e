//go:build !(js && wasm)

package session

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/dashstream/dashstream/protocol/pricing"
)

func TestPrices_FetchedOnceFromTheGateway(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != PricesPath {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		w.Write([]byte(`{"house-model":{"input_per_million":1,"output_per_million":2}}`))
	}))
	defer srv.Close()
	p := NewPrices(srv.URL + "/")
	eventually(t, "the price table", func() bool { return p.Table() != nil })
	if c, ok := p.Table().Cost("house-model", 1_000_000, 1_000_000); !ok || c != 3 {
		t.Errorf("cost from the fetched table: %v %v", c, ok)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

func TestPrices_ABadAnswerLeavesNoTableAndSaysWhy(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"not found": func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
		"not json":  func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) },
		"negative": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"m":{"input_per_million":-1,"output_per_million":1}}`))
		},
		"too large": func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, pricing.MaxFileBytes+1)) },
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			p := NewPrices(srv.URL)
			p.Table()
			eventually(t, "the failure", func() bool { return p.Err() != nil })
			if p.Table() != nil {
				t.Error("a bad answer must leave no table")
			}
			if name == "negative" && !errors.Is(p.Err(), pricing.ErrInvalid) {
				t.Errorf("error %v does not wrap pricing.ErrInvalid", p.Err())
			}
		})
	}
}

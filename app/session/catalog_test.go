//go:build !(js && wasm)

package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dashstream/dashstream/app/catalog"
	"github.com/dashstream/dashstream/protocol"
	servercatalog "github.com/dashstream/dashstream/server/catalog"
)

// TestCatalog_FetchesThePagesOfTheGatewaysCatalog: the session's requests
// against the real catalog handler, fed the records a gateway forwards.
func TestCatalog_FetchesThePagesOfTheGatewaysCatalog(t *testing.T) {
	cat := servercatalog.New(servercatalog.Config{Logger: quiet})
	off := int64(0)
	for _, th := range []string{"a", "b", "c", "team/d"} {
		observe(t, cat, &off, events(t, th, 1, 4)...)
	}
	mux := http.NewServeMux()
	cat.Routes(mux, nil)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s, err := New(Config{BaseURL: srv.URL, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := s.CatalogRuns(ctx, catalog.Query{Limit: 3})
	if err != nil || len(p.Runs) != 3 || p.Total != 4 || p.Next == "" {
		t.Fatalf("first page: %+v, %v", p, err)
	}
	p2, err := s.CatalogRuns(ctx, catalog.Query{Limit: 3, Next: p.Next})
	if err != nil || len(p2.Runs) != 1 || p2.Next != "" {
		t.Fatalf("second page: %+v, %v", p2, err)
	}
	if r, found, err := s.CatalogRun(ctx, "team/d"); err != nil || !found || r.MessageCount != 4 {
		t.Errorf("one run: %+v %v %v", r, found, err)
	}
	if _, found, err := s.CatalogRun(ctx, "nope"); err != nil || found {
		t.Errorf("unknown run: found %v, %v", found, err)
	}
	if g, err := s.CatalogGraphs(ctx); err != nil || g.Total.Runs != 4 {
		t.Errorf("graphs: %+v, %v", g, err)
	}
	if _, err := s.CatalogRuns(ctx, catalog.Query{Limit: 9999}); !errors.Is(err, ErrBadResponse) {
		t.Errorf("a refused request: %v", err)
	}

	empty := httptest.NewServer(http.NotFoundHandler())
	defer empty.Close()
	s2, _ := New(Config{BaseURL: empty.URL, Logger: quiet})
	if _, err := s2.CatalogRuns(ctx, catalog.Query{}); !errors.Is(err, ErrNoCatalog) {
		t.Errorf("a server without a catalog: %v", err)
	}
}

// TestCatalog_PagingThroughTenThousandRuns: the runs list's paging (List)
// through the session's requests and the real handler, 10,000 runs of
// which a hundred start while it pages: every run retained at the start is
// seen exactly once.
func TestCatalog_PagingThroughTenThousandRuns(t *testing.T) {
	cat := servercatalog.New(servercatalog.Config{Logger: quiet})
	off := int64(0)
	add := func(th string) { observe(t, cat, &off, event(t, th, 1)) }
	for i := range 10_000 {
		add(fmt.Sprintf("r%05d", i))
	}
	mux := http.NewServeMux()
	cat.Routes(mux, nil)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s, err := New(Config{BaseURL: srv.URL, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	l := catalog.NewList(catalog.MaxPage)
	seen := map[string]int{}
	for page := 0; ; page++ {
		q, gen, due := l.Request()
		if !due {
			t.Fatal("nothing to ask")
		}
		p, err := s.CatalogRuns(context.Background(), q)
		if !l.Loaded(gen, p, err) || err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		rows, _ := l.Rows(nil)
		for _, r := range rows {
			seen[r.ThreadID]++
		}
		if page < 100 {
			add(fmt.Sprintf("new%03d", page)) // a run starts meanwhile
		}
		if !l.Older() {
			break
		}
	}
	for i := range 10_000 {
		if th := fmt.Sprintf("r%05d", i); seen[th] != 1 {
			t.Fatalf("%s seen %d times over %d pages", th, seen[th], l.PageNumber())
		}
	}
}

// observe feeds values to the catalog as the gateway's source does, at the
// next offsets of partition 0.
func observe(t *testing.T, cat *servercatalog.Catalog, off *int64, values ...[]byte) {
	t.Helper()
	for _, v := range values {
		msg, err := protocol.Decode(v)
		if err != nil {
			t.Fatal(err)
		}
		cat.Observe(0, *off, msg)
		*off++
	}
}

package main

import (
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/protocol/pricing"
)

func TestGateway_ServesTheEffectivePriceTable(t *testing.T) {
	if session.PricesPath != pricesPath {
		t.Fatalf("the dashboard fetches %s, the gateway serves %s", session.PricesPath, pricesPath)
	}
	file := filepath.Join(t.TempDir(), "prices.json")
	os.WriteFile(file, []byte(`{"house-llm":{"input_per_million":4,"output_per_million":8}}`), 0o644)
	_, srv := startGateway(t, testWeb(t), "--prices", file)
	resp, body := get(t, srv.URL+pricesPath, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	table, err := pricing.Parse(body)
	if err != nil {
		t.Fatalf("the served table does not parse back: %v\n%.300s", err, body)
	}
	if c, ok := table.Cost("house-llm", 1_000_000, 1_000_000); !ok || c != 12 {
		t.Errorf("the file's model: %v %v", c, ok)
	}
	if _, ok := table.Lookup("gpt-4o-mini"); !ok || table.Len() != pricing.Builtin().Len()+1 {
		t.Errorf("the built-in table, extended: %d models", table.Len())
	}
}

func TestGateway_UnknownPathsGetTheAppsNotFoundPageWith404(t *testing.T) {
	_, srv := startGateway(t, testWeb(t))
	cases := []struct {
		path   string
		status int
		body   string
	}{
		{"/no/such/page", http.StatusNotFound, "Page not found"},
		{"/compare/x", http.StatusNotFound, "Page not found"},
		{"/runs", http.StatusOK, "Runs"},
		{"/runs/some-thread", http.StatusOK, "some-thread"},
		{"/compare?a=x&b=y", http.StatusOK, "Compare"},
		{"/app.js", http.StatusOK, ""},
		{"/manifest.webmanifest", http.StatusOK, ""},
	}
	for _, c := range cases {
		resp, body := get(t, srv.URL+c.path, nil)
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.body) {
			t.Errorf("GET %s: %s, body has %q: %v", c.path, resp.Status, c.body, strings.Contains(string(body), c.body))
		}
		if c.status == http.StatusNotFound {
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("GET %s: %s, want the app's HTML page", c.path, ct)
			}
			if !strings.Contains(string(body), `id="status-bar"`) || !strings.Contains(string(body), `href="/runs"`) {
				t.Errorf("GET %s: not the app's page:\n%.400s", c.path, body)
			}
		}
	}
	resp, body := get(t, srv.URL+"/favicon.ico", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "\x89PNG") {
		t.Errorf("favicon: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
}

// The run catalog prices its rows with the same effective table the
// gateway serves, so --prices changes the list's costs, not only the run
// page's.
func TestGateway_CatalogPricesRunsWithThePricesFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "prices.json")
	// A cent a prompt token and nothing for completions: a run's cost is
	// then its prompt tokens / 100, whatever the built-in prices are.
	os.WriteFile(file, []byte(`{
		"gpt-4o-mini":{"input_per_million":10000,"output_per_million":0},
		"claude-3-5-sonnet":{"input_per_million":10000,"output_per_million":0},
		"llama-3.1-70b-instruct":{"input_per_million":10000,"output_per_million":0},
		"mistral-large":{"input_per_million":10000,"output_per_million":0}}`), 0o644)
	_, srv := startGateway(t, testWeb(t), "--prices", file, "--demo", "on", "--demo-rate", "240")
	waitCatalog(t, srv.URL, 1)
	deadline := time.Now().Add(time.Minute)
	for priced := 0; priced < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("%d runs with priced LLM calls in the catalog after a minute", priced)
		}
		time.Sleep(200 * time.Millisecond)
		priced = 0
		for _, r := range apiRuns(t, srv.URL) {
			if r.LLMCalls == 0 || r.UnpricedCalls > 0 {
				continue
			}
			if want := float64(r.PromptTokens) / 100; r.CostUSD == nil || math.Abs(*r.CostUSD-want) > 1e-9*want {
				t.Fatalf("run %s: %d prompt tokens at a cent each cost %v", r.ThreadID, r.PromptTokens, r.CostUSD)
			}
			priced++
		}
	}
}

package ui

import (
	"encoding/base64"
	"encoding/json"
	"sync"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// Seeds carry the catalog answers the server used to prerender a page into
// the browser, so the rows on screen stay there when the wasm takes the
// page over, instead of blinking out until the same request is made
// again: the prerendered page holds each answer in a hidden element (its
// request path and JSON body), which the browser build reads once at start
// (seed_js.go) and the page uses once for its first request, asking the
// server again right after.

// seedClass marks the hidden elements that carry seeds.
const seedClass = "catalog-seed"

var seeds struct {
	mu     sync.Mutex
	bodies map[string][]byte
}

// takeSeed returns the prerendered answer of path, once.
func takeSeed(path string) ([]byte, bool) {
	seeds.mu.Lock()
	defer seeds.mu.Unlock()
	b, ok := seeds.bodies[path]
	delete(seeds.bodies, path)
	return b, ok
}

// putSeed records a seed read from the page (seed_js.go): body is the
// base64 of the answer.
func putSeed(path, body string) {
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return
	}
	seeds.mu.Lock()
	defer seeds.mu.Unlock()
	if seeds.bodies == nil {
		seeds.bodies = map[string][]byte{}
	}
	seeds.bodies[path] = b
}

// seedElement renders the answer v of path into the prerendered page (only
// on the server: the browser reads seeds, it does not write them).
func seedElement(path string, v any) app.UI {
	if !app.IsServer {
		return nil
	}
	return renderSeed(path, v)
}

// renderSeed renders the hidden element carrying the answer v of path.
func renderSeed(path string, v any) app.UI {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	// Base64: go-app writes attribute values without escaping quotes.
	return app.Div().Class(seedClass).Hidden(true).DataSet("path", path).DataSet("body", base64.StdEncoding.EncodeToString(b))
}

package httpguard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// DNS rebinding: a page at http://evil.example whose name now points at the
// server sends Host: evil.example (and a matching Origin, so the Origin
// check alone passes it). Names the server does not know are refused.
func TestHostCheck_RebindingNamesRefused(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	hosts := []struct {
		host  string
		known bool
	}{
		{"evil.example", false},
		{"evil.example:8080", false},
		{"localhost.evil.example", false},
		{"127.0.0.1.nip.io", false},
		{"example.com.evil.net", false},
		{"myhost.evil.example", false},
		{"localhost", true},
		{"LOCALHOST.:8080", true},
		{"app.localhost:8080", true},
		{"127.0.0.1:8080", true},
		{"127.0.0.1.:8080", true},
		{"[::1]:8080", true},
		{"192.0.2.10:8080", true}, // an address: the page is the server's own origin
		{"[2001:db8::1]", true},
		{"myhost:8080", true},       // the machine's own name
		{"myhost.local", true},      // and its mDNS name
		{"dash.example.com", true},  // listed pattern
		{"DASH.EXAMPLE.COM.", true}, // case and trailing dot
		{"example.com", false},      // the pattern needs a subdomain
		{"pinned.corp:9000", true},  // listed with its port
		{"pinned.corp:9001", false}, // another port
	}
	paths := []struct {
		path    string
		guarded bool // refused to unknown names even beyond loopback
	}{{"/", false}, {"/web/app.wasm", false}, {"/version", false}, {"/ws", true}, {"/api/expected-schema", true}, {"/api/runs", true}}
	for _, loopbackOnly := range []bool{true, false} {
		g := New(Config{LoopbackOnly: loopbackOnly, Hostnames: []string{"myhost", "myhost.local"}, AllowedHosts: []string{"*.example.com", "pinned.corp:9000"}})
		h := g.Handler(ok)
		for _, hc := range hosts {
			for _, pc := range paths {
				r := httptest.NewRequest("GET", pc.path, nil)
				r.Host = hc.host
				r.Header.Set("Origin", "http://"+hc.host)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				want := http.StatusOK
				if !hc.known && (loopbackOnly || pc.guarded) {
					want = http.StatusMisdirectedRequest
				}
				if w.Code != want {
					t.Errorf("loopback-only %v, Host %q, %s: %d, want %d", loopbackOnly, hc.host, pc.path, w.Code, want)
				}
			}
		}
	}
}

func TestHostCheck_StarAllowsAny(t *testing.T) {
	g := New(Config{LoopbackOnly: true, AllowedHosts: []string{"*"}})
	r := httptest.NewRequest("GET", "/ws", nil)
	r.Host = "anything.example"
	w := httptest.NewRecorder()
	g.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})).ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("%d", w.Code)
	}
}

// FuzzHostPolicy: no input panics, and no name under an attacker's domain
// passes, whatever it starts with.
func FuzzHostPolicy(f *testing.F) {
	for _, s := range []string{"evil.example", "[::1]:80", "[", "]:", "localhost.", "::1", "a:b:c", "\xff", "*.example.com", "127.0.0.1", "myhost"} {
		f.Add(s)
	}
	hp := newHostPolicy([]string{"*.example.com", "x:1"}, []string{"myhost"})
	f.Fuzz(func(t *testing.T, host string) {
		hp.allowed(host)
		if strings.ContainsAny(host, ":[]") {
			return
		}
		for _, suffix := range []string{".evil.example", ".evil.example:8080", ".evil.example."} {
			if hp.allowed(host + suffix) {
				t.Fatalf("%q allowed", host+suffix)
			}
		}
	})
}

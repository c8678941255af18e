package admit

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestOriginAllowed(t *testing.T) {
	g := New(Policy{AllowedOrigins: []string{"*.example.com", "dash.corp:8443"}}, nil)
	cases := map[string]bool{
		"":                         true,
		"http://gw.local:8080":     true, // same origin (Host below)
		"http://localhost:5173":    true,
		"http://[::1]:1":           true,
		"https://a.example.com":    true,
		"https://dash.corp:8443":   true,
		"https://dash.corp":        false,
		"https://example.com.evil": false,
		"null":                     false,
		"http://%zz":               false,
		"file://":                  false,
	}
	for origin, want := range cases {
		r := httptest.NewRequest("GET", "http://gw.local:8080/ws", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if got := g.OriginAllowed(r); got != want {
			t.Errorf("origin %q: %v, want %v", origin, got, want)
		}
	}
}

func TestAdmit_TokenSourcesAndAdmin(t *testing.T) {
	g := New(Policy{AuthToken: "user", AdminToken: "admin"}, nil)
	cases := []struct {
		name  string
		setup func(r *http.Request)
		ok    bool
		admin bool
	}{
		{"none", func(*http.Request) {}, false, false},
		{"query", func(r *http.Request) { r.URL.RawQuery = "token=user" }, true, false},
		{"subprotocol", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Protocol", "dashstream.v1, bearer.user") }, true, false},
		{"header", func(r *http.Request) { r.Header.Set("Authorization", "Bearer user") }, true, false},
		{"admin", func(r *http.Request) { r.URL.RawQuery = "token=admin" }, true, true},
		{"wrong", func(r *http.Request) { r.URL.RawQuery = "token=users" }, false, false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "http://h/ws", nil)
		c.setup(r)
		w := httptest.NewRecorder()
		tk, ok := g.Admit(w, r)
		if ok != c.ok || tk.Admin != c.admin {
			t.Errorf("%s: ok %v admin %v (status %d)", c.name, ok, tk.Admin, w.Code)
		}
		if ok {
			tk.Release()
		} else if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d", c.name, w.Code)
		}
	}
}

// FuzzAdmission: hostile headers never panic the gate, and a refused
// request never keeps a slot.
func FuzzAdmission(f *testing.F) {
	f.Add("10.0.0.1:5", "1.2.3.4, 10.0.0.2", "https://x.example.com", "bearer.t", "token=t")
	f.Add("garbage", "\xff,,,", "%", "bearer.", "token=%zz")
	f.Add("[::1]:80", "::ffff:1.2.3.4", "null", "", "")
	g := New(Policy{MaxPerIP: 1, TrustedProxies: []string{"10.0.0.1"}, AllowedOrigins: []string{"*.example.com"}, AuthToken: "t"}, nil)
	f.Fuzz(func(t *testing.T, remote, xff, origin, proto, query string) {
		r := httptest.NewRequest("GET", "http://h/ws", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-WebSocket-Protocol", proto)
		r.URL.RawQuery = query
		tk, ok := g.Admit(httptest.NewRecorder(), r)
		if ok {
			tk.Release()
		}
		// With the slot released, the same client is admitted again.
		if tk2, ok2 := g.Admit(httptest.NewRecorder(), r); ok2 != ok {
			t.Fatalf("admission changed between identical requests (leaked slot?)")
		} else if ok2 {
			tk2.Release()
		}
	})
}

func TestAuthorize_APIRequestsNeedTheTokenAndAnAllowedOriginButNoConnectionSlot(t *testing.T) {
	g := New(Policy{AuthToken: "user", AdminToken: "admin", MaxPerIP: 1}, nil)
	cases := []struct {
		name   string
		setup  func(r *http.Request)
		status int // 0: admitted
	}{
		{"no token", func(*http.Request) {}, http.StatusUnauthorized},
		{"query token", func(r *http.Request) { r.URL.RawQuery = "token=user" }, 0},
		{"header token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer user") }, 0},
		{"admin token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer admin") }, 0},
		{"wrong token", func(r *http.Request) { r.URL.RawQuery = "token=nope" }, http.StatusUnauthorized},
		{"foreign origin", func(r *http.Request) { r.URL.RawQuery = "token=user"; r.Header.Set("Origin", "https://evil.example") }, http.StatusForbidden},
	}
	// A WebSocket holding the IP's only slot must not lock the API out.
	ws := httptest.NewRequest("GET", "http://h/ws?token=user", nil)
	tk, ok := g.Admit(httptest.NewRecorder(), ws)
	if !ok {
		t.Fatal("the WebSocket was refused")
	}
	defer tk.Release()
	for _, c := range cases {
		r := httptest.NewRequest("GET", "http://h/api/runs", nil)
		c.setup(r)
		w := httptest.NewRecorder()
		ok := g.Authorize(w, r)
		if ok != (c.status == 0) || (!ok && w.Code != c.status) {
			t.Errorf("%s: admitted %v, status %d; want status %d (0: admitted)", c.name, ok, w.Code, c.status)
		}
	}
}

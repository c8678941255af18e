package admit

import (
	"errors"
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

func TestAllowRead_APIRequestsNeedTheTokenAndAnAllowedOriginButNoConnectionSlot(t *testing.T) {
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
		ok := g.AllowRead(w, r)
		if ok != (c.status == 0) || (!ok && w.Code != c.status) {
			t.Errorf("%s: admitted %v, status %d; want status %d (0: admitted)", c.name, ok, w.Code, c.status)
		}
	}
}

// Two X-Forwarded-For lines are one list (RFC 9110 §5.3): the client is the
// right-most untrusted address across all of them, so a client cannot pick
// a fresh address per connection by adding a line of its own.
func TestClientIP_XFFAcrossHeaderLines(t *testing.T) {
	g := New(Policy{MaxPerIP: 1, TrustedProxies: []string{"10.0.0.1"}}, nil)
	cases := []struct {
		name  string
		lines []string
		want  string
	}{
		{"one line", []string{"9.9.9.9, 1.2.3.4"}, "1.2.3.4"},
		{"client line first", []string{"6.6.6.6", "1.2.3.4"}, "1.2.3.4"},
		{"proxy appends a line", []string{"6.6.6.6, 7.7.7.7", "1.2.3.4, 10.0.0.1"}, "1.2.3.4"},
		{"garbage in the last line", []string{"6.6.6.6", "1.2.3.4, nonsense"}, "1.2.3.4"},
		{"empty lines", []string{"", "1.2.3.4", ""}, "1.2.3.4"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "http://h/ws", nil)
		r.RemoteAddr = "10.0.0.1:555"
		for _, l := range c.lines {
			r.Header.Add("X-Forwarded-For", l)
		}
		if got := g.ClientIP(r); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	// The per-IP limit holds when the attacker varies an extra leading line.
	first := httptest.NewRequest("GET", "http://h/ws", nil)
	first.RemoteAddr = "10.0.0.1:1"
	first.Header.Add("X-Forwarded-For", "5.5.5.5")
	first.Header.Add("X-Forwarded-For", "1.2.3.4")
	tk, ok := g.Admit(httptest.NewRecorder(), first)
	if !ok {
		t.Fatal("first connection refused")
	}
	defer tk.Release()
	second := httptest.NewRequest("GET", "http://h/ws", nil)
	second.RemoteAddr = "10.0.0.1:2"
	second.Header.Add("X-Forwarded-For", "8.8.8.8")
	second.Header.Add("X-Forwarded-For", "1.2.3.4")
	w := httptest.NewRecorder()
	if tk2, ok := g.Admit(w, second); ok {
		tk2.Release()
		t.Fatal("second connection of 1.2.3.4 admitted past the per-IP limit of 1")
	}
	if w.Code != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429", w.Code)
	}
}

// Changes (the expected-schema API) follow the /ws token rules when a token
// is configured, and are loopback-only when none is.
func TestAuthorize_TokenRulesAndLoopback(t *testing.T) {
	cases := []struct {
		name   string
		policy Policy
		remote string
		setup  func(r *http.Request)
		admin  bool
		err    error
	}{
		{"no token, loopback", Policy{}, "127.0.0.1:1", nil, false, nil},
		{"no token, ::1", Policy{}, "[::1]:1", nil, false, nil},
		{"no token, remote", Policy{}, "192.0.2.7:1", nil, false, ErrNotLoopback},
		{"no token, remote behind trusted loopback proxy", Policy{TrustedProxies: []string{"127.0.0.1"}}, "127.0.0.1:1",
			func(r *http.Request) { r.Header.Set("X-Forwarded-For", "192.0.2.7") }, false, ErrNotLoopback},
		{"no token, foreign origin", Policy{}, "127.0.0.1:1", func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, false, ErrOrigin},
		{"token, none offered, even from loopback", Policy{AuthToken: "user"}, "127.0.0.1:1", nil, false, ErrUnauthorized},
		{"token, bearer header", Policy{AuthToken: "user"}, "192.0.2.7:1", func(r *http.Request) { r.Header.Set("Authorization", "Bearer user") }, false, nil},
		{"token, bare Authorization refused", Policy{AuthToken: "user"}, "192.0.2.7:1", func(r *http.Request) { r.Header.Set("Authorization", "user") }, false, ErrUnauthorized},
		{"token, query", Policy{AuthToken: "user"}, "192.0.2.7:1", func(r *http.Request) { r.URL.RawQuery = "token=user" }, false, nil},
		{"token, wrong", Policy{AuthToken: "user"}, "192.0.2.7:1", func(r *http.Request) { r.Header.Set("Authorization", "Bearer userx") }, false, ErrUnauthorized},
		{"admin token only, empty offered", Policy{AdminToken: "adm"}, "127.0.0.1:1", func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") }, false, ErrUnauthorized},
		{"admin token", Policy{AuthToken: "user", AdminToken: "adm"}, "192.0.2.7:1", func(r *http.Request) { r.Header.Set("Authorization", "Bearer adm") }, true, nil},
	}
	for _, c := range cases {
		g := New(c.policy, nil)
		r := httptest.NewRequest("PUT", "http://h/api/expected-schema/g", nil)
		r.RemoteAddr = c.remote
		if c.setup != nil {
			c.setup(r)
		}
		admin, err := g.Authorize(r)
		if admin != c.admin || !errors.Is(err, c.err) {
			t.Errorf("%s: admin %v err %v, want %v %v", c.name, admin, err, c.admin, c.err)
		}
	}
}

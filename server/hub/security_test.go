package hub

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/admit"
)

func dialStatus(t *testing.T, g *gateway, url string, opts *websocket.DialOptions) (int, *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, url, opts)
	if err == nil {
		t.Cleanup(func() { ws.CloseNow() })
		return http.StatusSwitchingProtocols, ws
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return resp.StatusCode, nil
}

func TestAdmission_OriginAllowlist(t *testing.T) {
	g := newGateway(t, Config{Admission: admit.Policy{AllowedOrigins: []string{"*.example.com"}}}, nil, nil, nil)
	cases := map[string]int{
		"":                         http.StatusSwitchingProtocols, // not a browser
		"http://localhost:3000":    http.StatusSwitchingProtocols,
		"http://127.0.0.1:9":       http.StatusSwitchingProtocols,
		"https://dash.example.com": http.StatusSwitchingProtocols,
		"https://evil.test":        http.StatusForbidden,
		"null":                     http.StatusForbidden,
	}
	for origin, want := range cases {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		if got, _ := dialStatus(t, g, g.url(), &websocket.DialOptions{HTTPHeader: h}); got != want {
			t.Errorf("origin %q: %d, want %d", origin, got, want)
		}
	}
}

func TestAdmission_TokenFromQueryOrSubprotocol(t *testing.T) {
	g := newGateway(t, Config{Admission: admit.Policy{AuthToken: "t0ken"}}, nil, nil, nil)
	if got, _ := dialStatus(t, g, g.url(), nil); got != http.StatusUnauthorized {
		t.Errorf("no token: %d", got)
	}
	if got, _ := dialStatus(t, g, g.url()+"?token=wrong", nil); got != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", got)
	}
	if got, _ := dialStatus(t, g, g.url()+"?token=t0ken", nil); got != http.StatusSwitchingProtocols {
		t.Errorf("query token: %d", got)
	}
	got, ws := dialStatus(t, g, g.url(), &websocket.DialOptions{Subprotocols: []string{admit.Subprotocol, "bearer.t0ken"}})
	if got != http.StatusSwitchingProtocols || ws.Subprotocol() != admit.Subprotocol {
		t.Errorf("subprotocol token: %d, selected %q", got, ws.Subprotocol())
	}
	// A browser that offers only its token must get it selected, or the
	// handshake fails on its side.
	got, ws = dialStatus(t, g, g.url(), &websocket.DialOptions{Subprotocols: []string{"bearer.t0ken"}})
	if got != http.StatusSwitchingProtocols || ws.Subprotocol() != "bearer.t0ken" {
		t.Errorf("token-only offer: %d, selected %q", got, ws.Subprotocol())
	}
}

func TestAdmission_PerIPLimitAndNoSlotLeak(t *testing.T) {
	g := newGateway(t, Config{Admission: admit.Policy{MaxPerIP: 2}}, nil, nil, nil)
	_, a := dialStatus(t, g, g.url(), nil)
	_, b := dialStatus(t, g, g.url(), nil)
	waitClients(t, g, 2)
	if got, _ := dialStatus(t, g, g.url(), nil); got != http.StatusTooManyRequests {
		t.Fatalf("third connection: %d, want 429", got)
	}
	// Rejected and failed upgrades must not keep slots.
	for range 5 {
		h := http.Header{"Origin": {"https://evil.test"}}
		dialStatus(t, g, g.url(), &websocket.DialOptions{HTTPHeader: h})
	}
	a.Close(websocket.StatusNormalClosure, "")
	waitClients(t, g, 1)
	if got, _ := dialStatus(t, g, g.url(), nil); got != http.StatusSwitchingProtocols {
		t.Errorf("after a close the slot was not released: %d", got)
	}
	_ = b
}

func TestAdmission_TrustedProxyClientIP(t *testing.T) {
	gate := admit.New(admit.Policy{TrustedProxies: []string{"10.0.0.1", "10.0.0.2"}}, nil)
	cases := []struct{ remote, xff, want string }{
		{"10.0.0.1:5", "1.2.3.4, 10.0.0.2", "1.2.3.4"},
		{"10.0.0.1:5", "garbage, 5.6.7.8", "5.6.7.8"},
		{"10.0.0.1:5", "", "10.0.0.1"},
		{"9.9.9.9:5", "1.2.3.4", "9.9.9.9"}, // an untrusted peer cannot spoof
		{"[::1]:5", "1.2.3.4", "::1"},
	}
	for _, c := range cases {
		r, _ := http.NewRequest("GET", "/ws", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := gate.ClientIP(r); got != c.want {
			t.Errorf("peer %s XFF %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

func TestCursorReset_ScopedToTheCallerUnlessAdmin(t *testing.T) {
	g := newGateway(t, Config{Admission: admit.Policy{AdminToken: "adm1n"}}, nil, nil, nil)
	g.produce(0, 10)
	c := g.dial(nil)
	c.send(&control.CursorReset{})
	_, done := until[*control.CursorResetComplete](c)
	if done.BufferCleared || done.LatestOffsetsByPartition[0] != 9 {
		t.Errorf("plain reset: %s", done.AppendJSON(nil))
	}
	if _, _, ok, _ := g.store.Bounds(context.Background(), 0); !ok {
		t.Fatal("a plain client cleared the shared store")
	}
	c.send(&control.CursorReset{AdminToken: "wrong"})
	if _, done := until[*control.CursorResetComplete](c); done.BufferCleared {
		t.Error("a wrong admin token cleared the store")
	}
	c.send(&control.CursorReset{AdminToken: "adm1n"})
	if _, done := until[*control.CursorResetComplete](c); !done.BufferCleared {
		t.Errorf("admin reset: %s", done.AppendJSON(nil))
	}
	if _, _, ok, _ := g.store.Bounds(context.Background(), 0); ok {
		t.Error("admin reset left records in the store")
	}
}

func TestShutdown_ClosesClientsWith1001(t *testing.T) {
	g := newGateway(t, Config{}, nil, nil, nil)
	c := g.dial(nil)
	waitClients(t, g, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go g.hub.Shutdown(ctx)
	_, err := c.next(10 * time.Second)
	if st := websocket.CloseStatus(err); st != websocket.StatusGoingAway {
		t.Errorf("closed with %v (%v), want 1001", st, err)
	}
	if got, _ := dialStatus(t, g, g.url(), nil); got != http.StatusServiceUnavailable {
		t.Errorf("connecting during shutdown: %d", got)
	}
	_ = strings.Contains
}

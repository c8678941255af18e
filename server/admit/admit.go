// Package admit guards the WebSocket endpoint: a per-IP connection limit
// (answered 429), an optional bearer token (401) that browsers send as a
// query parameter or a second offered subprotocol (they cannot set headers),
// and an Origin allowlist (403) against cross-site WebSocket hijacking. The
// client IP comes from X-Forwarded-For only when the peer is a trusted proxy.
package admit

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
)

// Subprotocol is the WebSocket subprotocol the gateway selects when offered.
const Subprotocol = "dashstream.v1"

// BearerPrefix starts the offered subprotocol that carries a token:
// new WebSocket(url, ["dashstream.v1", "bearer.<token>"]).
const BearerPrefix = "bearer."

// Policy configures a Gate.
type Policy struct {
	MaxPerIP       int
	TrustedProxies []string
	// AllowedOrigins are extra host patterns (path.Match syntax, e.g.
	// "*.example.com"); the page's own origin and localhost always pass.
	AllowedOrigins []string
	AuthToken      string // required when set
	AdminToken     string // also admits, and marks the connection admin
}

// Ticket is an admitted connection.
type Ticket struct {
	IP    string
	Admin bool
	// Subprotocols to offer to websocket.Accept: ours, plus the client's
	// bearer offer if it made one (a browser fails the handshake unless one
	// of its offers is selected).
	Subprotocols []string
	release      func()
}

// Release frees the connection's per-IP slot; call it when the connection
// ends, upgraded or not.
func (t Ticket) Release() { t.release() }

// Gate admits connections.
type Gate struct {
	p       Policy
	trusted map[string]bool
	reject  func(reason string)

	mu sync.Mutex
	n  map[string]int
}

// New returns a Gate; reject (may be nil) is told the reason of every
// refusal: "per_ip_limit", "unauthorized" or "origin".
func New(p Policy, reject func(reason string)) *Gate {
	if p.MaxPerIP <= 0 {
		p.MaxPerIP = 10
	}
	if reject == nil {
		reject = func(string) {}
	}
	t := map[string]bool{}
	for _, ip := range p.TrustedProxies {
		if a := net.ParseIP(ip); a != nil {
			t[a.String()] = true
		}
	}
	return &Gate{p: p, trusted: t, reject: reject, n: map[string]int{}}
}

// Admit checks r. When it refuses, it has written the HTTP answer and ok is
// false; otherwise the caller must Release the ticket when done.
func (g *Gate) Admit(w http.ResponseWriter, r *http.Request) (t Ticket, ok bool) {
	ip := g.ClientIP(r)
	if !g.acquire(ip) {
		g.reject("per_ip_limit")
		http.Error(w, "Too many connections from this IP", http.StatusTooManyRequests)
		return Ticket{}, false
	}
	release := func() { g.release(ip) }
	token, offer := offeredToken(r)
	admin := g.p.AdminToken != "" && equal(token, g.p.AdminToken)
	if g.p.AuthToken != "" && !admin && !equal(token, g.p.AuthToken) {
		release()
		g.reject("unauthorized")
		http.Error(w, "missing or wrong token", http.StatusUnauthorized)
		return Ticket{}, false
	}
	if !g.OriginAllowed(r) {
		release()
		g.reject("origin")
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return Ticket{}, false
	}
	protos := []string{Subprotocol}
	if offer != "" {
		protos = append(protos, offer)
	}
	return Ticket{IP: ip, Admin: admin, Subprotocols: protos, release: release}, true
}

// AllowRead checks a plain HTTP request that reads what /ws would show (the
// run catalog's JSON API) with the rules of Admit, except the per-IP
// connection limit, which counts WebSocket connections: the token, when one
// is configured (the Authorization header, the token query parameter), and
// the Origin. When it refuses, it has written the answer (401 or 403).
func (g *Gate) AllowRead(w http.ResponseWriter, r *http.Request) bool {
	token, _ := offeredToken(r)
	admin := g.p.AdminToken != "" && equal(token, g.p.AdminToken)
	if g.p.AuthToken != "" && !admin && !equal(token, g.p.AuthToken) {
		g.reject("unauthorized")
		http.Error(w, "missing or wrong token", http.StatusUnauthorized)
		return false
	}
	if !g.OriginAllowed(r) {
		g.reject("origin")
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return false
	}
	return true
}

// Refusals of Authorize, for callers that answer each with its own status.
var (
	ErrOrigin       = errors.New("origin not allowed")
	ErrUnauthorized = errors.New("missing or wrong token")
	ErrNotLoopback  = errors.New("no token is configured: changes are accepted from loopback clients only")
)

// Authorize decides whether r may change server state (the expected-schema
// API): a same-site Origin, and then the auth or the admin token, offered as
// on /ws (compared in constant time), when either is configured; with none
// configured, only a loopback client (by ClientIP, so a trusted proxy's
// remote clients are not loopback) may change anything.
func (g *Gate) Authorize(r *http.Request) (admin bool, err error) {
	if !g.OriginAllowed(r) {
		return false, ErrOrigin
	}
	if g.p.AuthToken == "" && g.p.AdminToken == "" {
		if ip := net.ParseIP(g.ClientIP(r)); ip == nil || !ip.IsLoopback() {
			return false, ErrNotLoopback
		}
		return false, nil
	}
	token, _ := offeredToken(r)
	if g.IsAdmin(token) {
		return true, nil
	}
	if g.p.AuthToken != "" && equal(token, g.p.AuthToken) {
		return false, nil
	}
	return false, ErrUnauthorized
}

// IsAdmin reports whether token is the admin token (constant time).
func (g *Gate) IsAdmin(token string) bool {
	return g.p.AdminToken != "" && equal(token, g.p.AdminToken)
}

func offeredToken(r *http.Request) (token, offer string) {
	for _, p := range strings.Split(r.Header.Get("Sec-WebSocket-Protocol"), ",") {
		if p = strings.TrimSpace(p); strings.HasPrefix(p, BearerPrefix) {
			return strings.TrimPrefix(p, BearerPrefix), p
		}
	}
	if t := r.URL.Query().Get("token"); t != "" {
		return t, ""
	}
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		return strings.TrimPrefix(a, "Bearer "), ""
	}
	return "", ""
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// OriginAllowed accepts requests without an Origin (non-browser clients), the
// page's own origin, any localhost origin and the configured patterns.
func (g *Gate) OriginAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || host == "127.0.0.1" || host == "::1" {
		return true
	}
	for _, pat := range g.p.AllowedOrigins {
		pat = strings.ToLower(pat)
		if ok, _ := path.Match(pat, strings.ToLower(u.Host)); ok {
			return true
		}
		if ok, _ := path.Match(pat, host); ok {
			return true
		}
	}
	return false
}

func (g *Gate) acquire(ip string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n[ip] >= g.p.MaxPerIP {
		return false
	}
	g.n[ip]++
	return true
}

func (g *Gate) release(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n[ip]--; g.n[ip] <= 0 {
		delete(g.n, ip)
	}
}

// TrustedProxy reports whether ip is one of the trusted proxies.
func (g *Gate) TrustedProxy(ip net.IP) bool { return ip != nil && g.trusted[ip.String()] }

// ClientIP is the TCP peer, or, when the peer is a trusted proxy, the
// right-most X-Forwarded-For entry that is not itself a trusted proxy. A
// header from anyone else changes nothing (R13). Several X-Forwarded-For
// lines are one list, in order (RFC 9110 §5.3): reading only the first line
// would let a client choose its address by sending a line of its own.
func (g *Gate) ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer := net.ParseIP(host)
	if peer == nil {
		return host
	}
	if !g.trusted[peer.String()] {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(strings.TrimSpace(hops[i]))
		if ip == nil || g.trusted[ip.String()] {
			continue
		}
		return ip.String()
	}
	return peer.String()
}

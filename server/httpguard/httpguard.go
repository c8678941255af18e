// Package httpguard keeps the gateway's HTTP from being held open or
// misdirected, on every route at once (it wraps the server, not routes):
//
//   - connection caps, per client IP and in total, counted from accept until
//     the connection closes or is upgraded to a WebSocket (from then on the
//     WebSocket admission of server/admit counts it, so nothing is counted
//     twice); a connection over a cap is answered 429 (per IP) or 503 (in
//     total) as soon as its request head arrives, before any body is read,
//     and beyond a small backlog of such refusals new connections are closed
//     at once;
//   - a deadline on reading a request body, and a stall deadline on every
//     piece of a response (extended as bytes flow), so a slow but steady
//     reader still gets a 15 MB app.wasm while one that stops reading is cut
//     off; WebSocket upgrades are exempt (the hub bounds its own sends);
//   - a Host check against DNS rebinding: requests must name the server by a
//     loopback name, an IP address, the machine's host name or a listed
//     pattern, else 421, on every route when the server listens on loopback
//     only and on /ws and /api/ always.
//
// The middleware is hand-written: net/http's own timeouts are per connection
// (ReadTimeout also covers long downloads and cancels their context,
// WriteTimeout has no notion of progress), and no maintained library offers
// per-IP connection caps that hand upgraded connections over.
package httpguard

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Guard. Zero durations and counts take the defaults.
type Config struct {
	// MaxConnsPerIP caps the HTTP connections of one client IP (upgraded
	// WebSockets excluded). Connections from a trusted proxy are counted per
	// request by the client IP it forwards instead.
	MaxConnsPerIP int
	// MaxConns caps all HTTP connections (upgraded WebSockets excluded).
	MaxConns int
	// HeaderTimeout bounds reading a request head (and a new connection's
	// wait for it); IdleTimeout bounds a kept-alive connection's wait for
	// the next request.
	HeaderTimeout, IdleTimeout time.Duration
	// BodyTimeout bounds reading a whole request body.
	BodyTimeout time.Duration
	// WriteStall bounds writing each WriteChunk bytes of a response: the
	// least rate a reader must keep is WriteChunk per WriteStall.
	WriteStall time.Duration

	// LoopbackOnly is true when the server listens on loopback only: then
	// the Host check applies to every route.
	LoopbackOnly bool
	// AllowedHosts are extra Host patterns (path.Match syntax, without or
	// with the port, e.g. "dash.example.com" or "*.corp:8080"); "*" turns
	// the Host check off.
	AllowedHosts []string
	// Hostnames are the machine's own names, accepted as Hosts (default:
	// os.Hostname and its .local mDNS name).
	Hostnames []string

	// TrustedProxy reports whether a TCP peer is a trusted proxy, and
	// ClientIP names the client of a request (both from server/admit).
	TrustedProxy func(net.IP) bool
	ClientIP     func(*http.Request) string

	Log *slog.Logger
}

// Defaults.
const (
	DefaultMaxConnsPerIP = 64
	DefaultMaxConns      = 1024
	DefaultHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout   = 2 * time.Minute
	DefaultBodyTimeout   = 30 * time.Second
	DefaultWriteStall    = 20 * time.Second
	// WriteChunk is the piece of a response each WriteStall covers: with
	// the default stall, a reader must take 3.2 KiB/s (a 15 MB file in 80
	// minutes at worst).
	WriteChunk = 64 << 10
	// maxHeaderBytes bounds a request head (net/http's default is 1 MiB).
	maxHeaderBytes = 64 << 10
)

// Guard holds the connection counts and the Host policy.
type Guard struct {
	cfg   Config
	hosts hostPolicy

	mu       sync.Mutex
	conns    map[net.Conn]*slot
	perIP    map[string]int // counted connections by TCP peer
	reqPerIP map[string]int // in-flight requests through trusted proxies, by client IP
	open     int            // counted connections
	refusing int            // connections marked for refusal, still open
	peak     int            // connections (open+refusing) memory was last given back for
	freeing  bool           // a give-back is scheduled
	freeAt   *time.Timer    // the scheduled give-back; Close stops it
	closed   bool
	flood    bool      // a flood is ebbing: give back at every halving
	lastHost time.Time // last "Host refused" log line

	refused *prometheus.CounterVec
	cut     *prometheus.CounterVec
	gauge   prometheus.GaugeFunc
}

// slot is a connection's standing, decided at accept.
type slot struct {
	ip      string
	counted bool // holds a per-IP (unless from a trusted proxy) and a total slot
	trusted bool // the peer is a trusted proxy
	refuse  int  // 0, or the status its requests get
	acked   func() (uint64, bool)
}

type slotKey struct{}

// New returns a Guard.
func New(cfg Config) *Guard {
	if cfg.MaxConnsPerIP <= 0 {
		cfg.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.HeaderTimeout, DefaultHeaderTimeout}, {&cfg.IdleTimeout, DefaultIdleTimeout}, {&cfg.BodyTimeout, DefaultBodyTimeout}, {&cfg.WriteStall, DefaultWriteStall}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if cfg.Hostnames == nil {
		if h, err := os.Hostname(); err == nil && h != "" {
			cfg.Hostnames = []string{h, h + ".local"}
		}
	}
	if cfg.TrustedProxy == nil {
		cfg.TrustedProxy = func(net.IP) bool { return false }
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = func(r *http.Request) string { return peerIP(r.RemoteAddr) }
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	g := &Guard{
		cfg: cfg, hosts: newHostPolicy(cfg.AllowedHosts, cfg.Hostnames),
		conns: map[net.Conn]*slot{}, perIP: map[string]int{}, reqPerIP: map[string]int{},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dashstream_http_refused_total",
			Help: "HTTP requests and connections refused before any handler: host (421), per_ip_limit (429), total_limit (503), shed (closed unanswered).",
		}, []string{"reason"}),
		cut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dashstream_http_cut_total",
			Help: "HTTP exchanges cut off: body_timeout (request body too slow), write_stall (reader too slow).",
		}, []string{"reason"}),
	}
	g.gauge = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dashstream_http_open_connections",
		Help: "HTTP connections open, upgraded WebSockets excluded.",
	}, func() float64 { return float64(g.Stats().Open) })
	return g
}

// Collectors are the guard's Prometheus metrics.
func (g *Guard) Collectors() []prometheus.Collector {
	return []prometheus.Collector{g.refused, g.cut, g.gauge}
}

// Stats is a snapshot of the counts.
type Stats struct {
	Open     int // counted HTTP connections
	Refusing int // connections marked for refusal, not yet closed
}

// Stats returns the current counts.
func (g *Guard) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return Stats{Open: g.open, Refusing: g.refusing}
}

// Server returns an http.Server that serves h through the guard.
func (g *Guard) Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           g.Handler(h),
		ReadHeaderTimeout: g.cfg.HeaderTimeout,
		IdleTimeout:       g.cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnContext:       g.ConnContext,
		ConnState:         g.ConnState,
	}
}

// ConnContext (http.Server.ConnContext) decides a new connection's standing.
// It runs on the accept loop, so it only counts; a refused connection is
// answered by Handler once its request head arrives, unless too many are
// already waiting, in which case it is closed at once.
func (g *Guard) ConnContext(ctx context.Context, c net.Conn) context.Context {
	s := &slot{ip: peerIP(c.RemoteAddr().String()), acked: ackedBytes(c)}
	s.trusted = g.cfg.TrustedProxy(net.ParseIP(s.ip))
	g.mu.Lock()
	switch {
	case g.open >= g.cfg.MaxConns:
		s.refuse = http.StatusServiceUnavailable
	case !s.trusted && g.perIP[s.ip] >= g.cfg.MaxConnsPerIP:
		s.refuse = http.StatusTooManyRequests
	default:
		s.counted = true
		g.open++
		if !s.trusted {
			g.perIP[s.ip]++
		}
	}
	shed := false
	if s.refuse != 0 {
		// Refusals wait at most HeaderTimeout for their request head; a
		// backlog of one per-IP allowance bounds what they can hold.
		if g.refusing >= g.cfg.MaxConnsPerIP {
			shed = true
		}
		g.refusing++
	}
	g.conns[c] = s
	if n := g.open + g.refusing; n > g.peak && !g.freeing {
		g.peak = n
	}
	g.mu.Unlock()
	if shed {
		g.refused.WithLabelValues("shed").Inc()
		c.Close() // ConnState(StateClosed) follows and releases the slot
	}
	return context.WithValue(ctx, slotKey{}, s)
}

// ConnState (http.Server.ConnState) releases a connection's slot when it
// closes or is hijacked for a WebSocket.
func (g *Guard) ConnState(c net.Conn, state http.ConnState) {
	if state != http.StateClosed && state != http.StateHijacked {
		return
	}
	g.mu.Lock()
	s, ok := g.conns[c]
	if ok {
		delete(g.conns, c)
		if s.counted {
			g.open--
			if !s.trusted {
				if g.perIP[s.ip]--; g.perIP[s.ip] <= 0 {
					delete(g.perIP, s.ip)
				}
			}
		}
		if s.refuse != 0 {
			g.refusing--
		}
	}
	if g.shouldFreeLocked() {
		g.freeAt = time.AfterFunc(freeDelay, g.freeMemory) // let the rest of the wave close first
	}
	g.mu.Unlock()
}

// Memory is given back to the system after a flood: a crowd of connections
// leaves its goroutine stacks and buffers in the heap's free lists, which
// the runtime returns only over minutes. Once a crowd of at least floodSize
// has halved, memory is given back (a forced GC and scavenge, a few ms on
// this heap) freeDelay later, and again at every further halving until the
// crowd is gone: a handful of times per flood.
const (
	floodSize = 512
	floodTail = 16
	freeDelay = 2 * time.Second
)

func (g *Guard) shouldFreeLocked() bool {
	n := g.open + g.refusing
	if (g.peak < floodSize && !g.flood) || n > g.peak/2 || g.freeing || g.closed {
		return false
	}
	g.freeing = true
	return true
}

// freeMemory gives memory back freeDelay after the crowd halved, and is
// scheduled again while it keeps halving; it stops when the crowd holds
// steady or is gone, or when the Guard is closed.
func (g *Guard) freeMemory() {
	g.mu.Lock()
	before := g.open + g.refusing
	closed := g.closed
	g.mu.Unlock()
	if closed {
		return
	}
	debug.FreeOSMemory()
	g.mu.Lock()
	defer g.mu.Unlock()
	// The next give-back waits for this crowd to halve again, unless it
	// is too small to matter.
	g.peak, g.flood = before, before >= floodTail
	if n := g.open + g.refusing; !g.flood || n > before/2 || g.closed {
		g.freeing = false
		return
	}
	g.freeAt = time.AfterFunc(freeDelay, g.freeMemory)
}

// Close stops a scheduled give-back of memory; the Guard still counts
// connections after it (the server may still be closing them).
func (g *Guard) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.freeAt != nil {
		g.freeAt.Stop()
	}
}

// Handler wraps h with the Host check, the refusals decided at accept, the
// per-client caps of proxied requests, and the body and write deadlines.
func (g *Guard) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upgrade := isWebSocket(r)
		rc := http.NewResponseController(w)
		// Refusals too: a client that does not read cannot hold them. (An
		// upgrade's hijack clears it; a refused upgrade needs it.)
		_ = rc.SetWriteDeadline(time.Now().Add(g.cfg.WriteStall))
		if !g.hosts.allowed(r.Host) && (g.cfg.LoopbackOnly || guardedPath(r.URL.Path)) {
			g.refuseHost(w, r)
			return
		}
		s, _ := r.Context().Value(slotKey{}).(*slot)
		if s != nil && s.refuse != 0 {
			g.refuse(w, s.refuse)
			return
		}
		if s != nil && s.trusted && !upgrade {
			ip := g.cfg.ClientIP(r)
			if !g.acquireRequest(ip) {
				g.refuse(w, http.StatusTooManyRequests)
				return
			}
			defer g.releaseRequest(ip)
		}
		if upgrade {
			// No deadlines: hijacking clears the connection's, and the hub
			// bounds every send of its own.
			h.ServeHTTP(w, r)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			_ = rc.SetReadDeadline(time.Now().Add(g.cfg.BodyTimeout))
			r.Body = &timedBody{ReadCloser: r.Body, rc: rc, g: g}
		}
		pw := &pacedWriter{ResponseWriter: w, rc: rc, stall: g.cfg.WriteStall, g: g}
		if s != nil {
			pw.acked = s.acked
		}
		pw.extend()
		h.ServeHTTP(pw, r)
		// net/http flushes what is buffered after the handler returns.
		pw.extend()
	})
}

func (g *Guard) refuse(w http.ResponseWriter, code int) {
	reason := "per_ip_limit"
	if code == http.StatusServiceUnavailable {
		reason = "total_limit"
	}
	g.refused.WithLabelValues(reason).Inc()
	dropBody(w)
	w.Header().Set("Connection", "close")
	w.Header().Set("Retry-After", "1")
	http.Error(w, http.StatusText(code)+": too many connections", code)
}

func (g *Guard) refuseHost(w http.ResponseWriter, r *http.Request) {
	g.refused.WithLabelValues("host").Inc()
	g.mu.Lock()
	logIt := time.Since(g.lastHost) > time.Minute
	if logIt {
		g.lastHost = time.Now()
	}
	g.mu.Unlock()
	if logIt {
		g.cfg.Log.Warn("refused a request naming an unknown Host (421; at most one line a minute): if this name is yours, add it to DASHSTREAM_ALLOWED_HOSTS",
			"host", truncate(r.Host, 100), "path", truncate(r.URL.Path, 100))
	}
	dropBody(w)
	w.Header().Set("Connection", "close")
	http.Error(w, "Misdirected Request: this server does not answer to that Host name (DNS rebinding guard); its operator can allow it with DASHSTREAM_ALLOWED_HOSTS", http.StatusMisdirectedRequest)
}

// dropBody makes net/http give up on the unread body of a refused request
// at once (it would otherwise wait to discard up to 256 KiB of it, for as
// long as the client cares to trickle); the answer is written first.
func dropBody(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

func (g *Guard) acquireRequest(ip string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reqPerIP[ip] >= g.cfg.MaxConnsPerIP {
		return false
	}
	g.reqPerIP[ip]++
	return true
}

func (g *Guard) releaseRequest(ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reqPerIP[ip]--; g.reqPerIP[ip] <= 0 {
		delete(g.reqPerIP, ip)
	}
}

// guardedPath reports whether a path carries run data, and so is refused to
// unknown Hosts even when the server listens beyond loopback.
func guardedPath(p string) bool {
	return p == "/ws" || p == "/api" || strings.HasPrefix(p, "/api/")
}

func isWebSocket(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "websocket") {
				return true
			}
		}
	}
	return false
}

func peerIP(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String()
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Package proxy is the gateway's proxy mode (--upstream): our server serves
// the dashboard and relays /ws, /version and /health to an upstream
// websocket-server, so our dashboard works against an upstream deployment.
// WebSocket frames are relayed one for one, text as text and binary as
// binary, in order, so the cursor/binary pairing survives; close codes are
// passed on when a browser may see them.
package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/admit"
)

// Config configures a Proxy.
type Config struct {
	Upstream        string // ws://host:port or wss://host:port
	SendTimeout     time.Duration
	MaxPayloadBytes int
}

// Proxy relays to one upstream websocket-server.
type Proxy struct {
	cfg     Config
	wsURL   string
	httpURL *url.URL
	gate    *admit.Gate
	log     *slog.Logger
	http    *httputil.ReverseProxy

	mu     sync.Mutex
	conns  map[*relay]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New returns a Proxy for cfg.Upstream.
func New(cfg Config, gate *admit.Gate, log *slog.Logger) (*Proxy, error) {
	u, err := url.Parse(cfg.Upstream)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		return nil, fmt.Errorf("proxy: upstream %q is not a ws:// or wss:// URL", cfg.Upstream)
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 5 * time.Second
	}
	if cfg.MaxPayloadBytes <= 0 {
		cfg.MaxPayloadBytes = protocol.DefaultMaxPayloadBytes
	}
	hu := *u
	hu.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	hu.Path = ""
	p := &Proxy{cfg: cfg, wsURL: strings.TrimRight(cfg.Upstream, "/") + "/ws", httpURL: &hu, gate: gate, log: log, conns: map[*relay]struct{}{}}
	p.http = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(p.httpURL)
			r.Out.Host = p.httpURL.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("upstream unreachable", "path", r.URL.Path, "err", err)
			http.Error(w, "upstream websocket-server unreachable: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p, nil
}

// Routes registers /ws, /version and /health on mux.
func (p *Proxy) Routes(mux *http.ServeMux) {
	mux.Handle("GET /ws", p)
	mux.Handle("GET /version", p.http)
	mux.Handle("GET /health", p.http)
}

// Ready reports whether the upstream answers /version.
func (p *Proxy) Ready(ctx context.Context) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.httpURL.String()+"/version", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, "upstream unreachable: " + err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Sprintf("upstream /version answered %d", resp.StatusCode)
	}
	return true, ""
}

// ServeHTTP relays one /ws connection.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t, ok := p.gate.Admit(w, r)
	if !ok {
		return
	}
	defer t.Release()
	dialCtx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	up, _, err := websocket.Dial(dialCtx, p.wsURL, nil)
	cancel()
	if err != nil {
		p.log.Warn("upstream /ws unreachable", "err", err)
		http.Error(w, "upstream websocket-server unreachable", http.StatusBadGateway)
		return
	}
	up.SetReadLimit(int64(p.cfg.MaxPayloadBytes) + 1<<20)
	down, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: t.Subprotocols, InsecureSkipVerify: true})
	if err != nil {
		up.CloseNow()
		return
	}
	down.SetReadLimit(control.MaxControlFrameBytes + 1)
	rl := &relay{p: p, up: up, down: down}
	if !p.track(rl) {
		down.Close(websocket.StatusGoingAway, "server shutting down")
		up.CloseNow()
		return
	}
	defer p.untrack(rl)
	rl.run()
}

func (p *Proxy) track(r *relay) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[r] = struct{}{}
	p.wg.Add(1)
	return true
}

func (p *Proxy) untrack(r *relay) {
	p.mu.Lock()
	delete(p.conns, r)
	p.mu.Unlock()
	p.wg.Done()
}

// Shutdown closes every relay with 1001 and waits for them or ctx.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	relays := make([]*relay, 0, len(p.conns))
	for r := range p.conns {
		relays = append(relays, r)
	}
	p.mu.Unlock()
	var closing sync.WaitGroup
	for _, r := range relays {
		closing.Add(1)
		go func() { defer closing.Done(); r.close(websocket.StatusGoingAway, "server shutting down") }()
	}
	defer closing.Wait() // each close is bounded by the library's 5 s handshake timeout
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// relay pumps frames both ways between the browser (down) and upstream (up).
type relay struct {
	p        *Proxy
	up, down *websocket.Conn
	once     sync.Once
}

func (r *relay) run() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.pump(r.up, r.down) }()
	go func() { defer wg.Done(); r.pump(r.down, r.up) }()
	wg.Wait()
}

// pump copies frames from src to dst until either side ends, then closes
// the other with the same code when it is one a peer may send.
func (r *relay) pump(src, dst *websocket.Conn) {
	for {
		typ, data, err := src.Read(context.Background())
		if err != nil {
			status := websocket.CloseStatus(err)
			if !forwardable(status) {
				status = websocket.StatusGoingAway
			}
			r.close(status, "peer closed")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.p.cfg.SendTimeout)
		err = dst.Write(ctx, typ, data)
		cancel()
		if err != nil {
			r.close(websocket.StatusGoingAway, "relay send failed")
			return
		}
	}
}

// close ends both sides once; each Close waits at most 5 s for the peer's
// close frame (the library's bound), then drops the socket.
func (r *relay) close(status websocket.StatusCode, reason string) {
	r.once.Do(func() {
		if err := r.down.Close(status, reason); err != nil {
			r.down.CloseNow()
		}
		if err := r.up.Close(status, reason); err != nil {
			r.up.CloseNow()
		}
	})
}

// forwardable reports whether a close code may be sent on: 1000, 1001,
// 1008, 1011 and the application range; 1005/1006 are never on the wire.
func forwardable(s websocket.StatusCode) bool {
	switch {
	case s == websocket.StatusNormalClosure, s == websocket.StatusGoingAway,
		s == websocket.StatusPolicyViolation, s == websocket.StatusInternalError,
		s == websocket.StatusMessageTooBig:
		return true
	case s >= 4000 && s <= 4999:
		return true
	}
	return false
}

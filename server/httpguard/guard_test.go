package httpguard

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// serve runs h behind g on a loopback port until the test ends.
func serve(t *testing.T, g *Guard, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := g.Server(h)
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
	})
	return ln.Addr().String()
}

// waitFor polls cond until it holds, failing the test after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dialFrom opens a TCP connection from a given loopback source address
// (Linux routes all of 127/8 to lo), with a small receive buffer.
func dialFrom(t *testing.T, src, addr string, rcvbuf int) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
		}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// status sends a raw request head on c and returns the response status.
func status(t *testing.T, c net.Conn, head string) int {
	t.Helper()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const putHead = "PUT /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n"

// countingHandler counts the requests that reached it.
func countingHandler(n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.Copy(io.Discard, r.Body)
	})
}

// Connections beyond the per-IP cap are answered 429 from their request
// head, before the handler and before any body; other IPs are unaffected;
// a closed connection frees its slot.
func TestCaps_PerIPAnswered429BeforeTheBody(t *testing.T) {
	var reached atomic.Int64
	g := New(Config{MaxConnsPerIP: 3})
	addr := serve(t, g, countingHandler(&reached))
	held := make([]net.Conn, 3)
	for i := range held {
		held[i] = dialFrom(t, "127.0.0.1", addr, 0)
	}
	waitFor(t, "3 open connections", func() bool { return g.Stats().Open == 3 })
	if got := status(t, dialFrom(t, "127.0.0.1", addr, 0), putHead); got != http.StatusTooManyRequests {
		t.Errorf("fourth connection of the IP: %d, want 429", got)
	}
	if reached.Load() != 0 {
		t.Errorf("a refused request reached the handler")
	}
	if got := status(t, dialFrom(t, "127.0.0.2", addr, 0), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); got != http.StatusOK {
		t.Errorf("another IP: %d, want 200", got)
	}
	held[0].Close()
	waitFor(t, "the slot to be released", func() bool { return g.Stats().Open <= 2 })
	if got := status(t, dialFrom(t, "127.0.0.1", addr, 0), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); got != http.StatusOK {
		t.Errorf("after a close: %d, want 200", got)
	}
	if v := testutil.ToFloat64(g.refused.WithLabelValues("per_ip_limit")); v != 1 {
		t.Errorf("per_ip_limit refusals counted %v, want 1", v)
	}
}

// The total cap holds across IPs (503), and past a backlog of refusals new
// connections are closed unanswered, so a flood cannot pile them up.
func TestCaps_TotalAnswered503ThenShed(t *testing.T) {
	var reached atomic.Int64
	g := New(Config{MaxConns: 2, MaxConnsPerIP: 1})
	addr := serve(t, g, countingHandler(&reached))
	dialFrom(t, "127.0.0.1", addr, 0)
	dialFrom(t, "127.0.0.2", addr, 0)
	waitFor(t, "2 open connections", func() bool { return g.Stats().Open == 2 })
	refused := dialFrom(t, "127.0.0.3", addr, 0)
	waitFor(t, "a refusal pending", func() bool { return g.Stats().Refusing == 1 })
	shed := dialFrom(t, "127.0.0.4", addr, 0)
	shed.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := shed.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("a connection past the refusal backlog: read %d, %v; want it closed", n, err)
	}
	if got := status(t, refused, putHead); got != http.StatusServiceUnavailable {
		t.Errorf("over the total: %d, want 503", got)
	}
	if reached.Load() != 0 {
		t.Errorf("a refused request reached the handler")
	}
	waitFor(t, "refusals to close", func() bool { return g.Stats().Refusing == 0 })
}

// WebSockets leave the HTTP count when upgraded: more of them than the
// per-IP cap stay open (server/admit caps them), HTTP requests still pass,
// and they keep working past the write stall deadline.
func TestCaps_WebSocketsAreNotCountedTwice(t *testing.T) {
	stall := 50 * time.Millisecond
	g := New(Config{MaxConnsPerIP: 2, WriteStall: stall})
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		for {
			typ, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			if err := ws.Write(context.Background(), typ, b); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	addr := serve(t, g, mux)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var conns []*websocket.Conn
	for i := 0; i < 5; i++ {
		ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatalf("websocket %d: %v", i, err)
		}
		defer ws.CloseNow()
		conns = append(conns, ws)
	}
	waitFor(t, "upgraded connections to leave the count", func() bool { return g.Stats().Open == 0 })
	for i := 0; i < 2; i++ {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP beside 5 websockets: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	time.Sleep(4 * stall) // longer than any write deadline the guard might have left
	for i, ws := range conns {
		if err := ws.Write(ctx, websocket.MessageText, []byte("ping")); err != nil {
			t.Fatalf("websocket %d write: %v", i, err)
		}
		if _, b, err := ws.Read(ctx); err != nil || string(b) != "ping" {
			t.Fatalf("websocket %d echo: %q %v", i, b, err)
		}
	}
}

// Behind a trusted proxy every connection comes from the proxy: the cap is
// applied per forwarded client instead, per request.
func TestCaps_TrustedProxyCountedPerForwardedClient(t *testing.T) {
	release := make(chan struct{})
	var inside atomic.Int64
	g := New(Config{
		MaxConnsPerIP: 2,
		TrustedProxy:  func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) },
		ClientIP:      func(r *http.Request) string { return r.Header.Get("X-Forwarded-For") },
	})
	addr := serve(t, g, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		inside.Add(1)
		<-release
	}))
	get := func(client string) (net.Conn, chan int) {
		c := dialFrom(t, "127.0.0.1", addr, 0)
		done := make(chan int, 1)
		go func() {
			c.SetDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: %s\r\n\r\n", client)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		return c, done
	}
	var waits []chan int
	for i := 0; i < 2; i++ {
		_, d := get("192.0.2.1")
		waits = append(waits, d)
	}
	waitFor(t, "2 requests inside", func() bool { return inside.Load() == 2 })
	_, third := get("192.0.2.1")
	if got := <-third; got != http.StatusTooManyRequests {
		t.Errorf("third request of one forwarded client: %d, want 429", got)
	}
	_, other := get("192.0.2.2")
	waitFor(t, "another client's request inside", func() bool { return inside.Load() == 3 })
	close(release)
	for _, d := range append(waits, other) {
		if got := <-d; got != http.StatusOK {
			t.Errorf("admitted request: %d", got)
		}
	}
}

// A body trickled slower than the body timeout is cut off; one that keeps
// coming within it is read whole.
func TestBody_TrickledBodyIsCutOff(t *testing.T) {
	results := make(chan error, 4)
	g := New(Config{BodyTimeout: 300 * time.Millisecond})
	addr := serve(t, g, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		results <- err
	}))
	slow := dialFrom(t, "", addr, 0)
	io.WriteString(slow, "PUT /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nabc")
	select {
	case err := <-results:
		if err == nil {
			t.Fatal("a body that stopped after 3 of 1000 bytes was read without error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the trickled body was never cut off")
	}
	slow.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.Copy(io.Discard, slow); err != nil && !isReset(err) {
		t.Errorf("the server did not close the connection: %v", err)
	}
	if v := testutil.ToFloat64(g.cut.WithLabelValues("body_timeout")); v != 1 {
		t.Errorf("body_timeout counted %v, want 1", v)
	}

	// The same deadline is lifted once the body is read: a response taking
	// longer than it (the handler waits) is not cut.
	g2 := New(Config{BodyTimeout: 300 * time.Millisecond})
	addr2 := serve(t, g2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		time.Sleep(600 * time.Millisecond)
		if r.Context().Err() != nil {
			err = fmt.Errorf("request context ended: %w", r.Context().Err())
		}
		fmt.Fprintf(w, "%d", len(b))
		results <- err
	}))
	steady := dialFrom(t, "", addr2, 0)
	io.WriteString(steady, "PUT /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n")
	for i := 0; i < 10; i++ {
		io.WriteString(steady, "x")
		time.Sleep(5 * time.Millisecond)
	}
	if err := <-results; err != nil {
		t.Errorf("steady body: %v", err)
	}
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe"))
}

// bigFile writes n random bytes to a file and returns its path and SHA-256.
func bigFile(t *testing.T, n int) (string, [32]byte) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(t.TempDir(), "app.wasm")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, sha256.Sum256(b)
}

// A reader that stops reading app.wasm is cut off once a piece of the
// response stalls past WriteStall; the connection is closed and counted.
func TestWrite_StalledReaderIsCutOff(t *testing.T) {
	file, _ := bigFile(t, 16<<20) // more than the socket buffers hold
	g := New(Config{WriteStall: 300 * time.Millisecond})
	addr := serve(t, g, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, file) }))
	c := dialFrom(t, "", addr, 4096)
	io.WriteString(c, "GET /app.wasm HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	// Now read nothing: the server must give up on its own.
	waitFor(t, "the stalled response to be cut", func() bool {
		return testutil.ToFloat64(g.cut.WithLabelValues("write_stall")) == 1 && g.Stats().Open == 0
	})
}

// A slow but steady reader gets the whole file, although reading it takes
// many times the stall deadline.
func TestWrite_SteadySlowReaderFinishes(t *testing.T) {
	file, sum := bigFile(t, 4<<20)
	stall := 2 * time.Second
	g := New(Config{WriteStall: stall})
	addr := serve(t, g, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, file) }))
	c := dialFrom(t, "", addr, 4096)
	io.WriteString(c, "GET /app.wasm HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	buf := make([]byte, 16<<10)
	start := time.Now()
	read := 0
	for {
		n, err := resp.Body.Read(buf)
		h.Write(buf[:n])
		read += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes (write_stall %v): %v", read, testutil.ToFloat64(g.cut.WithLabelValues("write_stall")), err)
		}
		time.Sleep(4 * time.Millisecond) // ~4 MB/s at most: the 4 MiB take over a second
	}
	if got := [32]byte(h.Sum(nil)); got != sum {
		t.Fatal("the file arrived different")
	}
	if v := testutil.ToFloat64(g.cut.WithLabelValues("write_stall")); v != 0 {
		t.Errorf("write_stall counted %v for a steady reader", v)
	}
	t.Logf("4 MiB read in %v with a %v stall deadline", time.Since(start).Round(time.Millisecond), stall)
}

// Many trickling clients at once (bodies and reads, from several IPs) are
// all cut off or refused, and the server is left with no connection held.
func TestFlood_SlowClientsDoNotStay(t *testing.T) {
	file, _ := bigFile(t, 8<<20)
	g := New(Config{MaxConnsPerIP: 20, BodyTimeout: 300 * time.Millisecond, WriteStall: 300 * time.Millisecond, HeaderTimeout: time.Second})
	mux := http.NewServeMux()
	mux.HandleFunc("/app.wasm", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, file) })
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	addr := serve(t, g, mux)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	const n = 200
	for i := 0; i < n; i++ {
		c := dialFrom(t, fmt.Sprintf("127.0.0.%d", 10+i%5), addr, 4096)
		wg.Add(1)
		go func(i int, c net.Conn) {
			defer wg.Done()
			switch i % 3 {
			case 0:
				io.WriteString(c, "PUT /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n{")
			case 1:
				io.WriteString(c, "GET /app.wasm HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
			case 2:
				io.WriteString(c, "GET /app.wasm HTTP/1.1\r\nHost: 127.0.") // a head that never ends
			}
			<-stop
		}(i, c)
	}
	waitFor(t, "every slow client to be dropped", func() bool { st := g.Stats(); return st.Open == 0 && st.Refusing == 0 })
	close(stop)
	wg.Wait()
}

// Memory is given back when a crowd of connections has halved, not while
// one is still being given back, and not for everyday numbers.
func TestGiveBack_AtEachHalvingOfAFlood(t *testing.T) {
	g := New(Config{})
	steps := []struct {
		peak, open int
		flood      bool
		freeing    bool
		want       bool
	}{
		{peak: 100, open: 10, want: false},                  // everyday traffic
		{peak: 1000, open: 600, want: false},                // a flood not yet halved
		{peak: 1000, open: 500, want: true},                 // halved
		{peak: 1000, open: 100, freeing: true, want: false}, // one give-back at a time
		{peak: 400, open: 200, flood: true, want: true},     // the tail of a flood
		{peak: 400, open: 201, flood: true, want: false},
	}
	for i, s := range steps {
		g.mu.Lock()
		g.peak, g.open, g.refusing, g.flood, g.freeing = s.peak, s.open, 0, s.flood, s.freeing
		got := g.shouldFreeLocked()
		g.mu.Unlock()
		if got != s.want {
			t.Errorf("step %d %+v: give back %v", i, s, got)
		}
	}
}

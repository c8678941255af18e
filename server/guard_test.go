package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// DNS rebinding against the whole gateway: a page at http://evil.example
// (resolving to the server) sends a matching Host and Origin. /ws and /api
// refuse it always; every route does when the server listens on loopback;
// a listed name passes.
func TestGateway_RebindingHostsRefused(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		host  string
		wsOK  bool
		paths map[string]int
	}{
		{"wildcard listener", nil, "evil.example", false, map[string]int{"/": 200, "/api/expected-schema": 421}},
		{"loopback listener", []string{"--host", "127.0.0.1"}, "evil.example", false, map[string]int{"/": 421, "/version": 421, "/api/expected-schema": 421}},
		{"loopback listener, loopback name", []string{"--host", "127.0.0.1"}, "localhost", true, map[string]int{"/": 200, "/api/expected-schema": 200}},
		{"listed name", []string{"--host", "127.0.0.1", "--allowed-hosts", "*.example"}, "evil.example", true, map[string]int{"/": 200, "/api/expected-schema": 200}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, srv := startGateway(t, testWeb(t), c.args...)
			port := srv.URL[strings.LastIndex(srv.URL, ":"):]
			for path, want := range c.paths {
				req, _ := http.NewRequest("GET", srv.URL+path, nil)
				req.Host = c.host + port
				req.Header.Set("Origin", "http://"+c.host+port)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("Host %s %s: %d, want %d", c.host, path, resp.StatusCode, want)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ws, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", &websocket.DialOptions{
				Host: c.host + port, HTTPHeader: http.Header{"Origin": {"http://" + c.host + port}},
			})
			if ws != nil {
				ws.CloseNow()
			}
			if c.wsOK != (err == nil) {
				code := 0
				if resp != nil {
					code = resp.StatusCode
				}
				t.Errorf("Host %s /ws: err %v (status %d), want upgraded %v", c.host, err, code, c.wsOK)
			} else if !c.wsOK && (resp == nil || resp.StatusCode != http.StatusMisdirectedRequest) {
				t.Errorf("Host %s /ws: %v, want 421", c.host, resp)
			}
		})
	}
}

// The server main runs carries the HTTP connection cap: the third idle
// connection of one IP is answered 429.
func TestGateway_ServerCapsConnectionsPerIP(t *testing.T) {
	gw, _ := startGateway(t, testWeb(t), "--http-max-connections-per-ip", "2")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gw.server()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for gw.guard.Stats().Open < 2 {
		if time.Now().After(deadline) {
			t.Fatal("connections not counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("third connection: %d, want 429", resp.StatusCode)
	}
}

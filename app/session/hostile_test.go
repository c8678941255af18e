//go:build !(js && wasm)

package session

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
)

// peer is a misbehaving server: /ws accepts, lets a scenario do its worst,
// and records the close code the session sends. It is the test's peer, not
// the thing under test.
type peer struct {
	srv      *httptest.Server
	scenario func(ctx context.Context, ws *websocket.Conn)
	codes    chan websocket.StatusCode
	fwd      atomic.Uint64
	refuse   atomic.Bool
}

func newPeer(t *testing.T, scenario func(ctx context.Context, ws *websocket.Conn)) *peer {
	p := &peer{scenario: scenario, codes: make(chan websocket.StatusCode, 100)}
	mux := http.NewServeMux()
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		if p.refuse.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"schema_version": 1, "resume_namespace": "v1_test", "max_payload_bytes": 1 << 20})
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"metrics": map[string]any{"messages_forwarded": p.fwd.Add(100)}})
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
		defer cancel()
		if _, _, err := ws.Read(ctx); err != nil { // the resume
			return
		}
		go p.scenario(ctx, ws)
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				select {
				case p.codes <- websocket.CloseStatus(err):
				default:
				}
				return
			}
		}
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func TestSession_NoInvalidCloseCode(t *testing.T) {
	good, _ := protocol.Encode(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{Header: &pb.Header{ThreadId: "t", Sequence: 1}}}})
	text := func(ctx context.Context, ws *websocket.Conn, s string) {
		ws.Write(ctx, websocket.MessageText, []byte(s))
	}
	cases := []struct {
		name     string
		cfg      func(*Config)
		scenario func(ctx context.Context, ws *websocket.Conn)
		stop     bool // the test stops the session instead
		want     websocket.StatusCode
	}{
		{name: "binary frame without a cursor", want: CloseMissingCursor, scenario: func(ctx context.Context, ws *websocket.Conn) {
			ws.Write(ctx, websocket.MessageBinary, good)
		}},
		{name: "two cursors in a row", want: ClosePairing, scenario: func(ctx context.Context, ws *websocket.Conn) {
			text(ctx, ws, `{"type":"cursor","partition":0,"offset":"1"}`)
			text(ctx, ws, `{"type":"cursor","partition":0,"offset":"2"}`)
		}},
		{name: "a control message inside a pair", want: ClosePairing, scenario: func(ctx context.Context, ws *websocket.Conn) {
			text(ctx, ws, `{"type":"cursor","partition":0,"offset":"1"}`)
			text(ctx, ws, `{"type":"pong"}`)
		}},
		{name: "decode hangs", want: CloseDecodeTimeout,
			cfg: func(c *Config) {
				c.DecodeTimeout = 20 * time.Millisecond
				c.Decode = func([]byte) (*pb.DashStreamMessage, error) {
					time.Sleep(300 * time.Millisecond)
					return nil, protocol.ErrEmpty
				}
			},
			scenario: func(ctx context.Context, ws *websocket.Conn) {
				text(ctx, ws, `{"type":"cursor","partition":0,"offset":"1"}`)
				ws.Write(ctx, websocket.MessageBinary, good)
			}},
		{name: "silent socket", want: CloseHeartbeat,
			cfg:      func(c *Config) { c.Heartbeat, c.HeartbeatTimeout = 10*time.Millisecond, 100*time.Millisecond },
			scenario: func(ctx context.Context, ws *websocket.Conn) {}},
		{name: "stalled while the server has traffic", want: CloseStalled,
			cfg: func(c *Config) {
				c.HealthPoll, c.StallAfter, c.StallReconnect = 10*time.Millisecond, 50*time.Millisecond, 100*time.Millisecond
			},
			scenario: func(ctx context.Context, ws *websocket.Conn) {
				for ctx.Err() == nil { // pongs keep the heartbeat alive, but no data comes
					text(ctx, ws, `{"type":"pong"}`)
					time.Sleep(5 * time.Millisecond)
				}
			}},
		{name: "session stopped", stop: true, want: CloseNormal, scenario: func(ctx context.Context, ws *websocket.Conn) {}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPeer(t, c.scenario)
			cfg := Config{BaseURL: p.srv.URL, Logger: quiet, Tick: 5 * time.Millisecond, BackoffBase: time.Hour, BackoffMax: time.Hour}
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			s, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() { s.Run(ctx) })
			defer func() { cancel(); wg.Wait() }()
			if c.stop {
				eventually(t, "connected", func() bool { return s.Health().State == Replaying })
				cancel()
			}
			select {
			case code := <-p.codes:
				if !validCloseCode(code) || code != c.want {
					t.Errorf("closed with %d, want %d (only 1000 and 4000-4999 are allowed)", code, c.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the session never closed the socket")
			}
			if !c.stop {
				eventually(t, "reconnecting with a reason", func() bool {
					h := s.Health()
					return h.State == Reconnecting && h.LastError != ""
				})
			}
		})
	}
}

func TestReconnect_BackoffHasJitterAndNeverGivesUp(t *testing.T) {
	p := newPeer(t, func(ctx context.Context, ws *websocket.Conn) {})
	p.refuse.Store(true)
	s, err := New(Config{BaseURL: p.srv.URL, Logger: quiet, BackoffBase: time.Millisecond, BackoffMax: 4 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	// Upstream stopped for good after 10 failures.
	eventually(t, "40 failed attempts", func() bool { return s.Health().Attempt >= 40 })
	h := s.Health()
	if h.State != Reconnecting || h.LastError == "" || h.NextRetry.IsZero() {
		t.Errorf("while the server is down: %+v", h)
	}
	p.refuse.Store(false)
	eventually(t, "connected once the server is back", func() bool { return s.Health().State == Replaying })
	if h := s.Health(); h.Attempt != 0 || h.LastError != "" {
		t.Errorf("after connecting: attempt %d, error %q", h.Attempt, h.LastError)
	}
}

func TestSession_StalledIsShownWhileTheServerHasTraffic(t *testing.T) {
	p := newPeer(t, func(ctx context.Context, ws *websocket.Conn) {
		ws.Write(ctx, websocket.MessageText, []byte(`{"type":"replay_complete","mode":"latest","totalReplayed":0,"capped":false,"lastOffsetsByPartition":{}}`))
	})
	s, err := New(Config{BaseURL: p.srv.URL, Logger: quiet, Tick: 5 * time.Millisecond, HealthPoll: 10 * time.Millisecond, StallAfter: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	eventually(t, "stalled", func() bool { return s.Health().State == Stalled })
	if h := s.Health(); h.ServerRate <= 0 {
		t.Errorf("stalled without server traffic: %+v", h)
	}
}

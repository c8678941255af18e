package proxy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/server/admit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestNew_RejectsNonWebSocketUpstreams(t *testing.T) {
	for _, u := range []string{"http://x:1", "x:1", "", "ws://%zz"} {
		if _, err := New(Config{Upstream: u}, admit.New(admit.Policy{}, nil), quiet); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestForwardable_OnlyCodesAPeerMaySend(t *testing.T) {
	for code, want := range map[websocket.StatusCode]bool{
		1000: true, 1001: true, 1008: true, 1009: true, 1011: true, 4000: true, 4999: true,
		1005: false, 1006: false, 1015: false, 1002: false, 3000: false, -1: false,
	} {
		if got := forwardable(code); got != want {
			t.Errorf("%d: %v", code, got)
		}
	}
}

func TestRelay_PassesFramesBothWaysAndTheUpstreamCloseCode(t *testing.T) {
	// A minimal upstream: echoes one text frame as binary, then closes 4001.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ctx := r.Context()
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		ws.Write(ctx, websocket.MessageBinary, data)
		ws.Close(4001, "upstream done")
	}))
	defer up.Close()
	p, err := New(Config{Upstream: "ws" + strings.TrimPrefix(up.URL, "http")}, admit.New(admit.Policy{}, nil), quiet)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.Write(ctx, websocket.MessageText, []byte("hello"))
	typ, data, err := ws.Read(ctx)
	if err != nil || typ != websocket.MessageBinary || string(data) != "hello" {
		t.Fatalf("relayed %v %q %v", typ, data, err)
	}
	_, _, err = ws.Read(ctx)
	if websocket.CloseStatus(err) != 4001 {
		t.Errorf("close code %v, want the upstream's 4001", websocket.CloseStatus(err))
	}
}

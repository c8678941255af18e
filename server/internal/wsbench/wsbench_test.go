package wsbench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestConn_ReadsWhatALibraryServerWrites runs the client against a real
// coder/websocket server: small and large messages, a fragmented one, a
// ping in between (which the server waits to see answered) and an echo of
// a masked client frame.
func TestConn_ReadsWhatALibraryServerWrites(t *testing.T) {
	large := bytes.Repeat([]byte("0123456789abcdef"), 10_000) // larger than the read buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"bench.v1"}})
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		ws.SetReadLimit(1 << 20)
		_, got, err := ws.Read(ctx)
		if err != nil {
			return
		}
		ws.Write(ctx, websocket.MessageText, got) // echo
		ws.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3})
		ws.Write(ctx, websocket.MessageBinary, large)
		fw, _ := ws.Writer(ctx, websocket.MessageText)
		fw.Write([]byte("frag"))
		fw.Write([]byte("mented"))
		fw.Close()
		go ws.Read(ctx) // the library answers pongs from its reader
		if err := ws.Ping(ctx); err != nil {
			t.Errorf("ping not answered: %v", err)
		}
		ws.Write(ctx, websocket.MessageText, []byte("after ping"))
		ws.Close(websocket.StatusNormalClosure, "")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/x?y=1", "bench.v1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Subprotocol != "bench.v1" {
		t.Errorf("subprotocol %q", c.Subprotocol)
	}
	if err := c.Write(Text, []byte(`{"type":"resume"}`)); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		op byte
		p  []byte
	}{
		{Text, []byte(`{"type":"resume"}`)},
		{Binary, []byte{1, 2, 3}},
		{Binary, large},
		{Text, []byte("fragmented")},
		{Text, []byte("after ping")},
	}
	for i, w := range want {
		op, p, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if op != w.op || !bytes.Equal(p, w.p) {
			t.Fatalf("message %d: opcode %d, %d bytes; want %d, %d bytes", i, op, len(p), w.op, len(w.p))
		}
	}
	if _, _, err := c.ReadMessage(); !errors.Is(err, ErrClosed) {
		t.Fatalf("after the close frame: %v", err)
	}
}

func TestDial_RefusedHandshakeIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	if _, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("got %v, want a refused handshake", err)
	}
	if _, err := Dial(context.Background(), "http://example.invalid/"); err == nil {
		t.Fatal("an http:// URL was accepted")
	}
}

// byteConn reads the given server bytes and discards what the client
// writes (pongs).
type byteConn struct {
	net.Conn // nil: only Read, Write and Close are used
	r        *bytes.Reader
}

func (c byteConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c byteConn) Write(p []byte) (int, error) { return len(p), nil }
func (c byteConn) Close() error                { return nil }

// fromBytes is a Conn reading the given server bytes.
func fromBytes(b []byte) *Conn {
	nc := byteConn{r: bytes.NewReader(b)}
	return &Conn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
}

func TestReadMessage_HostileFrames(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"reserved bits", []byte{0xF1, 0}, "reserved bits"},
		{"masked server frame", []byte{0x81, 0x80, 1, 2, 3, 4}, "masked"},
		{"continuation first", []byte{0x80, 0}, "without a first frame"},
		{"new message inside a fragmented one", []byte{0x01, 1, 'a', 0x81, 1, 'b'}, "inside a fragmented"},
		{"unknown opcode", []byte{0x83, 0}, "unknown opcode"},
		{"oversized length", []byte{0x82, 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, "frame of"},
		{"truncated header", []byte{0x82, 126, 0x01}, "unexpected EOF"},
		{"truncated payload", []byte{0x82, 5, 'a', 'b'}, "unexpected EOF"},
		{"empty stream", nil, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fromBytes(tc.in)
			defer c.Close()
			_, _, err := c.ReadMessage()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func FuzzReadMessage(f *testing.F) {
	f.Add([]byte{0x81, 3, 'a', 'b', 'c'})
	f.Add([]byte{0x01, 1, 'a', 0x80, 1, 'b'})
	f.Add([]byte{0x82, 126, 0, 200})
	f.Add([]byte{0x88, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		c := fromBytes(in)
		defer c.Close()
		for range 8 {
			if _, p, err := c.ReadMessage(); err != nil {
				return
			} else if len(p) > len(in) {
				t.Fatalf("a %d-byte message from %d bytes of input", len(p), len(in))
			}
		}
	})
}

func TestRaiseFileLimit_KeepsOrRaisesTheLimit(t *testing.T) {
	var before syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &before); err != nil {
		t.Fatal(err)
	}
	if err := RaiseFileLimit(before.Cur); err != nil {
		t.Fatalf("the current limit is enough: %v", err)
	}
	if err := RaiseFileLimit(before.Cur + 1); err != nil {
		t.Skipf("cannot raise here: %v", err)
	}
	var after syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &after)
	if after.Cur < before.Cur+1 {
		t.Fatalf("limit %d after asking for %d", after.Cur, before.Cur+1)
	}
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &before)
}

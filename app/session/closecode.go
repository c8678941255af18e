package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coder/websocket"
)

// The close codes the session uses. Browsers accept only 1000 and
// 3000–4999 from a page; 4000–4999 are the application's own.
const (
	CloseNormal         websocket.StatusCode = 1000 // the session is stopping
	CloseReconnect      websocket.StatusCode = 4000 // any other reason to reconnect
	ClosePairing        websocket.StatusCode = 4001 // a cursor while one was pending
	CloseMissingCursor  websocket.StatusCode = 4002 // a binary frame without its cursor
	CloseDecodeTimeout  websocket.StatusCode = 4003 // the decode pipeline hung
	CloseHeartbeat      websocket.StatusCode = 4004 // the socket went silent
	CloseStalled        websocket.StatusCode = 4005 // no frames while the server has traffic
	CloseDecoderCrashed websocket.StatusCode = 4006 // the decoder panicked
)

// validCloseCode reports whether a browser accepts code in
// WebSocket.close and the protocol reserves it for applications.
func validCloseCode(code websocket.StatusCode) bool {
	return code == CloseNormal || (code >= 4000 && code <= 4999)
}

// closeCode maps any status to one a browser accepts: a code that would
// throw becomes CloseReconnect, so a mistake can never mute a socket.
func closeCode(code websocket.StatusCode) websocket.StatusCode {
	if validCloseCode(code) {
		return code
	}
	return CloseReconnect
}

// connError is why a connection ended, with the close code the session
// sent (or 0 when the peer or the network ended it).
type connError struct {
	Code   websocket.StatusCode
	Reason string
	Err    error
}

func (e *connError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Reason, e.Err)
	}
	return e.Reason
}

func (e *connError) Unwrap() error { return e.Err }

// errDecodeTimeout marks a decode that exceeded Config.DecodeTimeout.
var errDecodeTimeout = errors.New("decode timed out")

// closeSocket closes ws with a valid code and waits at most timeout for the
// handshake. Natively a close that does not finish is cut with CloseNow;
// in the browser that would send 1001, so it is left to the browser.
func closeSocket(ws *websocket.Conn, code websocket.StatusCode, reason string, timeout time.Duration) {
	code = closeCode(code)
	if len(reason) > 120 { // a close reason must fit in a control frame
		reason = reason[:120]
	}
	done := make(chan struct{})
	go func() { // bounded: the library's handshake timeout, or the browser's onclose
		defer close(done)
		_ = ws.Close(code, reason)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		if !abandonAfterClose {
			_ = ws.CloseNow()
		}
	}
}

// writeText sends one text frame within timeout. The write context is only
// cancelled by its own deadline, never by the session stopping, because a
// cancelled write would make coder/websocket close the socket itself.
func writeText(ws *websocket.Conn, b []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

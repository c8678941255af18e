package hub

import (
	"context"
	"errors"
	"io"
	"net"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// brokeProtocol reports whether a read failed because the client broke the
// WebSocket protocol, rather than because the connection ended: the peer's
// close frame, end of stream, a network error, the connection's context,
// or a message over the read limit (which the library answers with 1009).
func brokeProtocol(err error) bool {
	var ne net.Error
	switch {
	case websocket.CloseStatus(err) != -1,
		errors.Is(err, websocket.ErrMessageTooBig),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.As(err, &ne),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return true
}

// closeReason fits s into a close frame's reason (at most 123 bytes),
// cutting at a rune boundary.
func closeReason(s string) string {
	const limit = 123
	if len(s) <= limit {
		return s
	}
	s = s[:limit]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

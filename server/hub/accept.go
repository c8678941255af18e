package hub

import (
	"net/http"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol/control"
)

// ServeHTTP admits a client on /ws through the gate, upgrades it with the
// control-frame read limit set before any frame is read, and serves it until
// it ends.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Joining the wait group under the lock Shutdown takes to set closing
	// means Shutdown waits for every connection it did not refuse.
	h.mu.Lock()
	if h.closing.Load() {
		h.mu.Unlock()
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	t, ok := h.gate.Admit(w, r)
	if !ok {
		return
	}
	defer t.Release()
	cw := &corkingWriter{ResponseWriter: w, timeout: h.cfg.SendTimeout}
	ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{
		Subprotocols:       t.Subprotocols,
		InsecureSkipVerify: true, // the gate checked the Origin, with our allowlist
	})
	if err != nil {
		h.log.Debug("websocket upgrade failed", "ip", t.IP, "err", err)
		return
	}
	// A control frame of exactly the limit is read and answered; a larger
	// one is refused by the library before it is buffered whole.
	ws.SetReadLimit(control.MaxControlFrameBytes + 1)
	h.serve(ws, cw.conn, t.IP, t.Admin)
}

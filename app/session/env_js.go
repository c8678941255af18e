//go:build js && wasm

package session

import (
	"syscall/js"

	"github.com/dashstream/dashstream/app/cursors"
)

// pageOrigin is the page's origin: the dashboard talks to the server that
// served it.
func pageOrigin() string {
	loc := js.Global().Get("location")
	if loc.IsUndefined() {
		return ""
	}
	return loc.Get("origin").String()
}

// defaultStorage is localStorage, or memory when the page may not use it.
func defaultStorage() cursors.Storage {
	ls, err := cursors.NewLocalStorage()
	if err != nil {
		return cursors.NewMemoryStorage()
	}
	return ls
}

// bindLifecycle flushes the cursor store on pagehide and visibilitychange.
func bindLifecycle(s *cursors.Store) func() { return cursors.BindPageLifecycle(s) }

// dialTimeout is 0 in the browser: coder/websocket closes a dial that its
// context abandons with 1008, which a browser refuses, leaving a socket
// that opens later unowned. The browser's own handshake timeout bounds it.
const dialTimeout = 0

// abandonAfterClose: in the browser a socket can only be closed with a
// handshake (CloseNow would send 1001, which throws), so a close that does
// not finish in time is left to the browser.
const abandonAfterClose = true

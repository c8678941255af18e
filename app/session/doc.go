// Package session is the dashboard's connection to the gateway: it fetches
// /version, holds one WebSocket to /ws at a time, resumes from the cursor
// store, decodes binary frames off the apply loop, applies them to the run
// store under an epoch guard, commits cursors only after apply, heals the
// runs a gap can touch by asking the server to replay them, and publishes a
// health model for the views.
//
// The logic is plain Go: it runs natively under go test against the real
// hub, and compiled to js/wasm in the browser, where the only differences
// (the page origin, localStorage, window.dashstream, how a socket may be
// closed) sit in small _js.go / _other.go adapters.
//
// # Goroutines
//
// Run owns everything: a notifier (coalesced Subscribe callbacks) and, per
// connection, a reader, a decoder and a /health poller, all stopped with the
// connection's context. The apply loop is Run's own goroutine. Every
// goroutine ends when its context ends; every send and wait selects on a
// context or a timer.
//
// # Epochs (M-1031)
//
// Each connection gets an epoch. A frame carries the epoch it arrived in, and
// the apply loop checks that this epoch is still live before it mutates the
// run store (under the store lock) and again before it commits a cursor.
// Anything that decides the connection is unusable (a pairing error in the
// reader, a decode timeout) retires the epoch at once, so nothing still in
// flight from it can apply or commit.
//
// # Close codes
//
// A browser's WebSocket.close accepts only 1000 and 3000–4999; upstream used
// 1002/1011, the call threw, and the muted socket stayed open while the page
// said "Connected". Every close here goes through closeCode, which only
// yields 1000 or 4000–4999 (see the Close* constants), and the session never
// lets coder/websocket pick a code for it (no read limit, no cancelled read
// context, no CloseNow in the browser).
package session

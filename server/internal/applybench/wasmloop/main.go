//go:build js && wasm

// Command wasmloop is our side of the browser apply-loop benchmark
// (server/internal/applybench): the dashboard's message path, decode
// (protocol.Decode) and apply with hash verification (runstate.Store.Apply),
// over a recorded stream, in the page that loads it.
//
// It sets window.goApplyLoop(stream Uint8Array) → {load} and
// window.goApplyPass() → {messages, verified, mismatches, applied}: load
// copies the stream into Go memory (untimed); each pass replays all of it
// into a fresh store, so the page can time passes with performance.now()
// exactly as it times the JavaScript peer. window.goFinalHashes() returns
// the hex state_hash of every run's final state after the last pass.
package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"syscall/js"
	"time"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/statehash"
)

var (
	values [][]byte
	last   *runstate.Store
	t0     = time.Unix(1_700_000_000, 0)
)

func main() {
	js.Global().Set("goApplyLoop", js.FuncOf(load))
	js.Global().Set("goApplyPass", js.FuncOf(pass))
	js.Global().Set("goFinalHashes", js.FuncOf(finals))
	js.Global().Get("document").Call("dispatchEvent", js.Global().Get("Event").New("goready"))
	select {}
}

// load splits the stream (each value preceded by its length, uint32
// little-endian) into values held in Go memory.
func load(_ js.Value, args []js.Value) any {
	b := make([]byte, args[0].Get("length").Int())
	js.CopyBytesToGo(b, args[0])
	values = values[:0]
	for len(b) >= 4 {
		n := int(binary.LittleEndian.Uint32(b))
		if n > len(b)-4 {
			return fmt.Sprintf("truncated stream: value of %d bytes, %d left", n, len(b)-4)
		}
		values = append(values, b[4:4+n:4+n])
		b = b[4+n:]
	}
	return len(values)
}

// pass applies every value to a fresh store, as the dashboard's apply loop
// does: decode, then Store.Apply (dedupe, ordering, patch, hash check,
// event log, node and token tables).
func pass(js.Value, []js.Value) any {
	s := runstate.NewStore(runstate.Config{MaxRuns: 10_000})
	decodeErrors := 0
	for i, v := range values {
		m, err := protocol.Decode(v)
		if err != nil {
			decodeErrors++
			continue
		}
		s.Apply(m, runstate.Meta{Partition: 0, Offset: int64(i), Received: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	last = s
	st := s.Stats()
	return map[string]any{
		"messages":     len(values),
		"decodeErrors": decodeErrors,
		"verified":     st.HashesVerified,
		"mismatches":   st.HashMismatches,
		"applied":      st.Applied,
		"runs":         st.Runs,
	}
}

// finals returns thread_id → hex SHA-256 of the canonical final state, for
// every run with a state.
func finals(js.Value, []js.Value) any {
	out := map[string]any{}
	if last == nil {
		return out
	}
	for _, r := range last.Runs() {
		if state, _ := r.State(); state != nil {
			sum := statehash.SumTree(state)
			out[r.ThreadID()] = hex.EncodeToString(sum[:])
		}
	}
	return out
}

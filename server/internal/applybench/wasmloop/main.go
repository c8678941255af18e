//go:build js && wasm

// Command wasmloop is our side of the browser apply-loop benchmark
// (server/internal/applybench): the dashboard's message path, decode
// (protocol.Decode) and apply with hash verification (runstate.Store.Apply),
// over a recorded stream, in the page that loads it.
//
// It sets window.goApplyLoop(stream Uint8Array) → {load} and
// window.goApplyPass(mode) → {messages, verified, mismatches, ...}: load
// copies the stream into Go memory (untimed); each pass replays all of it
// from scratch, so the page can time passes with performance.now() exactly
// as it times the JavaScript peer. window.goFinalHashes() returns the hex
// state_hash of every run's final state after the last pass.
//
// Mode "store" (the default) is the dashboard's loop: runstate.Store with
// all it keeps per run (event log, nodes, tokens, tools, timeline,
// integrity, the run summary). Mode "minimal" does the peer's work and no
// more, with our parts: decode, a state per run patched with jsonpatch and
// verified with a statehash.Chain, every message kept in a per-run list.
// Modes "decode" and "decode-proto" only decode every value, with
// protocol.Decode (pbwire) or with proto.Unmarshal after unframing.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"runtime"
	"syscall/js"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/statehash"
)

var (
	values  [][]byte
	last    *runstate.Store
	lastMin map[string]*minRun
	t0      = time.Unix(1_700_000_000, 0)
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
func pass(_ js.Value, args []js.Value) any {
	if len(args) > 0 {
		switch mode := args[0].String(); mode {
		case "minimal":
			return passMinimal()
		case "decode", "decode-proto":
			return passDecode(mode == "decode-proto")
		}
	}
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
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
	last, lastMin = s, nil
	st := s.Stats()
	return map[string]any{
		"messages":     len(values),
		"decodeErrors": decodeErrors,
		"verified":     st.HashesVerified,
		"mismatches":   st.HashMismatches,
		"applied":      st.Applied,
		"runs":         st.Runs,
		"gc":           gcStats(&ms0),
	}
}

// passDecode decodes every value and keeps nothing.
func passDecode(reflection bool) any {
	d := protocol.NewDecoder()
	decodeErrors, variants := 0, 0
	for _, v := range values {
		var m *pb.DashStreamMessage
		var err error
		if reflection {
			var raw []byte
			if raw, err = d.Unframe(v); err == nil {
				m = new(pb.DashStreamMessage)
				err = proto.Unmarshal(raw, m)
			}
		} else {
			m, err = d.Decode(v)
		}
		if err != nil {
			decodeErrors++
		} else if m.GetMessage() != nil {
			variants++
		}
	}
	last, lastMin = nil, nil
	return map[string]any{"messages": len(values), "decodeErrors": decodeErrors, "verified": variants}
}

// gcStats describes the garbage collector's work since ms0: cycles,
// bytes allocated, the heap after the pass (in the result, for
// APPLYBENCH_PROFILE's report).
func gcStats(ms0 *runtime.MemStats) map[string]any {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return map[string]any{
		"cycles":      ms.NumGC - ms0.NumGC,
		"allocatedMB": float64(ms.TotalAlloc-ms0.TotalAlloc) / 1e6,
		"heapMB":      float64(ms.HeapAlloc) / 1e6,
	}
}

// finals returns thread_id → hex SHA-256 of the canonical final state, for
// every run with a state.
func finals(js.Value, []js.Value) any {
	out := map[string]any{}
	for id, r := range lastMin {
		if r.state != nil {
			sum := statehash.SumTree(r.state)
			out[id] = hex.EncodeToString(sum[:])
		}
	}
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

// minRun is a run in minimal mode: its state, the chain that hashes it,
// and its messages.
type minRun struct {
	state    *jsontree.Node
	chain    statehash.Chain
	messages []*pb.DashStreamMessage
}

// passMinimal is the JavaScript peer's work (web/peer.js) done with our
// parts.
func passMinimal() any {
	runs := map[string]*minRun{}
	var h statehash.Hasher
	var decodeErrors, verified, mismatches, failures int
	runOf := func(hd *pb.Header) *minRun {
		r := runs[hd.GetThreadId()]
		if r == nil {
			r = &minRun{}
			runs[hd.GetThreadId()] = r
		}
		return r
	}
	event := func(m *pb.DashStreamMessage, ev *pb.Event) {
		r := runOf(ev.GetHeader())
		r.messages = append(r.messages, m)
		if ev.GetEventType() == pb.EventType_EVENT_TYPE_GRAPH_START {
			if a := ev.GetAttributes()["initial_state_json"]; a.GetStringValue() != "" {
				if n, err := jsontree.Parse([]byte(a.GetStringValue())); err == nil {
					r.state = n
				}
			}
		}
	}
	for _, v := range values {
		m, err := protocol.Decode(v)
		if err != nil {
			decodeErrors++
			continue
		}
		switch {
		case m.GetEvent() != nil:
			event(m, m.GetEvent())
		case m.GetEventBatch() != nil:
			for _, ev := range m.GetEventBatch().GetEvents() {
				event(m, ev)
			}
		case m.GetStateDiff() != nil:
			d := m.GetStateDiff()
			r := runOf(d.GetHeader())
			r.messages = append(r.messages, m)
			if full := d.GetFullState(); len(full) > 0 {
				n, err := jsontree.Parse(full)
				if err != nil {
					failures++
					continue
				}
				r.state = n
			} else if r.state != nil {
				p, err := jsonpatch.FromDiffOperations(d.GetOperations())
				if err == nil {
					r.state, err = p.Apply(r.state)
				}
				if err != nil {
					failures++
					continue
				}
			}
			if want := d.GetStateHash(); len(want) == statehash.Size && r.state != nil {
				if got := h.Sum(&r.chain, r.state); bytes.Equal(got[:], want) {
					verified++
				} else {
					mismatches++
				}
			}
		case m.GetCheckpoint() != nil:
			r := runOf(m.GetCheckpoint().GetHeader())
			r.messages = append(r.messages, m)
			if n, err := jsontree.Parse(m.GetCheckpoint().GetState()); err == nil {
				r.state = n
			}
		default:
			r := runOf(protocol.Header(m))
			r.messages = append(r.messages, m)
		}
	}
	last, lastMin = nil, runs
	return map[string]any{
		"messages":     len(values),
		"decodeErrors": decodeErrors,
		"verified":     verified,
		"mismatches":   mismatches + failures,
		"runs":         len(runs),
	}
}

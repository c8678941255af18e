package hub

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/metrics"
)

// FuzzDispatch drives the real control-frame handler with arbitrary frames:
// it never panics or blocks, every reply it queues is valid JSON, and it
// ends the connection only for the frames upstream disconnects on.
func FuzzDispatch(f *testing.F) {
	for _, s := range []string{
		`{"type":"ping"}`, `{"type":"pong"}`, `{"type":"cursor_reset","adminToken":"x"}`,
		`{"type":"resume","lastOffsetsByPartition":{"0":"12","1":7},"from":"cursor"}`,
		`{"type":"resume","mode":"thread","lastSequencesByThread":{"t":"18446744073709551615"}}`,
		`{"type":"resume","threadId":"t","lastSequence":3}`,
		`{"type":"resume","lastOffsetsByPartition":{"-1":"x","0":1.5,"2147483648":"1"},"from":"sideways"}`,
		`{"type":"cursor","partition":0,"offset":"1"}`, `{"type":"gap","count":1}`,
		`not json`, `{"type":`, `[]`, "\xff", `{"type":"résumé"}`, strings.Repeat("[", 200),
	} {
		f.Add([]byte(s), true)
	}
	f.Add([]byte{1, 2, 3}, false)
	h := New(Config{}, nil, nil, nil, metrics.New(), quiet)
	f.Fuzz(func(t *testing.T, data []byte, text bool) {
		c := &conn{
			h:    h,
			ctrl: make(chan control.Message, 16),
			reqs: make(chan control.Message, 4),
			quit: make(chan struct{}),
			bye:  make(chan closeRequest, 1),
		}
		typ := websocket.MessageBinary
		if text {
			typ = websocket.MessageText
		}
		keep := c.dispatch(typ, data)
		if !keep {
			b := <-c.bye
			e, ok := b.msg.(*control.Error)
			if !ok || (e.Code != control.CodeControlFrameTooLarge && e.Code != control.CodeResumeTooManyPartitions && e.Code != control.CodeResumeTooManyThreads) {
				t.Fatalf("closed the connection for %q with %v", data, b.msg)
			}
		}
		for len(c.ctrl) > 0 {
			m := <-c.ctrl
			if out := m.AppendJSON(nil); !json.Valid(out) {
				t.Fatalf("reply %q is not JSON", out)
			}
		}
		for len(c.reqs) > 0 {
			switch (<-c.reqs).(type) {
			case *control.Resume, *control.CursorReset:
			default:
				t.Fatal("queued a request that is not resume or cursor_reset")
			}
		}
	})
}

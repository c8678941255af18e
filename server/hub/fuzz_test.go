package hub

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

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
		`{"type":"resume","lastOffsetsByPartition":{"0":"1000000000"},"from":"cursor","resume_namespace":"v1_old"}`,
		`{"type":"resume","lastOffsetsByPartition":{"2147483647":"9223372036854775807"},"resume_namespace":7}`,
		`{"type":"resume","resume_namespace":"","resume_namespace":"\u0000\ud800","lastOffsetsByPartition":{}}`,
		`{"type":"replay_complete","totalReplayed":1,"capped":true,"continuing":true,"live":true,"mode":"cursor"}`,
		`{"type":"cursor_stale","partition":0,"requested":"5","oldest":"0","reason":"past_end"}`,
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

// FuzzResumeHandler sends arbitrary frames to a real connection of a hub
// whose store holds three partitions (with a namespace, a partition list, a
// small cap and a replay allowance, so every resume path can be reached),
// then a ping. Until the pong, every frame is valid, each binary frame
// follows its cursor, offsets never go backwards, and the connection stays
// open unless upstream closes it (oversized frame or map).
func FuzzResumeHandler(f *testing.F) {
	for _, s := range []string{
		`{"type":"resume","lastOffsetsByPartition":{"0":"3","2":"1000000000"},"from":"cursor","resume_namespace":"v1_fuzz"}`,
		`{"type":"resume","lastOffsetsByPartition":{"0":"3"},"resume_namespace":"v1_other"}`,
		`{"type":"resume","lastOffsetsByPartition":{"7":"1","2147483647":"9223372036854775807"},"from":"cursor"}`,
		`{"type":"resume","lastOffsetsByPartition":{},"from":"earliest"}`,
		`{"type":"resume","lastOffsetsByPartition":{"1":"12"},"from":"latest"}`,
		`{"type":"resume","mode":"thread","lastSequencesByThread":{"thread-0":"2","nope":0}}`,
		`{"type":"resume","resume_namespace":{"x":[]},"lastOffsetsByPartition":{"0":-1}}`,
		`{"type":"cursor_reset"}`, `{"type":"ping"}`, `not json`,
	} {
		f.Add([]byte(s))
	}
	g := newGateway(f, Config{Namespace: "v1_fuzz", ReplayMaxTotal: 7, ReplayRate: 1_000_000,
		Partitions: func() []int32 { return []int32{0, 1, 2} }}, nil, nil, nil)
	for p := range int32(3) {
		g.produce(p, 20)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, g.url(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		ws.SetReadLimit(16 << 20)
		if err := ws.Write(ctx, websocket.MessageText, frame); err != nil {
			t.Fatal(err)
		}
		ws.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`)) // fails if the server closed: checked below
		var pending *control.Cursor
		last := map[int32]int64{}
		for {
			typ, data, err := ws.Read(ctx)
			if err != nil {
				if st := websocket.CloseStatus(err); st == websocket.StatusMessageTooBig || st == websocket.StatusPolicyViolation {
					return // upstream's disconnects: oversized frame, oversized map
				}
				t.Fatalf("connection ended after %q: %v", frame, err)
			}
			if typ == websocket.MessageBinary {
				if pending == nil {
					t.Fatal("binary frame without a cursor")
				}
				if o, ok := last[pending.Partition]; ok && pending.Offset <= o {
					t.Fatalf("offset %d/%d after %d", pending.Partition, pending.Offset, o)
				}
				last[pending.Partition] = pending.Offset
				pending = nil
				continue
			}
			m, err := control.Parse(data)
			if err != nil {
				t.Fatalf("invalid frame %q: %v", data, err)
			}
			if pending != nil {
				t.Fatalf("%q between a cursor and its value", data)
			}
			switch m := m.(type) {
			case *control.Cursor:
				pending = m
			case *control.Pong:
				return
			}
		}
	})
}

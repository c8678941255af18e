package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/server/metrics"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// gateway is a hub on a real memory ring behind a real HTTP server.
type gateway struct {
	t     testing.TB
	hub   *Hub
	store replay.Store
	srv   *httptest.Server
	m     *metrics.Gateway
	mu    sync.Mutex
	next  map[int32]int64
}

func newGateway(t testing.TB, cfg Config, store replay.Store, deep Deep, skips Skips) *gateway {
	t.Helper()
	if store == nil {
		ring, err := memory.New(memory.Config{MaxRecords: 100_000})
		if err != nil {
			t.Fatal(err)
		}
		store = ring
	}
	m := metrics.New()
	h := New(cfg, store, deep, skips, m, quiet)
	mux := http.NewServeMux()
	mux.Handle("/ws", h)
	srv := httptest.NewServer(mux)
	g := &gateway{t: t, hub: h, store: store, srv: srv, m: m, next: map[int32]int64{}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.Close()
	})
	return g
}

// value is a real DashStream event for thread th with sequence seq.
func value(t testing.TB, th string, seq uint64) []byte {
	v, err := protocol.Encode(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header:    &pb.Header{ThreadId: th, Sequence: seq, Type: pb.MessageType_MESSAGE_TYPE_EVENT, SchemaVersion: 1},
		EventType: pb.EventType_EVENT_TYPE_NODE_START, NodeId: fmt.Sprintf("node-%d", seq),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// record builds a record of thread th (seq = offset+1) at partition p, offset o.
func record(t testing.TB, p int32, o int64, th string) replay.Record {
	seq := uint64(o + 1)
	return replay.Record{Partition: p, Offset: o, Value: value(t, th, seq), Threads: []replay.ThreadSeq{{Thread: th, Seq: seq}}}
}

// ingest does what the source does: store first, then publish.
func (g *gateway) ingest(recs ...replay.Record) {
	for _, r := range recs {
		if err := g.store.Append(context.Background(), r); err != nil {
			g.t.Fatal(err)
		}
		g.hub.Publish(r)
	}
}

// produce appends n consecutive records to partition p.
func (g *gateway) produce(p int32, n int) []replay.Record {
	g.mu.Lock()
	var recs []replay.Record
	for range n {
		o := g.next[p]
		g.next[p] = o + 1
		recs = append(recs, record(g.t, p, o, fmt.Sprintf("thread-%d", p)))
	}
	g.mu.Unlock()
	g.ingest(recs...)
	return recs
}

func (g *gateway) url() string { return "ws" + strings.TrimPrefix(g.srv.URL, "http") + "/ws" }

// client is a test WebSocket client that checks the pairing invariant on
// every frame it reads.
type client struct {
	t       testing.TB
	ws      *websocket.Conn
	pending *control.Cursor
}

func (g *gateway) dial(opts *websocket.DialOptions) *client {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, g.url(), opts)
	if err != nil {
		g.t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(64 << 20)
	c := &client{t: g.t, ws: ws}
	g.t.Cleanup(func() { ws.CloseNow() })
	return c
}

func (c *client) send(m control.Message) {
	c.t.Helper()
	c.sendRaw(string(m.AppendJSON(nil)))
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// event is what a client read: a record (cursor + value) or a control message.
type event struct {
	rec replay.Record
	msg control.Message
}

func (e event) String() string {
	if e.msg != nil {
		return string(e.msg.AppendJSON(nil))
	}
	return fmt.Sprintf("record %d/%d", e.rec.Partition, e.rec.Offset)
}

// next reads the next record or non-cursor control message.
func (c *client) next(timeout time.Duration) (event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			return event{}, err
		}
		if typ == websocket.MessageBinary {
			if c.pending == nil {
				c.t.Fatalf("binary frame without a preceding cursor")
			}
			e := event{rec: replay.Record{Partition: c.pending.Partition, Offset: c.pending.Offset, Value: data}}
			c.pending = nil
			return e, nil
		}
		msg, err := control.Parse(data)
		if err != nil {
			c.t.Fatalf("server sent an invalid control frame %q: %v", data, err)
		}
		if cur, ok := msg.(*control.Cursor); ok {
			if c.pending != nil {
				c.t.Fatalf("two cursors in a row: %v then %v", c.pending, cur)
			}
			c.pending = cur
			continue
		}
		if c.pending != nil {
			c.t.Fatalf("%s between a cursor and its binary frame", data)
		}
		return event{msg: msg}, nil
	}
}

func (c *client) mustNext() event {
	c.t.Helper()
	e, err := c.next(10 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return e
}

// records reads n records, failing on any control message.
func (c *client) records(n int) []replay.Record {
	c.t.Helper()
	out := make([]replay.Record, 0, n)
	for len(out) < n {
		e := c.mustNext()
		if e.msg != nil {
			c.t.Fatalf("after %d records: unexpected %s", len(out), e)
		}
		out = append(out, e.rec)
	}
	return out
}

// until reads events until one of type T arrives and returns everything read.
func until[T control.Message](c *client) ([]event, T) {
	c.t.Helper()
	var seen []event
	for {
		e := c.mustNext()
		if m, ok := e.msg.(T); ok {
			return seen, m
		}
		seen = append(seen, e)
	}
}

func offsets(recs []replay.Record) string {
	parts := make([]string, len(recs))
	for i, r := range recs {
		parts[i] = fmt.Sprintf("%d/%d", r.Partition, r.Offset)
	}
	return strings.Join(parts, " ")
}

func recordsOf(events []event) []replay.Record {
	var out []replay.Record
	for _, e := range events {
		if e.msg == nil {
			out = append(out, e.rec)
		}
	}
	return out
}

func span(p int32, from, to int64) string {
	var parts []string
	for o := from; o <= to; o++ {
		parts = append(parts, fmt.Sprintf("%d/%d", p, o))
	}
	return strings.Join(parts, " ")
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// eventually polls cond until it holds; the deadline only bounds a hang.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

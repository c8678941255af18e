package hub

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/source"
)

// TestResume_CursorPastTheLogEndIsStaleNeverSilent: a cursor at or beyond
// a partition's end cannot name a record of this log (it was recreated or
// damaged). The client hears cursor_stale before anything of the partition,
// the partition replays from its oldest record, and live records flow;
// upstream restarted it from offset 1 without a word, and a version of ours
// blacked it out.
func TestResume_CursorPastTheLogEndIsStaleNeverSilent(t *testing.T) {
	for _, tt := range []struct {
		name   string
		cursor int64
		stale  bool
	}{
		{"far beyond", 1_000_000_000, true},
		{"one past the newest record", 10, true},
		{"the newest record", 9, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, Config{}, nil, nil, nil)
			g.produce(0, 10)
			g.produce(1, 3)
			c := g.dial(nil)
			c.send(partitionResume(control.FromCursor, map[int32]int64{0: tt.cursor, 1: 2}))
			events, done := until[*control.ReplayComplete](c)
			if !tt.stale {
				if len(events) != 0 || !done.Live {
					t.Fatalf("a valid cursor got %v then %s", events, done.AppendJSON(nil))
				}
			} else {
				stale, ok := events[0].msg.(*control.CursorStale)
				if !ok || stale.Partition != 0 || stale.Requested != tt.cursor || stale.Oldest != 0 || stale.Reason != control.StalePastEnd {
					t.Fatalf("first event %s, want cursor_stale past_end for partition 0", events[0])
				}
				if got := offsets(recordsOf(events[1:])); got != span(0, 0, 9) {
					t.Fatalf("after the notice: %s, want the partition from its oldest record", got)
				}
			}
			g.produce(0, 1)
			g.produce(1, 1)
			if got := offsets(c.records(2)); got != "0/10 1/3" {
				t.Errorf("live records after the resume: %s", got)
			}
		})
	}
}

// TestResume_CursorAheadOfTheStoreButInKafkaIsValid is the race the
// past-end check must not lose: the client got a record from Kafka (through
// another instance) before this instance's store holds it. Kafka's high
// watermark, which only grows, decides.
func TestResume_CursorAheadOfTheStoreButInKafkaIsValid(t *testing.T) {
	k, recs := kafkaWith50(t)
	fetcher := source.NewFetcher(source.Config{Brokers: k.ListenAddrs(), Topic: "events"}, 2)
	defer fetcher.Close()
	g := newGateway(t, Config{}, nil, fetcher, nil)
	g.ingest(recs[:45]...) // 45..49 are in Kafka, not yet in the store

	c := g.dial(nil)
	c.send(partitionResume(control.FromCursor, map[int32]int64{0: 47}))
	events, _ := until[*control.ReplayComplete](c)
	if len(events) != 0 {
		t.Fatalf("a cursor Kafka holds got %v", events)
	}
	g.ingest(recs[45:]...)
	if got := offsets(c.records(2)); got != "0/48 0/49" {
		t.Errorf("live after the cursor: %s", got)
	}

	// At Kafka's high watermark the cursor names nothing: stale.
	c.send(partitionResume(control.FromCursor, map[int32]int64{0: 50}))
	events, _ = until[*control.ReplayComplete](c)
	if stale, ok := events[0].msg.(*control.CursorStale); !ok || stale.Reason != control.StalePastEnd || stale.Oldest != 0 {
		t.Fatalf("cursor at the high watermark: first event %s", events[0])
	}
	if got := offsets(recordsOf(events)); got != span(0, 0, 49) {
		t.Errorf("after the notice: %s", got)
	}
}

// TestResume_OtherNamespaceMakesEveryCursorStale: a resume whose
// resume_namespace is not the gateway's (the log was recreated, or another
// topic or cluster) has offsets that name other records; each partition of
// its map is answered with cursor_stale before anything is replayed.
func TestResume_OtherNamespaceMakesEveryCursorStale(t *testing.T) {
	for _, tt := range []struct {
		name, ns string
		stale    bool
	}{
		{"another namespace", "v1_old", true},
		{"the gateway's namespace", "v1_now", false},
		{"no namespace (upstream clients)", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, Config{Namespace: "v1_now"}, nil, nil, nil)
			g.produce(0, 6)
			g.produce(1, 6)
			g.produce(2, 2)
			c := g.dial(nil)
			r := partitionResume(control.FromCursor, map[int32]int64{0: 3, 1: 5})
			r.Namespace = tt.ns
			c.send(r)
			events, _ := until[*control.ReplayComplete](c)
			if !tt.stale {
				if got := offsets(recordsOf(events)); got != "0/4 0/5 "+span(2, 0, 1) || len(recordsOf(events)) != len(events) {
					t.Fatalf("replayed %v", events)
				}
				return
			}
			for i, p := range []int32{0, 1} {
				s, ok := events[i].msg.(*control.CursorStale)
				if !ok || s.Partition != p || s.Reason != control.StaleOtherNamespace || s.Oldest != 0 {
					t.Fatalf("event %d: %s, want cursor_stale other_namespace for partition %d", i, events[i], p)
				}
			}
			if got := offsets(recordsOf(events[2:])); got != span(0, 0, 5)+" "+span(1, 0, 5)+" "+span(2, 0, 1) {
				t.Errorf("after the notices: %s", got)
			}
		})
	}
}

// countingDeep counts what the hub asks Kafka, per partition.
type countingDeep struct {
	Deep
	mu    sync.Mutex
	asked map[int32]int
}

func (d *countingDeep) count(p int32) {
	d.mu.Lock()
	d.asked[p]++
	d.mu.Unlock()
}

func (d *countingDeep) Bounds(ctx context.Context, p int32) (int64, int64, error) {
	d.count(p)
	return d.Deep.Bounds(ctx, p)
}

func (d *countingDeep) Range(ctx context.Context, p int32, from, to int64, fn func(replay.Record) error) (int64, error) {
	d.count(p)
	return d.Deep.Range(ctx, p, from, to, fn)
}

// countingHandler counts log records at WARN and above.
type countingHandler struct{ n atomic.Int64 }

func (h *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *countingHandler) Handle(context.Context, slog.Record) error    { h.n.Add(1); return nil }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *countingHandler) WithGroup(string) slog.Handler                { return h }

// TestResume_UnknownPartitionsCostOneErrorNoKafkaAndOneLogLine: a resume
// naming partitions the topic does not have used to cost two Kafka
// requests and a WARN line per partition per frame.
func TestResume_UnknownPartitionsCostOneErrorNoKafkaAndOneLogLine(t *testing.T) {
	k, recs := kafkaWith50(t)
	fetcher := source.NewFetcher(source.Config{Brokers: k.ListenAddrs(), Topic: "events"}, 2)
	defer fetcher.Close()
	deep := &countingDeep{Deep: fetcher, asked: map[int32]int{}}
	g := newGateway(t, Config{Partitions: func() []int32 { return []int32{0} }}, nil, deep, nil)
	logs := &countingHandler{}
	g.hub.log = slog.New(logs)
	g.ingest(recs[40:]...)

	offsets := map[int32]int64{0: 44}
	for p := int32(1); p < control.MaxResumePartitions; p++ {
		offsets[p*2_000_000] = 7
	}
	c := g.dial(nil)
	for range 3 {
		c.send(partitionResume(control.FromCursor, offsets))
		events, done := until[*control.ReplayComplete](c)
		var errs []*control.Error
		for _, e := range events {
			if m, ok := e.msg.(*control.Error); ok {
				errs = append(errs, m)
			}
		}
		if len(errs) != 1 || errs[0].Code != control.CodeResumeUnknownPartitions || len(errs[0].AppendJSON(nil)) > 512 ||
			!strings.Contains(errs[0].Message, "1023 partition(s)") {
			t.Fatalf("errors %v, want one bounded RESUME_UNKNOWN_PARTITIONS", errs)
		}
		if got := recordsOf(events); len(got) != 5 || got[0].Offset != 45 || !done.Live {
			t.Fatalf("the known partition replayed %v", got)
		}
	}
	deep.mu.Lock()
	asked := len(deep.asked)
	deep.mu.Unlock()
	if asked != 0 {
		t.Errorf("Kafka was asked about %d partitions, want none (the store held what was needed)", asked)
	}
	if n := logs.n.Load(); n != 1 {
		t.Errorf("%d warning lines for three hostile resumes, want one per connection", n)
	}
	if n := testutil.ToFloat64(g.m.ResumeUnknownPartitions); n != 3 {
		t.Errorf("unknown-partition resumes counted %v, want 3", n)
	}
}

// TestReplayRate_BoundsReplayWorkPerClient: a client looping full replays
// used to take about 0.9 core. Its replayed records are now bounded by the
// allowance (its bucket plus ReplayRate per second of the test), every
// request is still answered, and each time a request waits the client is
// told.
func TestReplayRate_BoundsReplayWorkPerClient(t *testing.T) {
	const rate, cap, loops = 2000, 300, 25
	g := newGateway(t, Config{ReplayMaxTotal: cap, ReplayRate: rate}, nil, nil, nil)
	g.produce(0, 3000)
	c := g.dial(nil)
	began := time.Now()
	records, limited := 0, 0
	for range loops {
		c.send(partitionResume(control.FromEarliest, nil))
		events, _ := until[*control.ReplayComplete](c)
		records += len(recordsOf(events))
		for _, e := range events {
			if m, ok := e.msg.(*control.Error); ok && m.Code == control.CodeReplayRateLimited {
				limited++
			}
		}
	}
	elapsed := time.Since(began)
	// A capped resume's continuation may finish (with its own
	// replay_complete) before the next resume replaces it, so the loop may
	// have taken that for a reply: requests are served in order, so what is
	// left comes before the answer to a last "latest" resume.
	c.send(partitionResume(control.FromLatest, nil))
	for {
		e := c.mustNext()
		if m, ok := e.msg.(*control.Error); ok && m.Code == control.CodeReplayRateLimited {
			limited++
		}
		if m, ok := e.msg.(*control.ReplayComplete); ok && m.Mode == control.FromLatest {
			break
		}
	}
	// The server's own count of replayed records is the bound's subject:
	// it includes continuation pages.
	replayed := testutil.ToFloat64(g.m.ReplayMessages.WithLabelValues(control.ModePartition))
	allowed := float64(max(rate, cap)) + rate*elapsed.Seconds()
	t.Logf("%d resumes in %v: %v records replayed (%d read before each replay_complete), allowance %.0f; told to wait %d times",
		loops, elapsed.Round(time.Millisecond), replayed, records, allowed, limited)
	if replayed > allowed {
		t.Errorf("replayed %v records, more than the allowance %.0f", replayed, allowed)
	}
	// (That a waiting request is told so is checked where it surely waits:
	// TestResume_ANewResumeReplacesTheContinuation.)
	if n := testutil.ToFloat64(g.m.ReplayRateLimited); n != float64(limited) {
		t.Errorf("rate-limited requests counted %v, told %d", n, limited)
	}
}

// rawConn is a WebSocket connection made by hand, to send frames no
// library would.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

// rawDial upgrades a TCP connection by hand; a readBuffer above 0 shrinks
// its socket's receive buffer (a client that stops reading fills it soon).
func rawDial(t *testing.T, g *gateway, readBuffer int) *rawConn {
	t.Helper()
	u, err := url.Parse(g.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if readBuffer > 0 {
		if err := nc.(*net.TCPConn).SetReadBuffer(readBuffer); err != nil {
			t.Fatal(err)
		}
	}
	key := make([]byte, 16)
	rand.Read(key)
	fmt.Fprintf(nc, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", u.Host, base64.StdEncoding.EncodeToString(key))
	r := bufio.NewReader(nc)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return &rawConn{Conn: nc, r: r}
}

// masked returns a client frame: first byte b0, the payload masked.
func masked(b0 byte, payload []byte) []byte {
	mask := []byte{1, 2, 3, 4}
	f := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n < 1<<16:
		f = binary.BigEndian.AppendUint16(append(f, 0x80|126), uint16(n))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(n))
	}
	f = append(f, mask...)
	for i, b := range payload {
		f = append(f, b^mask[i%4])
	}
	return f
}

// text sends a control message as a masked text frame.
func (c *rawConn) text(t *testing.T, m control.Message) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(masked(0x81, m.AppendJSON(nil))); err != nil {
		t.Fatal(err)
	}
}

// closeCode reads frames until the server's close frame and returns its
// code; the deadline only bounds a hang.
func (c *rawConn) closeCode(t *testing.T) int {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.r, h[:]); err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		n := int64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			io.ReadFull(c.r, b[:])
			n = int64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			io.ReadFull(c.r, b[:])
			n = int64(binary.BigEndian.Uint64(b[:]))
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(c.r, payload); err != nil {
			t.Fatalf("frame payload: %v", err)
		}
		if h[0]&0x0f == 0x8 {
			if len(payload) < 2 {
				return 1005
			}
			return int(binary.BigEndian.Uint16(payload))
		}
	}
}

// TestProtocolErrors_CloseWith1002: frames that break RFC 6455 end the
// connection with 1002, not 1000 (which claims all went well).
func TestProtocolErrors_CloseWith1002(t *testing.T) {
	huge := func(n uint64) []byte {
		f := []byte{0x82, 0x80 | 127}
		f = binary.BigEndian.AppendUint64(f, n)
		return append(f, 1, 2, 3, 4)
	}
	for _, tt := range []struct {
		name  string
		frame []byte
		want  int
	}{
		{"unmasked text frame", []byte{0x81, 5, 'h', 'e', 'l', 'l', 'o'}, 1002},
		{"declared length 2^63", huge(1 << 63), 1002},
		{"declared length 2^64-1", huge(1<<64 - 1), 1002},
		{"reserved opcode", masked(0x83, []byte("x")), 1002},
		{"reserved bits", masked(0xC1, []byte("x")), 1002},
		{"fragmented ping", masked(0x09, []byte("x")), 1002},
		// Well formed but over the read limit: refused once the limit is read.
		{"declared length 2^63-1", append(huge(1<<63-1), make([]byte, control.MaxControlFrameBytes+16)...), 1009},
		{"a proper close", masked(0x88, []byte{0x03, 0xe8}), 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, Config{}, nil, nil, nil)
			c := rawDial(t, g, 0)
			waitClients(t, g, 1)
			if _, err := c.Write(tt.frame); err != nil {
				t.Fatal(err)
			}
			if got := c.closeCode(t); got != tt.want {
				t.Errorf("closed with %d, want %d", got, tt.want)
			}
		})
	}
}

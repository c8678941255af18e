package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/centrifugal/centrifuge"
	"github.com/centrifugal/protocol"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/admit"
	"github.com/dashstream/dashstream/server/internal/benchtable"
	"github.com/dashstream/dashstream/server/internal/wsbench"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
)

// Fan-out beside Centrifugo (issue 13 §3b). The same n clients (wsbench, a
// lean reader that leaves the machine to the servers) follow one stream on each system in
// the same run: our hub on its memory replay ring, and a centrifuge.Node with
// its memory broker (no history: recovery is not part of the figure), whose
// clients speak its protobuf protocol over raw WebSocket and subscribe to one
// channel. Both get the same records (~1 KB DashStream values), published
// from one goroutine:
//   - delivered/s: a burst of peerBurst(n) records published back to back,
//     from the first publish to the last record read by the last client
//     (the median of fanoutRounds bursts).
//     Both are configured to queue the whole burst per client (our
//     ClientQueue, Centrifugo's ClientQueueMaxSize), so neither drops or
//     disconnects a client;
//   - p50/p99: peerLatencyDeliveries per second (records/s = that / n) for
//     peerLatencyFor, from publish to read, both systems at once, record by
//     record (the median of the rounds' percentiles).
const (
	peerChannel           = "records"
	peerLatencyDeliveries = 10_000
	peerLatencyFor        = 2 * time.Second
	peerDeadline          = 2 * time.Minute
	// peerSendTimeout bounds one write on both sides: long, since a
	// benchmark client starved of CPU on a shared machine is not a slow
	// client to disconnect.
	peerSendTimeout = 30 * time.Second
)

// peerBurst is the burst size for n clients: 50,000 to 200,000 deliveries.
func peerBurst(n int) int {
	switch {
	case n <= 10:
		return 5000
	case n <= 100:
		return 1000
	default:
		return 200
	}
}

// fanoutSystem is one side of the comparison.
type fanoutSystem interface {
	// dial connects one client and returns once live records reach it.
	dial(ctx context.Context) (fanoutClient, error)
	publish(rec replay.Record)
	close()
}

// fanoutClient reads record values; the slice is valid until the next call.
type fanoutClient interface {
	next() ([]byte, error)
	closeNow()
}

// fanoutRounds is how many times each system runs the burst and the paced
// stream, alternately, on the same connections: the machine is shared, and
// alternating short rounds exposes both to the same noise.
const fanoutRounds = 3

func BenchmarkFanoutPeer(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			if err := wsbench.RaiseFileLimit(uint64(4*n + 1024)); err != nil {
				b.Skip(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), peerDeadline)
			defer cancel()
			burst := peerBurst(n)
			paced := peerLatencyDeliveries * int(peerLatencyFor/time.Second) / n
			recs := make([]replay.Record, fanoutRounds*(burst+paced))
			for i := range recs {
				recs[i] = record(b, 0, int64(i), "peer")
				recs[i].Value = append(recs[i].Value, make([]byte, 1024-len(recs[i].Value))...)
			}
			systems := []*fanoutRun{
				{name: "ours", sys: newOurFanout(b, len(recs))},
				{name: "centrifuge", sys: newCentrifugeFanout(b, len(recs))},
			}
			for _, r := range systems {
				defer r.sys.close()
				r.connect(b, ctx, n)
				defer r.closeClients()
			}
			for round := range fanoutRounds {
				from := round * (burst + paced)
				for i := range systems {
					systems[(i+round)%2].burst(b, ctx, recs[from:from+burst]) // who goes first alternates
				}
				pacedTogether(b, ctx, systems, recs[from+burst:from+burst+paced])
			}
			ours, peer := systems[0].result(), systems[1].result()
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ours.deliveredPerSec, "ours-delivered/s")
			b.ReportMetric(peer.deliveredPerSec, "centrifuge-delivered/s")
			b.ReportMetric(ours.deliveredPerSec/peer.deliveredPerSec, "delivered-ratio")
			b.ReportMetric(ms(ours.p99), "ours-p99_ms")
			b.ReportMetric(ms(peer.p99), "centrifuge-p99_ms")
			b.ReportMetric(ms(ours.p50), "ours-p50_ms")
			b.ReportMetric(ms(peer.p50), "centrifuge-p50_ms")
			b.ReportMetric(0, "ns/op")
			ratio := ours.deliveredPerSec / peer.deliveredPerSec
			benchtable.Print(fmt.Sprintf("fan-out %d clients delivered/s vs Centrifugo", n),
				fmt.Sprintf("%.0f", ours.deliveredPerSec), fmt.Sprintf("%.0f", peer.deliveredPerSec),
				fmt.Sprintf("%.2f×", ratio), "≥ 1.0×", ratio >= 1)
			// Lower is better: the ratio is theirs over ours, so ≥ 1 means ours is faster.
			pr := float64(peer.p99) / float64(ours.p99)
			benchtable.Print(fmt.Sprintf("fan-out %d clients p99 vs Centrifugo (%d rec/s)", n, peerLatencyDeliveries/n),
				fmt.Sprintf("%.2f ms", ms(ours.p99)), fmt.Sprintf("%.2f ms", ms(peer.p99)),
				fmt.Sprintf("%.2f× (theirs/ours)", pr), "≥ 1.0×", pr >= 1)
		})
	}
}

// fanoutRun is one system with its clients and what its rounds measured.
type fanoutRun struct {
	name    string
	sys     fanoutSystem
	clients []fanoutClient
	rates   []float64       // delivered/s of each burst
	p50s    []time.Duration // of each paced stream
	p99s    []time.Duration
}

// fanoutResult is one system's figures: the median of its rounds, so that
// one round hit by the shared machine's load does not decide the figure.
type fanoutResult struct {
	deliveredPerSec float64
	p50, p99        time.Duration
}

func (r *fanoutRun) result() fanoutResult {
	slices.Sort(r.rates)
	slices.Sort(r.p50s)
	slices.Sort(r.p99s)
	return fanoutResult{
		deliveredPerSec: r.rates[len(r.rates)/2],
		p50:             r.p50s[len(r.p50s)/2],
		p99:             r.p99s[len(r.p99s)/2],
	}
}

// connect dials n clients, 32 at a time; ctx's end closes their sockets,
// which ends any read.
func (r *fanoutRun) connect(b *testing.B, ctx context.Context, n int) {
	r.clients = make([]fanoutClient, n)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range min(n, 32) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n && failed.Load() == nil; i = int(next.Add(1)) - 1 {
				c, err := r.sys.dial(ctx)
				if err != nil {
					err = fmt.Errorf("%s client %d: %w", r.name, i, err)
					failed.Store(&err)
					return
				}
				r.clients[i] = c
			}
		}()
	}
	wg.Wait()
	context.AfterFunc(ctx, r.closeClients)
	if err := failed.Load(); err != nil {
		r.closeClients()
		b.Fatal(*err)
	}
}

func (r *fanoutRun) closeClients() {
	for _, c := range r.clients {
		if c != nil {
			c.closeNow()
		}
	}
}

// read has every client read recs, in order and byte for byte; each client
// calls at(i, k, now) for record k. The returned channel closes when all are
// done; the error, if any, is in *failed.
func (r *fanoutRun) read(recs []replay.Record, at func(client, k int, now time.Time)) (<-chan struct{}, *atomic.Pointer[error]) {
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for i, c := range r.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range recs {
				v, err := c.next()
				if err == nil && !bytes.Equal(v, recs[k].Value) {
					err = fmt.Errorf("got %d bytes that are not the record published", len(v))
				}
				if err != nil {
					err = fmt.Errorf("%s client %d, record %d of %d: %w", r.name, i, k, len(recs), err)
					failed.CompareAndSwap(nil, &err)
					return
				}
				at(i, k, time.Now())
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done, &failed
}

func wait(b *testing.B, ctx context.Context, done <-chan struct{}, failed *atomic.Pointer[error]) {
	select {
	case <-done:
	case <-ctx.Done():
		b.Fatalf("not delivered: %v", ctx.Err())
	}
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
}

// burst publishes recs back to back; delivered/s runs from the first publish
// to the last read.
func (r *fanoutRun) burst(b *testing.B, ctx context.Context, recs []replay.Record) {
	var last atomic.Int64
	done, failed := r.read(recs, func(_, k int, now time.Time) {
		if k == len(recs)-1 {
			for t := now.UnixNano(); ; {
				old := last.Load()
				if t <= old || last.CompareAndSwap(old, t) {
					break
				}
			}
		}
	})
	start := time.Now()
	for _, rec := range recs {
		r.sys.publish(rec)
	}
	wait(b, ctx, done, failed)
	r.rates = append(r.rates, float64(len(r.clients)*len(recs))/time.Unix(0, last.Load()).Sub(start).Seconds())
}

// pacedTogether publishes recs to every system at peerLatencyDeliveries/n
// records/s each, one record to all of them at each tick (who comes first
// alternates), and notes each delivery's latency: both systems are measured
// in the same seconds of the shared machine.
func pacedTogether(b *testing.B, ctx context.Context, systems []*fanoutRun, recs []replay.Record) {
	type pacing struct {
		sent   []atomic.Int64 // publish time of record k, in Unix ns
		lat    [][]time.Duration
		done   <-chan struct{}
		failed *atomic.Pointer[error]
	}
	ps := make([]*pacing, len(systems))
	for i, r := range systems {
		p := &pacing{sent: make([]atomic.Int64, len(recs)), lat: make([][]time.Duration, len(r.clients))}
		p.done, p.failed = r.read(recs, func(c, k int, now time.Time) {
			p.lat[c] = append(p.lat[c], now.Sub(time.Unix(0, p.sent[k].Load())))
		})
		ps[i] = p
	}
	tick := time.NewTicker(time.Second * time.Duration(len(systems[0].clients)) / peerLatencyDeliveries)
	defer tick.Stop()
	for k, rec := range recs {
		select {
		case <-tick.C:
		case <-ctx.Done():
			b.Fatalf("paced stream: %v", ctx.Err())
		}
		for j := range systems {
			i := (j + k) % len(systems)
			ps[i].sent[k].Store(time.Now().UnixNano())
			systems[i].sys.publish(rec)
		}
	}
	for i, r := range systems {
		wait(b, ctx, ps[i].done, ps[i].failed)
		var all []time.Duration
		for _, l := range ps[i].lat {
			all = append(all, l...)
		}
		slices.Sort(all)
		r.p50s = append(r.p50s, all[len(all)/2])
		r.p99s = append(r.p99s, all[int(0.99*float64(len(all)-1))])
	}
}

// ourFanout is our hub on a memory ring behind an HTTP server.
type ourFanout struct {
	g *gateway
}

func newOurFanout(b *testing.B, records int) *ourFanout {
	ring, err := memory.New(memory.Config{MaxRecords: records + 1, MaxBytes: int64(records+1) * 2048})
	if err != nil {
		b.Fatal(err)
	}
	return &ourFanout{g: newGateway(b, Config{ClientQueue: records, SlowClientThreshold: 0, SendTimeout: peerSendTimeout, Admission: benchAdmission}, ring, nil, nil)}
}

// benchAdmission lets every benchmark client in: they all come from 127.0.0.1.
var benchAdmission = admit.Policy{MaxPerIP: 1 << 20}

func (o *ourFanout) dial(ctx context.Context) (fanoutClient, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, err := wsbench.Dial(dctx, o.g.url())
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(dctx, func() { ws.Close() })
	defer stop()
	if err := ws.Write(wsbench.Text, control.NewPartitionResume(control.FromLatest, nil).AppendJSON(nil)); err != nil {
		ws.Close()
		return nil, err
	}
	for {
		op, data, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return nil, fmt.Errorf("waiting for replay_complete: %w", err)
		}
		if op == wsbench.Text && bytes.Contains(data, []byte(`"replay_complete"`)) {
			return &ourClient{ws: ws}, nil
		}
	}
}

func (o *ourFanout) publish(rec replay.Record) { o.g.ingest(rec) }
func (o *ourFanout) close()                    {} // newGateway's cleanup shuts it down

type ourClient struct {
	ws *wsbench.Conn
}

// next skips the cursor frame and returns the value that follows it.
func (c *ourClient) next() ([]byte, error) {
	for {
		op, data, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		if op == wsbench.Binary {
			return data, nil
		}
		if !bytes.HasPrefix(data, []byte(`{"type":"cursor"`)) {
			return nil, fmt.Errorf("unexpected %s", data)
		}
	}
}

func (c *ourClient) closeNow() { c.ws.Close() }

// centrifugeFanout is a centrifuge.Node with the memory broker and its
// WebSocket handler behind an HTTP server.
type centrifugeFanout struct {
	node *centrifuge.Node
	srv  *httptest.Server
}

func newCentrifugeFanout(b *testing.B, records int) *centrifugeFanout {
	node, err := centrifuge.New(centrifuge.Config{
		LogLevel:           centrifuge.LogLevelError,
		LogHandler:         func(e centrifuge.LogEntry) { b.Errorf("centrifuge: %s %v", e.Message, e.Fields) },
		ClientQueueMaxSize: records * 2048, // the whole burst, as our ClientQueue
	})
	if err != nil {
		b.Fatal(err)
	}
	node.OnConnect(func(c *centrifuge.Client) {
		c.OnSubscribe(func(_ centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{}, nil)
		})
	})
	if err := node.Run(); err != nil {
		b.Fatal(err)
	}
	ws := centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{
		CheckOrigin:  func(*http.Request) bool { return true },
		WriteTimeout: peerSendTimeout,
		// No application-level pings, as our hub has none.
		PingPongConfig: centrifuge.PingPongConfig{PingInterval: -1, PongTimeout: -1},
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := centrifuge.SetCredentials(r.Context(), &centrifuge.Credentials{UserID: "bench"})
		ws.ServeHTTP(w, r.WithContext(ctx))
	}))
	return &centrifugeFanout{node: node, srv: srv}
}

func (s *centrifugeFanout) dial(ctx context.Context) (fanoutClient, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, err := wsbench.Dial(dctx, "ws"+strings.TrimPrefix(s.srv.URL, "http"), "centrifuge-protobuf")
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(dctx, func() { ws.Close() })
	defer stop()
	enc := protocol.NewProtobufCommandEncoder()
	connect, _ := enc.Encode(&protocol.Command{Id: 1, Connect: &protocol.ConnectRequest{}})
	subscribe, _ := enc.Encode(&protocol.Command{Id: 2, Subscribe: &protocol.SubscribeRequest{Channel: peerChannel}})
	if err := ws.Write(wsbench.Binary, append(connect, subscribe...)); err != nil {
		ws.Close()
		return nil, err
	}
	c := &centrifugeClient{ws: ws}
	for {
		reply, err := c.reply()
		if err != nil {
			ws.Close()
			return nil, fmt.Errorf("waiting for the subscribe reply: %w", err)
		}
		if reply.Error != nil {
			ws.Close()
			return nil, fmt.Errorf("centrifuge: %v", reply.Error)
		}
		if reply.Id == 2 {
			return c, nil
		}
	}
}

func (s *centrifugeFanout) publish(rec replay.Record) {
	if _, err := s.node.Publish(peerChannel, rec.Value); err != nil {
		panic(err) // the memory broker does not fail
	}
}

func (s *centrifugeFanout) close() {
	s.srv.CloseClientConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.node.Shutdown(ctx)
	s.srv.Close()
}

// centrifugeClient reads a message at a time; a message may carry several
// replies (varint-length-prefixed), which it hands out one by one.
type centrifugeClient struct {
	ws  *wsbench.Conn
	dec protocol.ProtobufReplyDecoder
}

func (c *centrifugeClient) reply() (*protocol.Reply, error) {
	for {
		r, err := c.dec.Decode()
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, io.EOF) {
			return nil, err
		}
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		c.dec.Reset(data)
	}
}

// next returns the next publication's data, skipping other replies.
func (c *centrifugeClient) next() ([]byte, error) {
	for {
		r, err := c.reply()
		if err != nil {
			return nil, err
		}
		if r.Push != nil && r.Push.Pub != nil {
			return r.Push.Pub.Data, nil
		}
	}
}

func (c *centrifugeClient) closeNow() { c.ws.Close() }

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/internal/redisserver"
	"github.com/dashstream/dashstream/server/source"
)

// The chaos suite (issue 14 §6): attacks on the log and its neighbours,
// short and on loopback, checked through what a WebSocket client receives.

// wsRecord is a record a client received.
type wsRecord struct {
	p int32
	o int64
	v []byte
	// told: the partition's cursor_stale had come before this record.
	told bool
}

// wsClient reads one /ws connection and keeps what it received.
type wsClient struct {
	t  *testing.T
	ws *websocket.Conn

	recs     map[int32]map[int64][]byte
	arrivals []wsRecord
	controls []map[string]any
	stale    map[int32]bool // cursor_stale seen, per partition
	complete bool           // replay_complete seen
	pending  *wsRecord      // a cursor frame waiting for its value
}

func dialWS(t *testing.T, base string, resume string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(32 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	if err := ws.Write(ctx, websocket.MessageText, []byte(resume)); err != nil {
		t.Fatal(err)
	}
	return &wsClient{t: t, ws: ws, recs: map[int32]map[int64][]byte{}, stale: map[int32]bool{}}
}

// readUntil reads frames until cond holds (a generous deadline bounds a
// hang; nothing is asserted about time).
func (c *wsClient) readUntil(what string, cond func() bool) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for !cond() {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v (got %d records, controls %v)", what, err, len(c.arrivals), c.controls)
		}
		if typ == websocket.MessageBinary {
			if c.pending == nil {
				c.t.Fatalf("a value without its cursor frame")
			}
			r := *c.pending
			r.v, r.told = b, c.stale[r.p]
			c.pending = nil
			if c.recs[r.p] == nil {
				c.recs[r.p] = map[int64][]byte{}
			}
			c.recs[r.p][r.o] = b
			c.arrivals = append(c.arrivals, r)
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("text frame %q: %v", b, err)
		}
		p, _ := m["partition"].(float64)
		switch m["type"] {
		case "cursor":
			o, _ := strconv.ParseInt(fmt.Sprint(m["offset"]), 10, 64)
			c.pending = &wsRecord{p: int32(p), o: o}
		case "cursor_stale":
			c.stale[int32(p)] = true
			c.controls = append(c.controls, m)
		case "replay_complete":
			c.complete = true
			c.controls = append(c.controls, m)
		default:
			c.controls = append(c.controls, m)
		}
	}
}

func (c *wsClient) count() int { return len(c.arrivals) }

// lastOffsets returns the newest offset received per partition.
func (c *wsClient) lastOffsets() map[int32]int64 {
	out := map[int32]int64{}
	for p, m := range c.recs {
		for o := range m {
			out[p] = max(out[p], o)
		}
	}
	return out
}

// produceEvents writes n DashStream events of thread th (sequences from
// first) to the gateway's topic, spread over the partitions by key.
func produceEvents(t *testing.T, brokers []string, th string, first uint64, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("dashstream-events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for i := range n {
		seq := first + uint64(i)
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("%s-%d", th, seq%7)), Value: event(t, fmt.Sprintf("%s-%d", th, seq%7), seq)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	_, b := get(t, url, nil)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return v
}

func versionOf(t *testing.T, base string) map[string]any { return getJSON(t, base+"/version") }

func healthOf(t *testing.T, base string) map[string]any { return getJSON(t, base+"/health") }

func resumeFrame(last map[int32]int64, namespace string) string {
	var parts []string
	for p, o := range last {
		parts = append(parts, fmt.Sprintf("%q:%q", strconv.Itoa(int(p)), strconv.FormatInt(o, 10)))
	}
	ns := ""
	if namespace != "" {
		ns = fmt.Sprintf(`,"resume_namespace":%q`, namespace)
	}
	return fmt.Sprintf(`{"type":"resume","mode":"partition","lastOffsetsByPartition":{%s}%s}`, strings.Join(parts, ","), ns)
}

const resumeEarliest = `{"type":"resume","mode":"partition","from":"earliest"}`

// firstSegment returns partition p's first segment file of the gateway's
// embedded log.
func firstSegment(t *testing.T, kafkaDir string, p int) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(kafkaDir, "partitions", fmt.Sprintf("dashstream-events-%d", p), "*.dat"))
	if len(m) == 0 {
		t.Fatalf("no segment of partition %d", p)
	}
	return m[0]
}

func mutate(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestChaos_DamagedLogBetweenRuns_ClientIsToldAndNeverGetsAnotherRecord
// damages the embedded log's folder between two runs of the gateway, in
// each way the attack used. Then a client that holds the first run's
// cursors (and namespace) resumes: the namespace must have changed, the
// client must get cursor_stale for its partitions before any record of
// them, and no record it gets may differ from the one it had under the
// same offset unless cursor_stale came first. /health names the damage.
func TestChaos_DamagedLogBetweenRuns_ClientIsToldAndNeverGetsAnotherRecord(t *testing.T) {
	web := testWeb(t)
	cases := []struct {
		name   string
		damage func(t *testing.T, kafkaDir string)
	}{
		{"kafka folder removed", func(t *testing.T, dir string) { os.RemoveAll(dir) }},
		{"topics.json corrupt", func(t *testing.T, dir string) {
			mutate(t, filepath.Join(dir, "topics.json"), func(b []byte) []byte { return b[:len(b)/2] })
		}},
		{"segment truncated", func(t *testing.T, dir string) {
			mutate(t, firstSegment(t, dir, 0), func(b []byte) []byte { return b[:len(b)/2] })
		}},
		{"segment zeroed", func(t *testing.T, dir string) {
			mutate(t, firstSegment(t, dir, 0), func(b []byte) []byte { return make([]byte, len(b)) })
		}},
		{"segment bit-flipped", func(t *testing.T, dir string) {
			mutate(t, firstSegment(t, dir, 0), flipMiddle)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := startFixedGateway(t, web, "--demo", "off")
			eventually(t, "ready", func() bool { resp, _ := get(t, f.url()+"/readyz", nil); return resp.StatusCode == 200 })
			const n = 400
			produceEvents(t, f.gw.brokers, "run1", 1, n)
			had := dialWS(t, f.url(), resumeEarliest)
			had.readUntil("the first run's records", func() bool { return had.count() >= n })
			ns1 := versionOf(t, f.url())["resume_namespace"].(string)
			cursors := had.lastOffsets()
			f.stop()

			tc.damage(t, filepath.Join(f.cfg.DataDir, "kafka"))

			f.start()
			eventually(t, "ready after the damage", func() bool { resp, _ := get(t, f.url()+"/readyz", nil); return resp.StatusCode == 200 })
			ns2 := versionOf(t, f.url())["resume_namespace"].(string)
			if ns2 == ns1 {
				t.Fatalf("the namespace did not change after the damage (%s)", ns1)
			}
			if lg, _ := healthOf(t, f.url())["log"].(map[string]any); lg == nil || lg["damaged"] != true {
				t.Fatalf("/health does not report the damage: %v", lg)
			}
			produceEvents(t, f.gw.brokers, "run2", 1, 200)

			c := dialWS(t, f.url(), resumeFrame(cursors, ns1))
			c.readUntil("replay_complete", func() bool { return c.complete })
			produceEvents(t, f.gw.brokers, "live", 1, 20)
			c.readUntil("live records", func() bool {
				live := 0
				for _, r := range c.arrivals {
					if strings.Contains(string(r.v), "live-") {
						live++
					}
				}
				return live >= 20
			})
			for p := range cursors {
				if !c.stale[p] {
					t.Errorf("partition %d: no cursor_stale for a cursor of the old namespace (controls %v)", p, c.controls)
				}
			}
			different := 0
			for _, r := range c.arrivals {
				if old, ok := had.recs[r.p][r.o]; ok && string(old) != string(r.v) && !r.told {
					different++
				}
			}
			if different > 0 {
				t.Fatalf("%d records differ from the ones the client had under the same offsets, without cursor_stale", different)
			}
			t.Logf("namespace changed (%d -> %d chars); client got %d records, %d control frames", len(ns1), len(ns2), c.count(), len(c.controls))
		})
	}
}

// A test binary started with DASHSTREAM_CHAOS_CHILD=1 is the gateway itself
// (run with the arguments in DASHSTREAM_CHAOS_ARGS), so a test can kill -9
// a real server process and start it again.
func init() {
	if os.Getenv("DASHSTREAM_CHAOS_CHILD") != "1" {
		return
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv("DASHSTREAM_CHAOS_ARGS")), &args); err != nil {
		fmt.Fprintln(os.Stderr, "DASHSTREAM_CHAOS_ARGS:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(args, func(string) string { return "" }, log); err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childGateway is the gateway as a separate process.
type childGateway struct {
	t    *testing.T
	args []string
	base string
	cmd  *exec.Cmd
	out  *lockedOutput
}

type lockedOutput struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedOutput) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startChild(t *testing.T, args ...string) *childGateway {
	t.Helper()
	port := freeLoopbackPort(t)
	c := &childGateway{t: t, args: append([]string{"--host", "127.0.0.1", "--port", strconv.Itoa(port)}, args...),
		base: "http://127.0.0.1:" + strconv.Itoa(port), out: &lockedOutput{}}
	c.start()
	t.Cleanup(c.kill)
	return c
}

func (c *childGateway) start() {
	c.t.Helper()
	raw, _ := json.Marshal(c.args)
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), "DASHSTREAM_CHAOS_CHILD=1", "DASHSTREAM_CHAOS_ARGS="+string(raw))
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(c.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the gateway process did not become ready; output:\n%s", c.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL: no shutdown, no flush.
func (c *childGateway) kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
	c.cmd = nil
}

// TestChaos_KillNineWithTheDemoRunning kills the gateway process with
// SIGKILL three times while the demo produces, and starts it again on the
// same data folder: no start fails, the namespace stays (no damage), the
// log's offsets go on (never backwards), and every record a client had is
// the same record under the same offset after the restart.
func TestChaos_KillNineWithTheDemoRunning(t *testing.T) {
	data := t.TempDir()
	c := startChild(t, "--web-dir", testWeb(t), "--data-dir", data, "--schemas-path", filepath.Join(data, "schemas.json"),
		"--demo", "on", "--demo-rate", "40")
	had := map[int32]map[int64][]byte{}
	ns := versionOf(t, c.base)["resume_namespace"]
	for round := range 3 {
		cl := dialWS(t, c.base, resumeEarliest)
		cl.readUntil("records before the kill", func() bool { return cl.complete && cl.count() >= 100*(round+1) })
		checkSame(t, had, cl)
		ends := cl.lastOffsets()
		cl.ws.CloseNow()
		c.kill()
		c.start()
		if got := versionOf(t, c.base)["resume_namespace"]; got != ns {
			t.Fatalf("round %d: the namespace changed after a crash without damage: %v -> %v", round, ns, got)
		}
		after := dialWS(t, c.base, resumeEarliest)
		after.readUntil("the records again", func() bool {
			if !after.complete {
				return false
			}
			for p, o := range ends {
				if after.lastOffsets()[p] < o {
					return false
				}
			}
			return true
		})
		checkSame(t, had, after)
		checkContiguous(t, after)
		after.ws.CloseNow()
	}
	t.Logf("%d partitions, records compared: %d", len(had), func() (n int) {
		for _, m := range had {
			n += len(m)
		}
		return n
	}())
}

// checkSame adds what c received to had, failing on an offset that now
// names another record.
func checkSame(t *testing.T, had map[int32]map[int64][]byte, c *wsClient) {
	t.Helper()
	for _, r := range c.arrivals {
		if had[r.p] == nil {
			had[r.p] = map[int64][]byte{}
		}
		if old, ok := had[r.p][r.o]; ok && string(old) != string(r.v) {
			t.Fatalf("partition %d offset %d names another record than before", r.p, r.o)
		}
		had[r.p][r.o] = r.v
	}
}

// checkContiguous fails when a client's records of a partition skip an
// offset or go backwards, unless a gap frame reported the hole.
func checkContiguous(t *testing.T, c *wsClient) {
	t.Helper()
	gaps := 0
	for _, m := range c.controls {
		if m["type"] == "gap" {
			gaps++
		}
	}
	last := map[int32]int64{}
	for _, r := range c.arrivals {
		if prev, ok := last[r.p]; ok {
			if r.o <= prev {
				t.Fatalf("partition %d went backwards: %d after %d", r.p, r.o, prev)
			}
			if r.o != prev+1 && gaps == 0 {
				t.Fatalf("partition %d skipped offsets %d..%d without a gap frame", r.p, prev+1, r.o-1)
			}
		}
		last[r.p] = r.o
	}
}

// TestChaos_RedisOutageMidStream kills redis-server while the demo streams
// to a live client and brings it back: the live client sees no hole, no
// offset going backwards and no record that differs from Kafka's; a client
// resuming afterwards from the first client's early cursors gets the same
// records again.
func TestChaos_RedisOutageMidStream(t *testing.T) {
	rs := redisserver.Start(t)
	f := startFixedGateway(t, testWeb(t), "--demo", "on", "--demo-rate", "40", "--redis-url", rs.URL())
	live := dialWS(t, f.url(), `{"type":"resume","mode":"partition","from":"latest"}`)
	live.readUntil("records before the outage", func() bool { return live.count() >= 100 })
	early := live.lastOffsets()
	rs.Stop()
	eventually(t, "/health to report Redis down", func() bool {
		rb, _ := healthOf(t, f.url())["replay_buffer"].(map[string]any)
		return rb != nil && rb["redis_available"] == false
	})
	n := live.count()
	live.readUntil("records during the outage", func() bool { return live.count() >= n+100 })
	rs.Restart()
	eventually(t, "/health to report Redis back", func() bool {
		rb, _ := healthOf(t, f.url())["replay_buffer"].(map[string]any)
		return rb != nil && rb["redis_available"] == true
	})
	n = live.count()
	live.readUntil("records after the outage", func() bool { return live.count() >= n+100 })
	checkContiguous(t, live)

	// Every record the client got is Kafka's record under that offset.
	kafka := readTopic(t, f.gw.brokers, live.lastOffsets())
	mismatches := 0
	for _, r := range live.arrivals {
		if string(kafka[r.p][r.o]) != string(r.v) {
			mismatches++
		}
	}
	if mismatches > 0 {
		t.Fatalf("%d of %d records differ from Kafka's", mismatches, live.count())
	}
	again := dialWS(t, f.url(), resumeFrame(early, ""))
	again.readUntil("the resumed records", func() bool {
		for p, o := range live.lastOffsets() {
			if again.lastOffsets()[p] < o {
				return false
			}
		}
		return true
	})
	checkContiguous(t, again)
	for _, r := range again.arrivals {
		if string(kafka[r.p][r.o]) != string(r.v) && r.o <= live.lastOffsets()[r.p] {
			t.Fatalf("resumed record %d/%d differs from Kafka's", r.p, r.o)
		}
	}
	t.Logf("live client: %d records, 0 holes, 0 backwards, 0 mismatches; resumed client: %d records", live.count(), again.count())
}

// readTopic reads the gateway's topic up to the given offsets.
func readTopic(t *testing.T, brokers []string, upTo map[int32]int64) map[int32]map[int64][]byte {
	t.Helper()
	offsets := map[int32]kgo.Offset{}
	for p := range upTo {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"dashstream-events": offsets}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := map[int32]map[int64][]byte{}
	done := func() bool {
		for p, o := range upTo {
			if _, ok := out[p][o]; !ok {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading the topic: %v", fs.Errors())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if out[r.Partition] == nil {
				out[r.Partition] = map[int64][]byte{}
			}
			out[r.Partition][r.Offset] = r.Value
		})
	}
	return out
}

// TestChaos_UnreadableDataInKafkaIsAGapForReplayingClients flips 8 bytes of
// a segment while the gateway runs, after the source has read it: a client
// whose cursor is older than the replay store is served from Kafka, and the
// batch that cannot be read reaches it as a gap frame covering its offsets,
// never as silence and never as other bytes.
func TestChaos_UnreadableDataInKafkaIsAGapForReplayingClients(t *testing.T) {
	f := startFixedGateway(t, testWeb(t), "--demo", "off", "--replay-memory-records", "50")
	eventually(t, "ready", func() bool { resp, _ := get(t, f.url()+"/readyz", nil); return resp.StatusCode == 200 })
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.gw.brokers...), kgo.DefaultProduceTopic("dashstream-events"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	want := map[int64][]byte{}
	for b := range 80 { // 80 batches of 5 records
		var recs []*kgo.Record
		for i := range 5 {
			seq := uint64(b*5 + i + 1)
			v := event(t, "unreadable", seq)
			want[int64(seq-1)] = v
			recs = append(recs, &kgo.Record{Partition: 0, Value: v})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	live := dialWS(t, f.url(), resumeEarliest)
	live.readUntil("the source to have read everything", func() bool { return live.lastOffsets()[0] == 399 })
	mutate(t, firstSegment(t, filepath.Join(f.cfg.DataDir, "kafka"), 0), flipMiddle)
	c := dialWS(t, f.url(), resumeFrame(map[int32]int64{0: 10}, ""))
	c.readUntil("replay_complete", func() bool { return c.complete })
	var gapFrom, gapTo int64 = -1, -1
	for _, m := range c.controls {
		if m["type"] == "gap" && m["partition"] == float64(0) {
			gapFrom, _ = strconv.ParseInt(fmt.Sprint(m["fromOffset"]), 10, 64)
			gapTo, _ = strconv.ParseInt(fmt.Sprint(m["toOffset"]), 10, 64)
		}
	}
	got := c.recs[0]
	var missing []int64
	for o := int64(11); o < 400; o++ {
		v, ok := got[o]
		switch {
		case ok && string(v) != string(want[o]):
			t.Fatalf("offset %d: other bytes than produced", o)
		case !ok && (o < gapFrom || o > gapTo):
			missing = append(missing, o)
		}
	}
	if gapFrom < 0 || len(missing) > 0 {
		t.Fatalf("gap %d..%d; offsets missing without a gap: %v (controls %v)", gapFrom, gapTo, missing, c.controls)
	}
	t.Logf("gap reported: %d..%d (%d offsets; the damaged batch is 5)", gapFrom, gapTo, gapTo-gapFrom+1)
}

// TestGateway_RealKafkaNamespaceCarriesTheTopicID: with a real Kafka the
// incarnation is the topic's id; the setting off gives upstream's namespace
// byte for byte; a topic deleted and created again is refused, not read
// under the old namespace.
func TestGateway_RealKafkaNamespaceCarriesTheTopicID(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "dashstream-events", "dashstream-events-dlq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	id, err := source.TopicID(context.Background(), cluster.ListenAddrs(), "dashstream-events", nil)
	if err != nil || id == "" {
		t.Fatalf("topic id %q: %v", id, err)
	}
	_, srv := startGateway(t, testWeb(t), "--kafka-brokers", brokers)
	v := versionOf(t, srv.URL)
	if want := control.ResumeNamespace("dashstream-events", "websocket-server-v4", brokers, "log."+id); v["resume_namespace"] != want || v["log_incarnation"] != id {
		t.Fatalf("namespace %v (incarnation %v), want %s", v["resume_namespace"], v["log_incarnation"], want)
	}
	_, plain := startGateway(t, testWeb(t), "--kafka-brokers", brokers, "--namespace-incarnation", "false")
	if got, want := versionOf(t, plain.URL)["resume_namespace"], control.ResumeNamespace("dashstream-events", "websocket-server-v4", brokers, ""); got != want {
		t.Fatalf("with the incarnation off: %v, want upstream's %s", got, want)
	}

	// The topic is deleted and created again: its offsets start over.
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.DeleteTopics(ctx, "dashstream-events"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "dashstream-events"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "/readyz to refuse the recreated topic", func() bool {
		resp, body := get(t, srv.URL+"/readyz", nil)
		return resp.StatusCode == 503 && strings.Contains(string(body), "created again")
	})
}

// flipMiddle inverts 8 bytes in the middle of b.
func flipMiddle(b []byte) []byte {
	for i := range 8 {
		b[len(b)/2+i] ^= 0xff
	}
	return b
}

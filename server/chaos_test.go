package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/twmb/franz-go/pkg/kgo"
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

func versionOf(t *testing.T, base string) map[string]any {
	t.Helper()
	_, b := get(t, base+"/version", nil)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func healthOf(t *testing.T, base string) map[string]any {
	t.Helper()
	_, b := get(t, base+"/health", nil)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

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
			mutate(t, firstSegment(t, dir, 0), func(b []byte) []byte {
				for i := range 8 {
					b[len(b)/2+i] ^= 0xff
				}
				return b
			})
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
			t.Logf("namespace %s -> %s; client got %d records, controls %d", ns1, ns2, c.count(), len(c.controls))
		})
	}
}

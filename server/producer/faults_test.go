package producer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/server/producer/streamcheck"
)

// holdProduce makes the cluster hold every produce request until the
// returned release function is called (also called at cleanup).
func holdProduce(t testing.TB, c *kfake.Cluster) (release func()) {
	held := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	t.Cleanup(release)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.SleepControl(func() { <-held })
		return nil, nil, false // then handle it normally
	})
	return release
}

// waitFor polls cond until it holds, failing the test after testTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// missing counts the sequences a thread's consumer never saw.
func missing(th *streamcheck.Thread) int {
	n := 0
	for _, g := range th.Gaps {
		n += int(g[1] - g[0] + 1)
	}
	return n
}

// TestProducer_FullStateAfterQueueOverflow: with the broker holding every
// write, the bounded queue fills; further messages are dropped without
// blocking and counted per type; after the broker answers again, the next
// state update is a full state and the consumer sees exactly the drops as
// gaps.
func TestProducer_FullStateAfterQueueOverflow(t *testing.T) {
	c := newCluster(t)
	release := holdProduce(t, c)
	p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) { c.QueueCapacity = 10 })
	run := p.StartRun(RunStart{ThreadID: "overflow", InitialState: map[string]any{"i": 0}})
	for i := range 30 {
		run.NodeStart("work")
		run.NodeEnd("work", map[string]any{"i": i, "pad": strings.Repeat("z", 600)}, time.Millisecond)
	}
	st := p.Stats()
	if st.Dropped == 0 || st.Queued != 10 {
		t.Fatalf("with the broker held: %+v; want drops and a full queue of 10", st)
	}
	release()
	flush(t, p)
	run.NodeStart("after")
	run.NodeEnd("after", map[string]any{"i": 99, "pad": strings.Repeat("z", 600)}, time.Millisecond)
	run.End(nil)
	flush(t, p)

	rep := check(t, c.ListenAddrs(), streamcheck.Options{AllowGaps: true, RequireEnd: true})
	th := rep.Threads["overflow"]
	drops := counter(p.m.dropped.WithLabelValues(typeEvent, dropQueueFull)) +
		counter(p.m.dropped.WithLabelValues(typeStateDiff, dropQueueFull))
	if got := missing(th); got != drops || int64(drops) != p.Stats().Dropped {
		t.Fatalf("consumer misses %d sequences; dropped counters say %d, stats %d", got, drops, p.Stats().Dropped)
	}
	if th.FullAfterGap == 0 || len(th.Gaps) != th.FullAfterGap {
		t.Fatalf("%d gaps, %d healed by a full state", len(th.Gaps), th.FullAfterGap)
	}
	if got := counter(p.m.stateUpdates.WithLabelValues(kindFull, reasonAfterLoss)); got < 1 {
		t.Fatalf("state_updates{full,after_loss} = %d", got)
	}
	if got := counter(p.m.queueDepth); got != 0 {
		t.Fatalf("queue depth %d after flush", got)
	}
}

// TestProducer_BrokerUnavailableThenBack: the broker's port is closed at
// first, so everything sent times out and is counted as a send failure
// (class timeout); once a broker listens there, writes succeed again and the
// first state update after the failures is a full state.
func TestProducer_BrokerUnavailableThenBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr, port := ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p, _ := newTestProducer(t, []string{addr}, func(c *Config) { c.DeliveryTimeout = time.Second })
	pad := strings.Repeat("p", 500) // so that small changes go as patches
	run := p.StartRun(RunStart{ThreadID: "outage", InitialState: map[string]any{"i": 0}})
	run.NodeStart("a")
	run.NodeEnd("a", map[string]any{"i": 1, "pad": pad}, time.Millisecond)
	waitFor(t, "the outage's send failures", func() bool { return p.Stats().SendFailures == 4 })
	if got := counter(p.m.sendFailures.WithLabelValues(typeEvent, ErrClassTimeout)); got != 3 {
		t.Errorf("send_failures{event,timeout} = %d, want 3", got)
	}
	if got := counter(p.m.sendFailures.WithLabelValues(typeStateDiff, ErrClassTimeout)); got != 1 {
		t.Errorf("send_failures{state_diff,timeout} = %d, want 1", got)
	}

	c := newCluster(t, kfake.Ports(port))
	// The client reconnects with backoff; until it does, updates keep
	// failing (and stay full states).
	for i := 2; p.Stats().Sent == 0; i++ {
		if i > 100 {
			t.Fatal("no write succeeded after the broker came back")
		}
		run.NodeEnd("b", map[string]any{"i": i, "pad": pad}, time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = p.Flush(ctx)
		cancel()
	}
	run.NodeEnd("c", map[string]any{"i": 1000, "pad": pad}, time.Millisecond)
	run.End(nil)
	flush(t, p)

	rep := check(t, c.ListenAddrs(), streamcheck.Options{AllowGaps: true, RequireEnd: true})
	th := rep.Threads["outage"]
	if got := int64(missing(th)); got != p.Stats().SendFailures {
		t.Fatalf("consumer misses %d sequences, %d send failures counted", got, p.Stats().SendFailures)
	}
	if th.FullStates < 1 || th.Patches < 1 || th.FullAfterGap < 1 {
		t.Fatalf("full %d, patches %d, full after gap %d", th.FullStates, th.Patches, th.FullAfterGap)
	}
}

// TestProducer_SendFailuresAreCountedAndDeadLettered: a broker refusing
// writes (authorization) gives send failures by class and type, separate
// from drops; each failed message goes to the DLQ as a bounded record built
// from redacted content; and the run recovers with a full state.
func TestProducer_SendFailuresAreCountedAndDeadLettered(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "dashstream-dlq"))
	fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: testTopic, Err: kerr.TopicAuthorizationFailed, Count: -1})
	p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) {
		c.DLQTopic = "dashstream-dlq"
		c.DLQMaxPayloadBytes = 300
	})
	secret := "sk-" + strings.Repeat("S3cr3t", 5)
	run := p.StartRun(RunStart{ThreadID: "refused", InitialState: map[string]any{"note": "key " + secret}})
	run.NodeStart("a")
	run.NodeEnd("a", map[string]any{"note": "key " + secret, "pad": incompressible(2000)}, time.Millisecond)
	waitFor(t, "send failures", func() bool { return p.Stats().SendFailures == 4 })
	if got := counter(p.m.sendFailures.WithLabelValues(typeStateDiff, ErrClassAuthorization)); got != 1 {
		t.Errorf("send_failures{state_diff,authorization} = %d", got)
	}
	if got := counter(p.m.sendFailuresAll); got != 4 {
		t.Errorf("send_failures_total = %d", got)
	}
	if p.Stats().Dropped != 0 {
		t.Errorf("send failures counted as drops: %+v", p.Stats())
	}
	waitFor(t, "dead letters", func() bool { return p.Stats().DLQSent == 4 })
	fault.Remove()
	run.NodeEnd("b", map[string]any{"note": "ok"}, time.Millisecond)
	run.End(nil)
	flush(t, p)

	rep := check(t, c.ListenAddrs(), streamcheck.Options{AllowGaps: true, RequireEnd: true, Forbidden: []string{secret}})
	if th := rep.Threads["refused"]; th.FullAfterGap != 1 || th.Gaps[0] != [2]uint64{1, 4} {
		t.Fatalf("gaps %v, healed %d", th.Gaps, th.FullAfterGap)
	}
	dead := consumeAll(t, c.ListenAddrs(), "dashstream-dlq")
	if len(dead) != 4 {
		t.Fatalf("%d dead letters, want 4", len(dead))
	}
	truncated := 0
	for _, rec := range dead {
		if bytes.Contains(rec.Value, []byte(secret)) {
			t.Fatal("a dead letter holds the secret")
		}
		var d DLQRecord
		if err := json.Unmarshal(rec.Value, &d); err != nil {
			t.Fatalf("dead letter is not JSON: %v", err)
		}
		if d.ThreadID != "refused" || d.SourceTopic != testTopic || d.SourcePartition != -1 || d.SourceOffset != -1 ||
			d.ErrorType != "kafka_send_error" || d.ConsumerID != "producer:default" || string(rec.Key) != d.TraceID {
			t.Errorf("dead letter fields %+v", d)
		}
		payload, err := base64.StdEncoding.DecodeString(d.OriginalPayloadBase64)
		if err != nil {
			t.Fatal(err)
		}
		if len(payload) > 300 {
			t.Fatalf("payload of %d bytes kept, limit 300", len(payload))
		}
		if d.OriginalPayloadTruncated {
			truncated++
			if d.OriginalPayloadIncludedBytes != len(payload) || d.OriginalPayloadSizeBytes <= len(payload) || len(d.OriginalPayloadSHA256) != 64 {
				t.Errorf("truncation fields %+v", d)
			}
			continue
		}
		if _, err := protocol.Decode(payload); err != nil {
			t.Errorf("untruncated payload does not decode: %v", err)
		}
	}
	if truncated == 0 {
		t.Error("no dead letter was truncated")
	}
}

// incompressible returns n hex digits that zstd cannot shrink much.
func incompressible(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		sum := sha256.Sum256([]byte(fmt.Sprint(i)))
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()[:n]
}

// TestDLQ_RecordKeepsTheFullPayloadHash: the digest of a truncated payload is
// the SHA-256 of the whole framed value.
func TestDLQ_RecordKeepsTheFullPayloadHash(t *testing.T) {
	d := &dlq{source: testTopic, maxPayload: 10}
	payload := []byte(strings.Repeat("v", 25))
	r := d.record(dlqItem{value: payload, err: errors.New("x"), thread: "t", tenant: "te", failedAt: time.Unix(0, 0)}, "trace")
	sum := sha256.Sum256(payload)
	if r.OriginalPayloadSHA256 != hex.EncodeToString(sum[:]) || r.OriginalPayloadSizeBytes != 25 || r.OriginalPayloadIncludedBytes != 10 {
		t.Fatalf("%+v", r)
	}
	if got, _ := base64.StdEncoding.DecodeString(r.OriginalPayloadBase64); string(got) != strings.Repeat("v", 10) {
		t.Fatalf("payload %q", got)
	}
}

// TestProducer_OversizedStateIsDroppedThenFullState: a state too large even
// as a full state is dropped and counted; the next update is a full state.
func TestProducer_OversizedStateIsDroppedThenFullState(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) { c.MaxMessageBytes = 4 << 10 })
	run := p.StartRun(RunStart{ThreadID: "huge"})
	big := strings.Repeat("0123456789abcdef", 512) // 8 KiB
	run.NodeEnd("a", map[string]any{"v": "small", "pad": strings.Repeat("p", 500)}, 0)
	run.NodeEnd("b", map[string]any{"v": big, "pad": strings.Repeat("p", 500)}, 0)
	run.NodeEnd("c", map[string]any{"v": "small again", "pad": strings.Repeat("p", 500)}, 0)
	run.End(nil)
	flush(t, p)
	th := check(t, c.ListenAddrs(), streamcheck.Options{AllowGaps: true, RequireEnd: true}).Threads["huge"]
	if len(th.Gaps) != 1 || missing(th) != 1 || th.FullAfterGap != 1 {
		t.Fatalf("gaps %v, healed %d", th.Gaps, th.FullAfterGap)
	}
	for reason, want := range map[string]int{degradedPatchTooLarge: 1, degradedStateTooLarge: 1} {
		if got := counter(p.m.degraded.WithLabelValues(reason)); got != want {
			t.Errorf("degraded{%s} = %d, want %d", reason, got, want)
		}
	}
	if got := counter(p.m.dropped.WithLabelValues(typeStateDiff, dropOversized)); got != 1 {
		t.Errorf("dropped{state_diff,oversized} = %d", got)
	}
	if got := string(th.State.AppendJSON(nil)); !strings.Contains(got, "small again") {
		t.Errorf("final state %s", got)
	}
}

// TestStartRun_OversizedGraphStartShedsFieldsInOrder: graph_manifest first,
// then graph_schema_json, then initial_state_json; GRAPH_START itself is
// always sent, and the run's first update is a full state.
func TestStartRun_OversizedGraphStartShedsFieldsInOrder(t *testing.T) {
	const limit = 8 << 10
	blob := func(n int) map[string]any { return map[string]any{"blob": strings.Repeat("b", n)} }
	schema := func(n int) *GraphSchema {
		return &GraphSchema{Name: "g", Version: "1.0.0", EntryPoint: "a", Description: strings.Repeat("d", n),
			Nodes: []SchemaNode{{Name: "a", NodeType: NodeLLM}}, ExportedAt: "2026-01-01T00:00:00Z"}
	}
	tests := []struct {
		name     string
		start    RunStart
		kept     []string
		degraded []string
	}{
		{"everything fits", RunStart{Manifest: blob(1000), Schema: schema(1000), InitialState: blob(1000)},
			[]string{"graph_manifest", "graph_schema_json", "initial_state_json"}, nil},
		{"the manifest goes first", RunStart{Manifest: blob(3000), Schema: schema(3000), InitialState: blob(3000)},
			[]string{"graph_schema_json", "initial_state_json"}, []string{degradedManifestDropped}},
		{"then the schema, and what fits again comes back", RunStart{Manifest: blob(3000), Schema: schema(5000), InitialState: blob(3000)},
			[]string{"initial_state_json", "graph_manifest"}, []string{degradedSchemaDropped}},
		{"then the initial state, and a small schema stays", RunStart{Schema: schema(500), InitialState: blob(10000)},
			[]string{"graph_schema_json"}, []string{degradedInitialDropped}},
		{"then extra attributes", RunStart{InitialState: blob(100), Attributes: Attrs{"huge": strings.Repeat("h", 10000)}},
			[]string{"initial_state_json"}, []string{degradedGraphStartBare}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) { c.MaxMessageBytes = limit })
			tt.start.ThreadID = "big-start"
			tt.start.GraphName = "g"
			run := p.StartRun(tt.start)
			run.NodeEnd("a", blob(10), 0)
			flush(t, p)
			th := check(t, c.ListenAddrs(), streamcheck.Options{}).Threads["big-start"]
			attrs := th.Messages[0].GetEvent().GetAttributes()
			for _, k := range []string{"graph_manifest", "graph_schema_json", "initial_state_json"} {
				kept := attrs[k] != nil
				want := false
				for _, w := range tt.kept {
					want = want || w == k
				}
				if kept != want {
					t.Errorf("%s kept = %v, want %v", k, kept, want)
				}
			}
			if attrs["graph_name"].GetStringValue() != "g" {
				t.Error("graph_name lost")
			}
			if tt.start.Schema != nil && attrs["schema_id"].GetStringValue() != tt.start.Schema.ID() {
				t.Error("schema_id lost")
			}
			total := 0
			for _, r := range tt.degraded {
				total++
				if got := counter(p.m.degraded.WithLabelValues(r)); got != 1 {
					t.Errorf("degraded{%s} = %d", r, got)
				}
			}
			if int(p.Stats().Degraded) != total {
				t.Errorf("%d degradations, want %d", p.Stats().Degraded, total)
			}
		})
	}
}

// TestCheckpoint_AdoptedOnlyOnceAcknowledged: a checkpoint becomes the base
// of later diffs once Kafka has acknowledged it; a checkpoint that was
// dropped never does, and the update after it is a full state.
func TestCheckpoint_AdoptedOnlyOnceAcknowledged(t *testing.T) {
	pad := strings.Repeat("x", 1000)
	t.Run("acknowledged", func(t *testing.T) {
		c := newCluster(t)
		p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) { c.CheckpointInterval = 2 })
		run := p.StartRun(RunStart{ThreadID: "cp"})
		for i := range 5 {
			run.NodeEnd("n", map[string]any{"i": i, "pad": pad}, 0)
			flush(t, p) // let acknowledgements arrive
		}
		th := check(t, c.ListenAddrs(), streamcheck.Options{}).Threads["cp"]
		var cpIDs [][]byte
		var bases [][]byte
		for _, m := range th.Messages {
			if cp := m.GetCheckpoint(); cp != nil {
				cpIDs = append(cpIDs, cp.GetCheckpointId())
			}
			if sd := m.GetStateDiff(); sd != nil {
				bases = append(bases, sd.GetBaseCheckpointId())
			}
		}
		if len(cpIDs) != 2 || th.Checkpoints != 2 {
			t.Fatalf("%d checkpoints", len(cpIDs))
		}
		want := [][]byte{nil, nil, cpIDs[0], cpIDs[0], cpIDs[1]}
		for i := range want {
			if !bytes.Equal(bases[i], want[i]) {
				t.Fatalf("diff %d base %x, want %x", i, bases[i], want[i])
			}
		}
	})
	t.Run("dropped", func(t *testing.T) {
		c := newCluster(t)
		release := holdProduce(t, c)
		// GRAPH_START, diff 1, NODE_END 1, diff 2 fill the queue: the
		// checkpoint after diff 2 (and NODE_END 2) are dropped.
		p, _ := newTestProducer(t, c.ListenAddrs(), func(c *Config) { c.CheckpointInterval = 2; c.QueueCapacity = 4 })
		run := p.StartRun(RunStart{ThreadID: "cp-drop"})
		run.NodeEnd("n", map[string]any{"i": 1, "pad": pad}, 0)
		run.NodeEnd("n", map[string]any{"i": 2, "pad": pad}, 0)
		if got := counter(p.m.dropped.WithLabelValues(typeCheckpoint, dropQueueFull)); got != 1 {
			t.Fatalf("dropped{checkpoint,queue_full} = %d", got)
		}
		release()
		flush(t, p)
		run.NodeEnd("n", map[string]any{"i": 3, "pad": pad}, 0)
		flush(t, p)
		th := check(t, c.ListenAddrs(), streamcheck.Options{AllowGaps: true}).Threads["cp-drop"]
		last := th.Messages[len(th.Messages)-2].GetStateDiff()
		if last == nil || len(last.GetFullState()) == 0 || len(last.GetBaseCheckpointId()) != 0 {
			t.Fatalf("update after the dropped checkpoint: %v", last)
		}
	})
}

// TestProducer_CloseWithDeadlineReturnsByIt: with the broker holding every
// write, Close gives up at its deadline, says what it lost, and later
// messages are dropped as "closed".
func TestProducer_CloseWithDeadlineReturnsByIt(t *testing.T) {
	c := newCluster(t)
	holdProduce(t, c)
	p, _ := newTestProducer(t, c.ListenAddrs(), nil)
	run := p.StartRun(RunStart{ThreadID: "stuck"})
	for i := range 5 {
		run.NodeEnd("n", map[string]any{"i": i}, 0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Close(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "still in flight") {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close did not return")
	}
	run.NodeStart("late")
	if got := counter(p.m.dropped.WithLabelValues(typeEvent, dropClosed)); got != 1 {
		t.Fatalf("dropped{event,closed} = %d", got)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestProducer_CloseFlushesWhatIsQueued: a Close with time to spare delivers
// everything.
func TestProducer_CloseFlushesWhatIsQueued(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), nil)
	run := p.StartRun(RunStart{ThreadID: "closing"})
	run.End(map[string]any{"done": true})
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	check(t, c.ListenAddrs(), streamcheck.Options{RequireEnd: true})
	if st := p.Stats(); st.Sent != 3 {
		t.Fatalf("stats %+v", st)
	}
	if err := p.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
}

// TestProducer_RecordsOfAThreadShareThePartitionLibrdkafkaPicks: the CRC-32
// partitioner puts a thread where a Rust producer would.
func TestProducer_RecordsOfAThreadShareThePartitionLibrdkafkaPicks(t *testing.T) {
	c := newCluster(t)
	p, _ := newTestProducer(t, c.ListenAddrs(), nil)
	for i := range 12 {
		run := p.StartRun(RunStart{ThreadID: fmt.Sprintf("thread-%d", i)})
		run.NodeStart("a")
		run.End(nil)
	}
	flush(t, p)
	recs := consumeAll(t, c.ListenAddrs(), testTopic)
	parts := map[int32]bool{}
	for _, r := range recs {
		if want := int32(CRC32Partitioner(r.Key, 4)); r.Partition != want {
			t.Fatalf("thread %s on partition %d, CRC-32 says %d", r.Key, r.Partition, want)
		}
		parts[r.Partition] = true
	}
	if len(parts) < 2 {
		t.Fatalf("12 threads all on %v", parts)
	}
}

// TestCRC32Partitioner_IsIEEECRC32: the standard check value of CRC-32/ISO-HDLC
// (zlib's, librdkafka's rd_crc32) is 0xCBF43926 for "123456789".
func TestCRC32Partitioner_IsIEEECRC32(t *testing.T) {
	for _, n := range []int{1, 3, 4, 10, 1000} {
		if got, want := CRC32Partitioner([]byte("123456789"), n), int(uint32(0xCBF43926)%uint32(n)); got != want {
			t.Errorf("%d partitions: %d, want %d", n, got, want)
		}
	}
}

// TestErrorClass_SortsDeliveryErrors: a bounded set of classes, the
// actionable cause winning over a wrapping timeout.
func TestErrorClass_SortsDeliveryErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{kgo.ErrMaxBuffered, ErrClassBufferFull},
		{kgo.ErrClientClosed, ErrClassClosing},
		{context.Canceled, ErrClassClosing},
		{kerr.MessageTooLarge, ErrClassTooLarge},
		{fmt.Errorf("%w, last err: %w", kgo.ErrRecordTimeout, kerr.TopicAuthorizationFailed), ErrClassAuthorization},
		{kerr.SaslAuthenticationFailed, ErrClassAuthorization},
		{fmt.Errorf("%w, last err: %w", kgo.ErrRecordTimeout, kerr.UnknownTopicOrPartition), ErrClassUnknownTopic},
		{kgo.ErrRecordTimeout, ErrClassTimeout},
		{context.DeadlineExceeded, ErrClassTimeout},
		{kerr.NotLeaderForPartition, ErrClassRetriable},
		{kerr.InvalidTxnState, ErrClassOther},
		{errors.New("something else"), ErrClassOther},
	}
	for _, tt := range tests {
		if got := ErrorClass(tt.err); got != tt.want {
			t.Errorf("ErrorClass(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

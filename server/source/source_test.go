package source

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/server/config"
	"github.com/dashstream/dashstream/server/metrics"
	"github.com/dashstream/dashstream/server/replay"
)

const topic = "events"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// value encodes a real DashStream event of thread th with sequence seq.
func value(t testing.TB, th string, seq uint64) []byte {
	t.Helper()
	v, err := protocol.Encode(&pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header:    &pb.Header{ThreadId: th, Sequence: seq, TimestampUs: time.Now().UnixMicro(), Type: pb.MessageType_MESSAGE_TYPE_EVENT},
		EventType: pb.EventType_EVENT_TYPE_NODE_START, NodeId: "n",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type collector struct {
	mu   sync.Mutex
	recs []replay.Record
}

func (c *collector) sink(r replay.Record) {
	c.mu.Lock()
	c.recs = append(c.recs, r)
	c.mu.Unlock()
}

func (c *collector) snapshot() []replay.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]replay.Record(nil), c.recs...)
}

// waitFor polls cond until it holds or the deadline passes (no duration is
// asserted: the deadline only bounds a hang).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(2, topic, topic+"-dlq")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func produce(t *testing.T, brokers []string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.ProducerBatchMaxBytes(32<<20), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, cfg Config, sink Sink, start StartFunc) (*Source, *metrics.Gateway) {
	t.Helper()
	m := metrics.New()
	s := New(cfg, sink, start, m, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, m
}

func TestSource_PipelineForwardsOnlyDecodableRecords(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	big := make([]byte, 5000)
	big[0] = protocol.FrameRaw
	produce(t, brokers,
		&kgo.Record{Partition: 0, Key: []byte("a"), Value: value(t, "a", 1)},
		&kgo.Record{Partition: 0, Key: []byte("a")}, // tombstone
		&kgo.Record{Partition: 0, Key: []byte("a"), Value: []byte{0x00, 0xff, 0xff}},
		&kgo.Record{Partition: 0, Key: []byte("a"), Value: big}, // over the 4096-byte limit below
		&kgo.Record{Partition: 0, Key: []byte("a"), Value: []byte{}},
		&kgo.Record{Partition: 0, Key: []byte("a"), Value: value(t, "a", 2)},
	)
	var got collector
	s, m := run(t, Config{Brokers: brokers, Topic: topic, DLQTopic: topic + "-dlq", DecodeErrorPolicy: "skip",
		MaxPayloadBytes: 4096, Refresh: 200 * time.Millisecond}, got.sink, nil)
	waitFor(t, "two forwarded records", func() bool { return len(got.snapshot()) == 2 })

	recs := got.snapshot()
	if recs[0].Offset != 0 || recs[1].Offset != 5 || recs[0].Threads[0] != (replay.ThreadSeq{Thread: "a", Seq: 1}) {
		t.Errorf("forwarded %+v", recs)
	}
	waitFor(t, "all six counted", func() bool { return s.Status().Received == 6 })
	st := s.Status()
	if !st.Ready || st.Missing != 1 || st.DecodeErrs+st.OldDataErrs != 3 || st.Forwarded != 2 {
		t.Errorf("status %+v", st)
	}
	if !s.KnownSkipped(0, 1, 4) || s.KnownSkipped(0, 0, 1) {
		t.Error("skipped offsets 1..4 are not remembered exactly")
	}
	if n := testutil.ToFloat64(m.PayloadMissing); n != 1 {
		t.Errorf("payload missing counted %v", n)
	}
}

func TestSource_DecodeErrorsGoToTheDLQWithoutPayload(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	var got collector
	// Start first, so the bad record is new data (old data is not DLQ'd).
	s, m := run(t, Config{Brokers: brokers, Topic: topic, DLQTopic: topic + "-dlq", DecodeErrorPolicy: "skip",
		MaxPayloadBytes: 4096, Refresh: 200 * time.Millisecond}, got.sink, nil)
	waitFor(t, "ready", func() bool { return s.Status().Ready })
	produce(t, brokers, &kgo.Record{Partition: 1, Value: []byte{0x00, 0xff, 0xff, 's', 'k', '-'}})
	waitFor(t, "a DLQ send", func() bool { return testutil.ToFloat64(m.DLQSends.WithLabelValues("invalid_protobuf")) == 1 })

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic+"-dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := cl.PollFetches(ctx)
	if f.NumRecords() != 1 {
		t.Fatalf("DLQ holds %d records", f.NumRecords())
	}
	var rec map[string]any
	if err := json.Unmarshal(f.Records()[0].Value, &rec); err != nil {
		t.Fatal(err)
	}
	if rec["error_type"] != "invalid_protobuf" || rec["original_payload_base64"] != nil || rec["kafka_partition"] != 1.0 ||
		rec["message_size"] != 6.0 || !strings.HasPrefix(rec["first_bytes_hex"].(string), "[00, ff") ||
		!strings.Contains(rec["payload_truncation_note"].(string), "omitted") || len(rec["payload_sha256"].(string)) != 64 {
		t.Errorf("DLQ record %v", rec)
	}
	if n := testutil.ToFloat64(m.DecodeErrors.WithLabelValues("invalid_protobuf")); n != 1 {
		t.Errorf("decode errors %v", n)
	}
}

func TestSource_PausePolicyStopsOnlyThatPartition(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	produce(t, brokers,
		&kgo.Record{Partition: 0, Value: value(t, "a", 1)},
		&kgo.Record{Partition: 0, Value: []byte{0x00, 0xff}},
		&kgo.Record{Partition: 0, Value: value(t, "a", 2)},
		&kgo.Record{Partition: 1, Value: value(t, "b", 1)},
		&kgo.Record{Partition: 1, Value: value(t, "b", 2)},
	)
	var got collector
	s, _ := run(t, Config{Brokers: brokers, Topic: topic, DecodeErrorPolicy: "pause", Refresh: 200 * time.Millisecond}, got.sink, nil)
	waitFor(t, "partition 1 and the first record of 0", func() bool { return len(got.snapshot()) == 3 })
	waitFor(t, "partition 0 paused", func() bool { return len(s.Status().Paused) == 1 })
	time.Sleep(300 * time.Millisecond) // give a wrongly unpaused partition the chance to deliver
	for _, r := range got.snapshot() {
		if r.Partition == 0 && r.Offset > 0 {
			t.Errorf("partition 0 delivered offset %d past the bad record", r.Offset)
		}
	}
	if why := s.Status().Paused[0]; !strings.Contains(why, "offset 1") {
		t.Errorf("pause reason %q", why)
	}
}

func TestSource_StartsAfterTheReplayStoresNewestOffset(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	for i := range 5 {
		produce(t, brokers, &kgo.Record{Partition: 0, Value: value(t, "a", uint64(i+1))})
	}
	var got collector
	start := func(_ context.Context, p int32) (int64, bool) {
		if p == 0 {
			return 3, true
		}
		return 0, false
	}
	run(t, Config{Brokers: brokers, Topic: topic, Refresh: 200 * time.Millisecond}, got.sink, start)
	waitFor(t, "offsets 3 and 4", func() bool { return len(got.snapshot()) == 2 })
	if recs := got.snapshot(); recs[0].Offset != 3 || recs[1].Offset != 4 {
		t.Errorf("started at %d", recs[0].Offset)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestSource_KafkaDownAtStartThenUp(t *testing.T) { // M-1028
	port := freePort(t)
	broker := fmt.Sprintf("127.0.0.1:%d", port)
	var got collector
	s, m := run(t, Config{Brokers: []string{broker}, Topic: topic, Refresh: 200 * time.Millisecond, StartBudget: time.Second}, got.sink, nil)
	waitFor(t, "a recorded failure", func() bool { return s.Status().InfraErrors > 0 })
	if st := s.Status(); st.Ready || st.Reason == "" {
		t.Errorf("with Kafka down: ready %v reason %q", st.Ready, st.Reason)
	}
	if testutil.ToFloat64(m.InfraErrors) == 0 {
		t.Error("infrastructure errors not counted")
	}
	c := newCluster(t, kfake.Ports(port))
	produce(t, c.ListenAddrs(), &kgo.Record{Partition: 0, Value: value(t, "a", 1)})
	waitFor(t, "recovery and the record", func() bool { return len(got.snapshot()) == 1 && s.Status().Ready })
}

func TestSource_NoticesPartitionsAddedLater(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	var got collector
	s, _ := run(t, Config{Brokers: brokers, Topic: topic, Refresh: 100 * time.Millisecond}, got.sink, nil)
	waitFor(t, "ready", func() bool { return s.Status().Ready })
	cl, _ := kgo.NewClient(kgo.SeedBrokers(brokers...))
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreatePartitions(context.Background(), 2, topic); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "four partitions", func() bool { return len(s.Status().Partitions) == 4 })
	produce(t, brokers, &kgo.Record{Partition: 3, Value: value(t, "z", 1)})
	waitFor(t, "the record on the new partition", func() bool {
		r := got.snapshot()
		return len(r) == 1 && r[0].Partition == 3
	})
}

func TestSource_SASLSettingsConnect(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			c := newCluster(t, kfake.EnableSASL(), kfake.Superuser(mech, "admin", "s3cret"))
			opts, err := ClientOpts(config.KafkaSecurity{Protocol: "sasl_plaintext", SASLMechanism: mech, SASLUsername: "admin", SASLPassword: "s3cret"})
			if err != nil {
				t.Fatal(err)
			}
			var got collector
			s, _ := run(t, Config{Brokers: c.ListenAddrs(), Topic: topic, ClientOpts: opts, Refresh: 200 * time.Millisecond}, got.sink, nil)
			waitFor(t, "ready with SASL", func() bool { return s.Status().Ready })

			bad, _ := ClientOpts(config.KafkaSecurity{Protocol: "sasl_plaintext", SASLMechanism: mech, SASLUsername: "admin", SASLPassword: "wrong"})
			s2, _ := run(t, Config{Brokers: c.ListenAddrs(), Topic: topic, ClientOpts: bad, Refresh: 200 * time.Millisecond, StartBudget: time.Second}, got.sink, nil)
			waitFor(t, "a failure with the wrong password", func() bool { return s2.Status().InfraErrors > 0 })
			if s2.Status().Ready {
				t.Error("ready with a wrong password")
			}
		})
	}
}

func TestClientOpts_RejectsMissingFiles(t *testing.T) {
	cases := []config.KafkaSecurity{
		{Protocol: "ssl", CALocation: "/nonexistent/ca.pem"},
		{Protocol: "ssl", CertLocation: "/nonexistent/c.pem", KeyLocation: "/nonexistent/k.pem"},
	}
	for _, c := range cases {
		if _, err := ClientOpts(c); err == nil || !strings.Contains(err.Error(), "KAFKA_SSL_") {
			t.Errorf("%+v: error %v, want one naming the setting", c, err)
		}
	}
}

func TestFetcher_RangeReadsOnlyForwardableRecordsAndReportsLogStart(t *testing.T) {
	c := newCluster(t)
	brokers := c.ListenAddrs()
	produce(t, brokers,
		&kgo.Record{Partition: 0, Value: value(t, "a", 1)},
		&kgo.Record{Partition: 0},
		&kgo.Record{Partition: 0, Value: []byte{0x00, 0xff}},
		&kgo.Record{Partition: 0, Value: value(t, "a", 2)},
		&kgo.Record{Partition: 0, Value: value(t, "a", 3)},
	)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(brokers...))
	defer cl.Close()
	adm := kadm.NewClient(cl)
	off := kadm.Offsets{}
	off.Add(kadm.Offset{Topic: topic, Partition: 0, At: 1})
	if _, err := adm.DeleteRecords(context.Background(), off); err != nil {
		t.Fatal(err)
	}
	f := NewFetcher(Config{Brokers: brokers, Topic: topic}, 2)
	defer f.Close()
	var offsets []int64
	logStart, err := f.Range(context.Background(), 0, 0, 3, func(r replay.Record) error {
		offsets = append(offsets, r.Offset)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if logStart != 1 || fmt.Sprint(offsets) != "[3]" {
		t.Errorf("log start %d, offsets %v; want 1 and [3]", logStart, offsets)
	}
	// A range beyond the high watermark is empty, not a hang.
	if _, err := f.Range(context.Background(), 0, 10, 20, func(replay.Record) error { t.Error("record past the end"); return nil }); err != nil {
		t.Fatal(err)
	}
}

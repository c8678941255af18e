package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

const topic = "events"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// t0 is the producer clock of the test runs (microseconds).
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMicro()

func str(s string) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_StringValue{StringValue: s}}
}

func num(n int64) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_IntValue{IntValue: n}}
}

func event(thread string, seq uint64, ts int64, typ pb.EventType, node string, attrs map[string]*pb.AttributeValue) *pb.DashStreamMessage {
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: &pb.Event{
		Header:    &pb.Header{ThreadId: thread, Sequence: seq, TimestampUs: ts, Type: pb.MessageType_MESSAGE_TYPE_EVENT},
		EventType: typ, NodeId: node, Attributes: attrs}}}
}

// spec describes one test run.
type spec struct {
	thread, graph string
	start         int64 // producer µs
	nodes         int   // node executions
	fail          string
	open          bool // never ends
}

// messages is the run's messages: GRAPH_START, per node a NODE_START, an
// LLM_END with tokens and a NODE_END, then GRAPH_END or GRAPH_ERROR.
func (s spec) messages() []*pb.DashStreamMessage {
	ms := int64(1000)
	seq := uint64(0)
	next := func() uint64 { seq++; return seq }
	out := []*pb.DashStreamMessage{event(s.thread, next(), s.start, pb.EventType_EVENT_TYPE_GRAPH_START, "",
		map[string]*pb.AttributeValue{"graph_name": str(s.graph)})}
	ts := s.start
	for i := range s.nodes {
		node := fmt.Sprintf("n%d", i)
		ts += 100 * ms
		out = append(out, event(s.thread, next(), ts, pb.EventType_EVENT_TYPE_NODE_START, node, nil))
		out = append(out, event(s.thread, next(), ts+10*ms, pb.EventType_EVENT_TYPE_LLM_END, node,
			map[string]*pb.AttributeValue{"model": str("gpt-4o-mini"), "prompt_tokens": num(100), "completion_tokens": num(20)}))
		out = append(out, event(s.thread, next(), ts+20*ms, pb.EventType_EVENT_TYPE_NODE_END, node, nil))
	}
	switch {
	case s.open:
	case s.fail != "":
		out = append(out, event(s.thread, next(), ts+50*ms, pb.EventType_EVENT_TYPE_GRAPH_ERROR, "n0",
			map[string]*pb.AttributeValue{"error": str(s.fail)}))
	default:
		out = append(out, event(s.thread, next(), ts+50*ms, pb.EventType_EVENT_TYPE_GRAPH_END, "", nil))
	}
	return out
}

func encode(t testing.TB, m *pb.DashStreamMessage) []byte {
	t.Helper()
	v, err := protocol.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// feed folds messages into c as the rebuild would, at consecutive offsets
// of partition p starting at off (no Kafka: for the query tests).
func feed(c *Catalog, p int32, off int64, msgs ...*pb.DashStreamMessage) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range msgs {
		c.fromRebuild(p, off, m)
		off++
	}
	return off
}

// cluster starts an in-process broker with the topic in n partitions.
func cluster(t testing.TB, n int32) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(n, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// producer is a plain franz-go producer onto the test topic, keyed by
// thread (so a run's records share a partition, as the real producer does).
func producer(t testing.TB, brokers []string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func produce(t testing.TB, cl *kgo.Client, runs ...spec) {
	t.Helper()
	var recs []*kgo.Record
	for _, r := range runs {
		for _, m := range r.messages() {
			recs = append(recs, &kgo.Record{Key: []byte(r.thread), Value: encode(t, m)})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// running starts c.Run until the test ends.
func running(t testing.TB, c *Catalog) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("catalog.Run did not stop")
		}
	})
}

func newKafkaCatalog(brokers []string, maxRuns int) *Catalog {
	return New(Config{MaxRuns: maxRuns, Logger: quiet,
		Kafka: KafkaConfig{Brokers: brokers, Topic: topic, Poll: 100 * time.Millisecond}})
}

// waitFor polls cond until it holds; the deadline only bounds a hang.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// all returns every run, newest first, paging through the catalog.
func all(t testing.TB, c *Catalog) []runsummary.Summary {
	t.Helper()
	var out []runsummary.Summary
	q := Query{Limit: MaxLimit}
	for {
		p := c.Query(q)
		out = append(out, p.Runs...)
		if p.Next == "" {
			return out
		}
		cur, err := DecodeCursor(p.Next)
		if err != nil {
			t.Fatal(err)
		}
		q.After = cur
	}
}

func threads(runs []runsummary.Summary) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ThreadID
	}
	return out
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func values(raw string) url.Values {
	v, _ := url.ParseQuery(raw)
	return v
}

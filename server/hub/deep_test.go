package hub

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/server/replay"
	"github.com/dashstream/dashstream/server/replay/memory"
	"github.com/dashstream/dashstream/server/source"
)

// kafkaWith50 starts an in-process broker holding offsets 0..49 of
// partition 0 and returns it with the records as the gateway would store them.
func kafkaWith50(t *testing.T) (*kfake.Cluster, []replay.Record) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "events"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []replay.Record
	for o := range int64(50) {
		r := record(t, 0, o, "a")
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: r.Value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return c, recs
}

func TestDeepReplay_ServesCursorsOlderThanTheStoreFromKafka(t *testing.T) {
	c, recs := kafkaWith50(t)
	ring, _ := memory.New(memory.Config{MaxRecords: 10})
	fetcher := source.NewFetcher(source.Config{Brokers: c.ListenAddrs(), Topic: "events"}, 2)
	defer fetcher.Close()
	g := newGateway(t, Config{}, ring, fetcher, nil)
	g.ingest(recs...) // the ring keeps 40..49

	cl := g.dial(nil)
	cl.send(partitionResume(control.FromCursor, map[int32]int64{0: 9}))
	events, done := until[*control.ReplayComplete](cl)
	for _, e := range events {
		if e.msg != nil {
			t.Errorf("deep replay reported %s: the data is still in Kafka", e)
		}
	}
	got := recordsOf(events)
	if offsets(got) != span(0, 10, 49) || done.TotalReplayed != 40 {
		t.Fatalf("replayed %s", offsets(got))
	}
	for i, r := range got {
		if string(r.Value) != string(recs[10+i].Value) {
			t.Fatalf("record %d differs from Kafka's value", r.Offset)
		}
	}
	if n := testutil.ToFloat64(g.m.DeepReplayRecords); n != 30 {
		t.Errorf("deep replay records %v, want 30", n)
	}

	// Once Kafka has dropped offsets below 20, a cursor at 9 is stale:
	// cursor_stale means the data is gone from everywhere.
	admin, _ := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	defer admin.Close()
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: "events", Partition: 0, At: 20})
	if _, err := kadm.NewClient(admin).DeleteRecords(context.Background(), del); err != nil {
		t.Fatal(err)
	}
	cl.send(partitionResume(control.FromCursor, map[int32]int64{0: 9}))
	events, _ = until[*control.ReplayComplete](cl)
	if len(events) == 0 {
		t.Fatal("nothing replayed")
	}
	stale, ok := events[0].msg.(*control.CursorStale)
	if !ok || stale.Requested != 9 || stale.Oldest != 20 {
		t.Fatalf("first event %s, want cursor_stale 9 → 20", events[0])
	}
	if got := offsets(recordsOf(events)); got != span(0, 20, 49) {
		t.Errorf("after the stale cursor: %s", got)
	}
}

func TestDeepReplay_FillsAHoleInsideTheStore(t *testing.T) {
	c, recs := kafkaWith50(t)
	fetcher := source.NewFetcher(source.Config{Brokers: c.ListenAddrs(), Topic: "events"}, 2)
	defer fetcher.Close()
	g := newGateway(t, Config{}, nil, fetcher, nil)
	for _, r := range recs[40:] {
		if r.Offset != 45 && r.Offset != 46 {
			g.ingest(r)
		}
	}
	cl := g.dial(nil)
	cl.send(partitionResume(control.FromCursor, map[int32]int64{0: 39}))
	events, _ := until[*control.ReplayComplete](cl)
	for _, e := range events {
		if e.msg != nil {
			t.Errorf("reported %s for a hole Kafka could fill", e)
		}
	}
	if got := offsets(recordsOf(events)); got != span(0, 40, 49) {
		t.Errorf("replayed %s", got)
	}
}

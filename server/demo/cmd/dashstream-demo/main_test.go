package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/server/demo"
	"github.com/dashstream/dashstream/server/producer/streamcheck"
)

// TestRun_SendsTheDemoToAKafkaClusterFromTheCommandLine: against a broker
// with no topic yet, the command creates it, plays the runs asked for, and
// everything it wrote reads back consistent and redacted.
func TestRun_SendsTheDemoToAKafkaClusterFromTheCommandLine(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env := map[string]string{"KAFKA_TENANT_ID": "cli", "DASHSTREAM_DEMO_SEED": "11"}
	args := []string{"--kafka-brokers", strings.Join(c.ListenAddrs(), ","), "--kafka-topic", "demo-events",
		"--create-topic-partitions", "3", "--demo-max-runs", "4", "--demo-time-scale", "0.0005", "--demo-runs-per-minute", "600"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := run(args, func(k string) string { return env[k] }, log); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("demo-events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for {
		rep := streamcheck.Check(recs, streamcheck.Options{RequireEnd: true, Forbidden: []string{demo.FakeSecret}})
		if len(rep.Threads) == 4 && rep.Err() == nil {
			for _, th := range rep.Threads {
				if th.Messages[0].GetEvent().GetHeader().GetTenantId() != "demo" {
					t.Fatalf("tenant %q", th.Messages[0].GetEvent().GetHeader().GetTenantId())
				}
			}
			return
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("records so far: %d, problems: %v", len(recs), rep.Err())
		}
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
}

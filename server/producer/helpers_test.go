package producer

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/server/internal/kafkatest"
	"github.com/dashstream/dashstream/server/producer/streamcheck"
)

const testTopic = "dashstream-events"

// testTimeout bounds every wait in these tests, so a bug shows as a failure
// with a message rather than a hung test binary. It is a liveness bound,
// not a performance assertion.
const testTimeout = 60 * time.Second

func newCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(4, testTopic)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestProducer builds a producer on the cluster the way an application
// does (New builds its own client from the Config), with a fresh registry.
func newTestProducer(t testing.TB, addrs []string, change func(*Config)) (*Producer, *prometheus.Registry) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Brokers = addrs
	cfg.Topic = testTopic
	cfg.DeliveryTimeout = 5 * time.Second
	if change != nil {
		change(&cfg)
	}
	reg := prometheus.NewRegistry()
	p, err := New(cfg, WithRegisterer(reg), WithLogger(quietLogger()))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p, reg
}

func flush(t testing.TB, p *Producer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// consumeAll reads every record of topic from the start to the current end
// offsets, partition by partition in offset order.
func consumeAll(t testing.TB, addrs []string, topic string, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	return kafkatest.ReadAll(t, addrs, topic, testTimeout, opts...)
}

// check reads the topic back and fails the test on any problem.
func check(t testing.TB, addrs []string, opts streamcheck.Options) *streamcheck.Report {
	t.Helper()
	rep := streamcheck.Check(consumeAll(t, addrs, testTopic), opts)
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	return rep
}

func counter(c prometheus.Collector) int { return int(testutil.ToFloat64(c)) }

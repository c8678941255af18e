// Command dashstream-demo sends the demo's runs to a real Kafka cluster, so
// that a deployment (gateway, dashboard, and any other consumer) can be tried
// with live, realistic traffic:
//
//	go run ./server/demo/cmd/dashstream-demo --kafka-brokers broker:9092 --kafka-topic dashstream-events
//
// Kafka settings come from the producer's environment variables
// (KAFKA_BROKERS, KAFKA_TOPIC, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*,
// KAFKA_SSL_*, DASHFLOW_STATE_REDACT, ...); the flags below win over them.
// The demo's own settings come from DASHSTREAM_DEMO_* and the --demo-*
// flags. It runs until interrupted (or --demo-max-runs runs), then flushes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/server/demo"
	"github.com/dashstream/dashstream/server/producer"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(os.Args[1:], os.Getenv, log); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		log.Error("dashstream-demo stopped", "err", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string, log *slog.Logger) error {
	pcfg, err := producer.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	dcfg, err := demo.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("dashstream-demo", flag.ContinueOnError)
	brokers := fs.String("kafka-brokers", strings.Join(pcfg.Brokers, ","), "Kafka brokers, comma separated ("+producer.EnvBrokers+")")
	fs.StringVar(&pcfg.Topic, "kafka-topic", pcfg.Topic, "topic to write to ("+producer.EnvTopic+")")
	createPartitions := fs.Int("create-topic-partitions", 0, "create the topic with this many partitions (replication factor 1) if it does not exist; 0 = do not create")
	dcfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	pcfg.Brokers = pcfg.Brokers[:0]
	for _, b := range strings.Split(*brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			pcfg.Brokers = append(pcfg.Brokers, b)
		}
	}
	if err := pcfg.Validate(); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts, err := pcfg.KafkaOptions()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	if *createPartitions > 0 {
		if err := createTopic(ctx, cl, pcfg.Topic, int32(*createPartitions), log); err != nil {
			return err
		}
	}
	p, err := producer.New(pcfg, producer.WithClient(cl), producer.WithLogger(log))
	if err != nil {
		return err
	}
	err = demo.RunWithLogger(ctx, dcfg, p, log)
	closeCtx, cancel := context.WithTimeout(context.Background(), pcfg.FlushTimeout)
	defer cancel()
	if cerr := p.Close(closeCtx); cerr != nil {
		err = errors.Join(err, cerr)
	}
	st := p.Stats()
	log.Info("dashstream-demo done", "sent", st.Sent, "send_failures", st.SendFailures, "dropped", st.Dropped)
	return err
}

func createTopic(ctx context.Context, cl *kgo.Client, topic string, partitions int32, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic)
	switch {
	case errors.Is(err, kerr.TopicAlreadyExists) || errors.Is(resp.Err, kerr.TopicAlreadyExists):
		log.Info("topic exists", "topic", topic)
		return nil
	case err != nil:
		return fmt.Errorf("create topic %s: %w", topic, err)
	case resp.Err != nil:
		return fmt.Errorf("create topic %s: %w", topic, resp.Err)
	}
	log.Info("topic created", "topic", topic, "partitions", partitions)
	return nil
}

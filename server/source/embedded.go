package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// EmbeddedConfig configures the in-process broker of the default `make run`.
type EmbeddedConfig struct {
	// DataDir holds the broker's log, so history survives a restart while
	// memory stays small (kfake keeps records on disk, not in the heap).
	DataDir    string
	Topics     []string // created when missing; the first is the main topic
	Partitions int32
	// Retention and MaxBytes (per partition) bound the log, on disk and in
	// what a restart reloads.
	Retention time.Duration
	MaxBytes  int64
	// TrimEvery is how often retention is applied (default 30 s).
	TrimEvery time.Duration
}

// Embedded is a running in-process Kafka broker (kfake).
type Embedded struct {
	cluster *kfake.Cluster
	stop    context.CancelFunc
	done    sync.WaitGroup
}

// StartEmbedded starts the broker on a loopback port, creates the topics (or
// grows their partitions to cfg.Partitions) and trims the log periodically
// until Close.
func StartEmbedded(cfg EmbeddedConfig, log *slog.Logger) (*Embedded, error) {
	if cfg.TrimEvery <= 0 {
		cfg.TrimEvery = 30 * time.Second
	}
	retention := map[string]string{
		"log.retention.ms":       strconv.FormatInt(cfg.Retention.Milliseconds(), 10),
		"log.retention.bytes":    strconv.FormatInt(cfg.MaxBytes, 10),
		"log.cleaner.backoff.ms": strconv.FormatInt(cfg.TrimEvery.Milliseconds(), 10),
		"message.max.bytes":      strconv.Itoa(16 << 20),
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(0), kfake.BrokerConfigs(retention)}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka: %w", err)
	}
	e := &Embedded{cluster: cluster}
	if err := e.ensureTopics(cfg); err != nil {
		cluster.Close()
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	e.stop = stop
	e.done.Add(1)
	go func() {
		defer e.done.Done()
		t := time.NewTicker(cfg.TrimEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				cluster.ApplyRetention()
			}
		}
	}()
	log.Info("embedded kafka started", "brokers", cluster.ListenAddrs(), "data_dir", cfg.DataDir,
		"retention", cfg.Retention, "max_bytes_per_partition", cfg.MaxBytes)
	return e, nil
}

// ensureTopics creates missing topics with retention set on them (so the
// broker's cleaner applies it) and grows existing ones to cfg.Partitions.
func (e *Embedded) ensureTopics(cfg EmbeddedConfig) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.cluster.ListenAddrs()...))
	if err != nil {
		return fmt.Errorf("embedded kafka admin: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ms := strconv.FormatInt(cfg.Retention.Milliseconds(), 10)
	bytes := strconv.FormatInt(cfg.MaxBytes, 10)
	topicCfg := map[string]*string{"retention.ms": &ms, "retention.bytes": &bytes}
	existing, err := adm.ListTopics(ctx, cfg.Topics...)
	if err != nil {
		return fmt.Errorf("embedded kafka: list topics: %w", err)
	}
	for _, t := range cfg.Topics {
		td, ok := existing[t]
		if !ok || td.Err != nil { // unknown topic: create it
			resp, err := adm.CreateTopic(ctx, cfg.Partitions, 1, topicCfg, t)
			if err != nil || resp.Err != nil {
				return fmt.Errorf("embedded kafka: create topic %s: %w", t, errors.Join(err, resp.Err))
			}
			continue
		}
		if have := int32(len(td.Partitions)); have < cfg.Partitions {
			if _, err := adm.CreatePartitions(ctx, int(cfg.Partitions-have), t); err != nil {
				return fmt.Errorf("embedded kafka: grow topic %s: %w", t, err)
			}
		}
	}
	return nil
}

// Brokers returns the broker's listen addresses.
func (e *Embedded) Brokers() []string { return e.cluster.ListenAddrs() }

// Cluster exposes the broker, for tests that need to inject faults.
func (e *Embedded) Cluster() *kfake.Cluster { return e.cluster }

// Close stops trimming and shuts the broker down, flushing its log.
func (e *Embedded) Close() {
	e.stop()
	e.done.Wait()
	e.cluster.Close()
}

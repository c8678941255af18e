package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/server/source/logdir"
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
	// TrimEvery is how often retention is applied and the log's bounds are
	// recorded beside it (default 5 s).
	TrimEvery time.Duration
}

// Embedded is a running in-process Kafka broker (kfake).
type Embedded struct {
	cfg     EmbeddedConfig
	cluster *kfake.Cluster
	brokers []string
	closed  sync.Once
	report  logdir.Report
	log     *slog.Logger
	stop    context.CancelFunc
	done    sync.WaitGroup

	mu    sync.Mutex
	state logdir.State
}

// SegmentBytes is the segment size the embedded broker uses for a bound of
// maxBytes per partition. Retention deletes whole segments only, so disk use
// is the retained bytes plus up to one segment: small segments keep it
// close to the bound.
func SegmentBytes(maxBytes int64) int64 { return max(maxBytes/16, 16<<10) }

// RetentionBytes is the retention.bytes that keeps a partition's folder
// (segments plus their index) within maxBytes: one segment and a sixteenth
// (for the index) are held back.
func RetentionBytes(maxBytes int64) int64 {
	return max(maxBytes-SegmentBytes(maxBytes)-maxBytes/16, SegmentBytes(maxBytes))
}

// StartEmbedded starts the broker on a loopback port, creates the topics (or
// grows their partitions to cfg.Partitions) and trims the log periodically
// until Close.
//
// With a DataDir, the folder is checked first (logdir.Prepare): what cannot
// be read is moved aside and a new incarnation begins, so a damaged folder
// never stops the start and never lets an offset name another record
// silently.
func StartEmbedded(cfg EmbeddedConfig, log *slog.Logger) (*Embedded, error) {
	if cfg.TrimEvery <= 0 {
		cfg.TrimEvery = 5 * time.Second
	}
	e := &Embedded{cfg: cfg, log: log}
	if cfg.DataDir != "" {
		rep, err := logdir.Prepare(cfg.DataDir, time.Now(), log)
		if err != nil {
			return nil, fmt.Errorf("embedded kafka: checking %s: %w", cfg.DataDir, err)
		}
		e.report = rep
	} else {
		e.report = logdir.Report{Incarnation: logdir.NewIncarnation(), Since: time.Now().UTC(), Reason: "the log is in memory"}
	}
	if st, err := logdir.ReadState(cfg.DataDir); err == nil && cfg.DataDir != "" {
		e.state = st // as Prepare left it, with the holes already reported
	} else {
		e.state = logdir.State{Incarnation: e.report.Incarnation, Since: e.report.Since}
	}
	cluster, err := kfake.NewCluster(e.clusterOpts()...)
	if err != nil && cfg.DataDir != "" && strings.Contains(err.Error(), "loading persisted state") {
		// Something the check does not know stopped the broker: start
		// afresh rather than fail at every start.
		if cluster, err = e.startAfresh(err); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("embedded kafka: %w", err)
	}
	e.cluster = cluster
	e.brokers = cluster.ListenAddrs()
	if err := e.ensureTopics(cfg); err != nil {
		cluster.Close()
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	e.stop = stop
	e.done.Add(1)
	go func() {
		defer e.done.Done()
		e.checkpoint(ctx)
		t := time.NewTicker(cfg.TrimEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				cluster.ApplyRetention()
				e.checkpoint(ctx)
			}
		}
	}()
	log.Info("embedded kafka started", "brokers", cluster.ListenAddrs(), "data_dir", cfg.DataDir,
		"incarnation", e.report.Incarnation, "retention", cfg.Retention, "max_bytes_per_partition", cfg.MaxBytes,
		"segment_bytes", SegmentBytes(cfg.MaxBytes))
	return e, nil
}

func (e *Embedded) clusterOpts() []kfake.Opt {
	cfg := e.cfg
	brokerCfg := map[string]string{
		"log.retention.ms":       strconv.FormatInt(cfg.Retention.Milliseconds(), 10),
		"log.retention.bytes":    strconv.FormatInt(RetentionBytes(cfg.MaxBytes), 10),
		"log.segment.bytes":      strconv.FormatInt(SegmentBytes(cfg.MaxBytes), 10),
		"log.cleaner.backoff.ms": strconv.FormatInt(cfg.TrimEvery.Milliseconds(), 10),
		"message.max.bytes":      strconv.Itoa(16 << 20),
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(0), kfake.BrokerConfigs(brokerCfg), kfake.WithLogger(kfakeLogger{e.log})}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	return opts
}

// startAfresh moves the whole folder aside after the broker refused it and
// starts an empty log with a new incarnation.
func (e *Embedded) startAfresh(cause error) (*kfake.Cluster, error) {
	q := fmt.Sprintf("%s.damaged-%s", filepath.Clean(e.cfg.DataDir), time.Now().UTC().Format("20060102T150405.000Z"))
	if err := os.Rename(e.cfg.DataDir, q); err != nil {
		return nil, fmt.Errorf("embedded kafka: %w (and moving the folder aside failed: %w)", cause, err)
	}
	rep := e.report
	rep.Previous = rep.Incarnation
	rep.Incarnation, rep.Since = logdir.NewIncarnation(), time.Now().UTC()
	rep.Reason = "the broker could not load the log"
	rep.Quarantine = q
	rep.Losses = append(rep.Losses, logdir.Loss{What: "the broker could not load the log (" + cause.Error() + "); the whole log was moved aside", From: -1, To: -1})
	rep.UnknownLosses++
	e.report = rep
	e.state = logdir.State{Incarnation: rep.Incarnation, Since: rep.Since}
	if err := logdir.WriteState(e.cfg.DataDir, e.state); err != nil {
		return nil, fmt.Errorf("embedded kafka: %w", err)
	}
	e.log.Error("embedded kafka: the broker could not load the log; it was moved aside and a new incarnation begins",
		"err", cause, "moved_to", q, "incarnation", rep.Incarnation)
	cluster, err := kfake.NewCluster(e.clusterOpts()...)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka: %w", err)
	}
	return cluster, nil
}

// checkpoint records each partition's bounds beside the log, so a restart
// can tell a log cut short from one that merely stopped.
func (e *Embedded) checkpoint(ctx context.Context) {
	if e.cfg.DataDir == "" {
		return
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	starts, err1 := adm.ListStartOffsets(ctx, e.cfg.Topics...)
	ends, err2 := adm.ListEndOffsets(ctx, e.cfg.Topics...)
	if err1 != nil || err2 != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st := logdir.State{Incarnation: e.state.Incarnation, Since: e.state.Since, Holes: e.state.Holes,
		Ends: map[string]map[int32]int64{}, Starts: map[string]map[int32]int64{}}
	changed := false
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			return
		}
		if st.Ends[o.Topic] == nil {
			st.Ends[o.Topic], st.Starts[o.Topic] = map[int32]int64{}, map[int32]int64{}
		}
		st.Ends[o.Topic][o.Partition] = o.Offset
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok && s.Err == nil {
			st.Starts[o.Topic][o.Partition] = s.Offset
		}
		changed = changed || e.state.Ends[o.Topic][o.Partition] != o.Offset ||
			e.state.Starts[o.Topic][o.Partition] != st.Starts[o.Topic][o.Partition]
	})
	if !changed {
		return
	}
	if err := logdir.WriteState(e.cfg.DataDir, st); err != nil {
		e.log.Warn("embedded kafka: recording the log's bounds", "err", err)
		return
	}
	e.state = st
}

// Report is what the start-up check of the data folder found.
func (e *Embedded) Report() logdir.Report { return e.report }

// Incarnation is the log's incarnation: it changes whenever an offset could
// name another record than before.
func (e *Embedded) Incarnation() string { return e.report.Incarnation }

// kfakeLogger passes the broker's warnings and errors to slog.
type kfakeLogger struct{ log *slog.Logger }

func (l kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	switch level {
	case kfake.LogLevelError:
		l.log.Error("embedded kafka: " + fmt.Sprintf(format, args...))
	case kfake.LogLevelWarn:
		l.log.Warn("embedded kafka: " + fmt.Sprintf(format, args...))
	}
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
	bytes := strconv.FormatInt(RetentionBytes(cfg.MaxBytes), 10)
	seg := strconv.FormatInt(SegmentBytes(cfg.MaxBytes), 10)
	topicCfg := map[string]*string{"retention.ms": &ms, "retention.bytes": &bytes, "segment.bytes": &seg}
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
		// The settings may have changed since the topic was created.
		var alter []kadm.AlterConfig
		for k, v := range topicCfg {
			alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: v})
		}
		if _, err := adm.AlterTopicConfigs(ctx, alter, t); err != nil {
			return fmt.Errorf("embedded kafka: configure topic %s: %w", t, err)
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
func (e *Embedded) Brokers() []string { return e.brokers }

// Cluster exposes the broker, for tests that need to inject faults.
func (e *Embedded) Cluster() *kfake.Cluster { return e.cluster }

// Close stops trimming, records the log's bounds and shuts the broker down,
// flushing its log.
func (e *Embedded) Close() {
	e.closed.Do(func() {
		e.stop()
		e.done.Wait()
		e.checkpoint(context.Background())
		e.cluster.Close()
	})
}

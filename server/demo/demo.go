// Package demo generates realistic, live, concurrent graph runs through a
// producer.Producer, so that a new user sees the dashboard working at once
// (make run) and anyone can try a real Kafka deployment with the same runs
// (cmd/dashstream-demo).
//
// It follows the producer note's Appendix A. Four graphs (a linear research
// assistant, a support router with a human in the loop, a market research
// fan-out over three searches, an essay loop that revises until a critic
// passes it), 5 to 7 nodes each and every node type the dashboard draws. Per
// node: NODE_START, progress and thinking, LLM token streams at 20 to 80
// tokens a second, tool calls that sometimes retry or fail, a state update,
// NODE_END and the edge taken. States grow to several kilobytes, so patches,
// full states and zstd framing all occur; they hold integral floats written
// 1.0, integers above 2^53, non-ASCII text, and, in some runs, a fake API key
// (FakeSecret) that must leave the process redacted. Checkpoint nodes and
// every fourth step checkpoint; runs end with quality metrics; about one in
// eight fails with NODE_ERROR and GRAPH_ERROR.
//
// Runs start every few seconds (RunsPerMinute, with jitter), several at
// once (MaxConcurrentRuns), across partitions. Node durations are 50 ms to
// 5 s of simulated time; TimeScale shrinks the waits (tests use 0.001)
// without changing what is sent. A fixed Seed gives the same runs, thread
// ids included.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dashstream/dashstream/server/producer"
)

// Config tunes the demo. Start from DefaultConfig (or ConfigFromEnv); zero
// fields other than FailureRate and MaxRuns take the DefaultConfig values.
type Config struct {
	// Seed fixes every run's content and thread_id; 0 picks one from the
	// clock (logged, so a run can be reproduced).
	Seed uint64
	// RunsPerMinute is how many runs start per minute of simulated time.
	RunsPerMinute float64
	// MaxConcurrentRuns caps the runs in progress; a new run waits for a
	// slot.
	MaxConcurrentRuns int
	// TimeScale multiplies every wait: 1 is real time, 0.01 a hundred
	// times faster. Durations reported in events stay the simulated ones.
	TimeScale float64
	// FailureRate is the share of runs that fail (DefaultConfig: 0.12; zero
	// means none).
	FailureRate float64
	// TenantID is the runs' tenant_id.
	TenantID string
	// MaxRuns stops the demo after that many runs (0: until ctx is done).
	MaxRuns int
	// InitialBurst runs start at once when the demo starts, so the
	// dashboard shows concurrent runs immediately.
	InitialBurst int
}

// DefaultConfig returns a run every 2 s on average, up to 8 at once (about
// 4 in progress at any time), in real time, 12% failing.
func DefaultConfig() Config {
	return Config{RunsPerMinute: 30, MaxConcurrentRuns: 8, TimeScale: 1, FailureRate: 0.12, TenantID: "demo", InitialBurst: 3}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.RunsPerMinute == 0 {
		c.RunsPerMinute = d.RunsPerMinute
	}
	if c.MaxConcurrentRuns == 0 {
		c.MaxConcurrentRuns = d.MaxConcurrentRuns
	}
	if c.TimeScale == 0 {
		c.TimeScale = d.TimeScale
	}
	if c.TenantID == "" {
		c.TenantID = d.TenantID
	}
	if c.InitialBurst == 0 {
		c.InitialBurst = min(d.InitialBurst, c.MaxConcurrentRuns)
	}
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.RunsPerMinute < 0 || c.RunsPerMinute > 60_000:
		return fmt.Errorf("demo: RunsPerMinute %v is outside 0..60000", c.RunsPerMinute)
	case c.MaxConcurrentRuns < 0 || c.MaxConcurrentRuns > 1000:
		return fmt.Errorf("demo: MaxConcurrentRuns %d is outside 1..1000", c.MaxConcurrentRuns)
	case c.TimeScale < 0 || c.TimeScale > 100:
		return fmt.Errorf("demo: TimeScale %v is outside 0..100", c.TimeScale)
	case c.FailureRate < 0 || c.FailureRate > 1:
		return fmt.Errorf("demo: FailureRate %v is outside 0..1", c.FailureRate)
	case c.MaxRuns < 0:
		return fmt.Errorf("demo: MaxRuns %d is negative", c.MaxRuns)
	case c.InitialBurst < 0:
		return fmt.Errorf("demo: InitialBurst %d is negative", c.InitialBurst)
	}
	return nil
}

// Run starts runs through p until ctx is done or MaxRuns have finished, then
// waits for the runs in progress: each stops at its next step once ctx is
// done, reporting GRAPH_ERROR ("demo stopped"). It returns nil when stopped
// by ctx, an error only for an invalid Config. It does not close p.
func Run(ctx context.Context, cfg Config, p *producer.Producer) error {
	return RunWithLogger(ctx, cfg, p, slog.Default())
}

// RunWithLogger is Run with a logger (one line at start and one at stop;
// nothing per run).
func RunWithLogger(ctx context.Context, cfg Config, p *producer.Producer, log *slog.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	log.Info("demo runs starting", "seed", cfg.Seed, "runs_per_minute", cfg.RunsPerMinute,
		"max_concurrent_runs", cfg.MaxConcurrentRuns, "time_scale", cfg.TimeScale, "failure_rate", cfg.FailureRate)

	slots := make(chan struct{}, cfg.MaxConcurrentRuns)
	var wg sync.WaitGroup
	spawn := rand.New(rand.NewPCG(cfg.Seed, 0x5ba7))
	started, failed := 0, 0
	var mu sync.Mutex
	for i := 0; cfg.MaxRuns == 0 || i < cfg.MaxRuns; i++ {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		started++
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := newRunner(ctx, cfg, p, i).play(); err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
		if i < cfg.InitialBurst-1 {
			continue
		}
		// The next run starts after an exponentially distributed wait (a
		// Poisson process at RunsPerMinute), bounded to keep it lively.
		mean := 60 / cfg.RunsPerMinute
		wait := min(spawn.ExpFloat64()*mean, 3*mean)
		if err := sleep(ctx, cfg.TimeScale, time.Duration(wait*float64(time.Second))); err != nil {
			break
		}
	}
	wg.Wait()
	mu.Lock()
	log.Info("demo runs stopped", "started", started, "not_completed", failed)
	mu.Unlock()
	return nil
}

// sleep waits d of simulated time, scaled, or until ctx is done.
func sleep(ctx context.Context, scale float64, d time.Duration) error {
	wait := time.Duration(float64(d) * scale)
	if wait <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errStopped is the GRAPH_ERROR of runs the demo's shutdown interrupted.
var errStopped = errors.New("demo stopped before the run finished")

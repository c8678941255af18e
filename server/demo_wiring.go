package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashstream/dashstream/server/config"
	"github.com/dashstream/dashstream/server/demo"
	"github.com/dashstream/dashstream/server/producer"
)

// startDemo runs the demo graph runs into the gateway's own Kafka (the
// embedded broker by default), so that `make run` shows live runs with no
// configuration. The producer is the one a DashFlow application would use,
// so the demo also exercises the real producer path end to end.
func (g *gateway) startDemo(ctx context.Context, cfg *config.Config, brokers []string, reg prometheus.Registerer, log *slog.Logger) error {
	p, err := producer.New(demoProducerConfig(cfg, brokers), producer.WithRegisterer(reg), producer.WithLogger(log.With("component", "demo")))
	if err != nil {
		return fmt.Errorf("demo producer: %w", err)
	}
	g.closers = append(g.closers, func(ctx context.Context) {
		if err := p.Close(ctx); err != nil {
			log.Warn("demo producer did not flush", "err", err)
		}
	})
	dcfg := demo.DefaultConfig()
	// A fixed seed repeats the same thread ids at every start, which a
	// persistent broker already holds; seed 0 takes one from the clock.
	dcfg.Seed = uint64(cfg.DemoSeed)
	if cfg.DemoRate > 0 {
		dcfg.RunsPerMinute = cfg.DemoRate
	}
	g.goRun(ctx, func(ctx context.Context) {
		// The demo only ends with ctx; a failure is logged and retried, so
		// that a Kafka outage does not leave the dashboard empty for good.
		for ctx.Err() == nil {
			err := demo.RunWithLogger(ctx, dcfg, p, log.With("component", "demo"))
			if ctx.Err() != nil {
				return
			}
			log.Warn("demo stopped; restarting in 5s", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}
	})
	return nil
}

// demoProducerConfig is the producer configuration of the demo runs, writing
// to brokers with the gateway's topic and security settings.
func demoProducerConfig(cfg *config.Config, brokers []string) producer.Config {
	pcfg := producer.DefaultConfig()
	pcfg.Brokers = brokers
	pcfg.Topic = cfg.Topic
	pcfg.CheckpointInterval = 10 // a bookmarked moment is rebuilt from a nearby checkpoint
	pcfg.AddressFamily = cfg.Security.AddressFamily
	if !cfg.Embedded() {
		s := cfg.Security
		pcfg.Security = producer.Security{
			Protocol: s.Protocol, SASLMechanism: s.SASLMechanism, SASLUsername: s.SASLUsername, SASLPassword: s.SASLPassword,
			CALocation: s.CALocation, CertificateLocation: s.CertLocation, KeyLocation: s.KeyLocation,
			KeyPassword: s.KeyPassword, EndpointIdentificationAlgorithm: s.EndpointAlgo,
		}
	}
	return pcfg
}

package replay

import "github.com/prometheus/client_golang/prometheus"

// Collector exports a Tiered store's counters at scrape time under the
// upstream websocket-server's names (reference §9.6), so its dashboards
// keep working, plus two gauges of ours. Register it once:
//
//	registry.MustRegister(replay.NewCollector(tiered))
//
// The upstream latency histogram dashstream_websocket_redis_latency_ms
// {operation=read|write} is not here: feed it from TieredConfig.Observe.
type Collector struct {
	t *Tiered

	memoryHits, redisHits, redisMisses, writeDropped, writeFailures, redisErrors *prometheus.Desc
	redisUp, queued                                                              *prometheus.Desc
}

// NewCollector returns a collector of t.
func NewCollector(t *Tiered) *Collector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &Collector{
		t:             t,
		memoryHits:    d("replay_buffer_memory_hits_total", "Replay reads answered, wholly or partly, from the memory ring."),
		redisHits:     d("replay_buffer_redis_hits_total", "Replay reads from Redis that returned records."),
		redisMisses:   d("replay_buffer_redis_misses_total", "Replay reads from Redis that returned nothing or failed."),
		writeDropped:  d("replay_buffer_redis_write_dropped_total", "Records never written to Redis (write queue full, write failed for good, shutdown)."),
		writeFailures: d("replay_buffer_redis_write_failures_total", "Failed Redis write attempts (a batch retried while Redis is down counts once per attempt)."),
		redisErrors:   d("dashstream_websocket_redis_errors_total", "Redis operations of the replay store that failed or were skipped because Redis was unreachable."),
		redisUp:       d("dashstream_gateway_replay_redis_up", "1 while the replay store's Redis is reachable, 0 while the gateway serves replay from memory only."),
		queued:        d("dashstream_gateway_replay_redis_write_queue", "Records waiting to be written to Redis."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.memoryHits, c.redisHits, c.redisMisses, c.writeDropped, c.writeFailures, c.redisErrors, c.redisUp, c.queued} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.t.Stats()
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(c.memoryHits, s.MemoryHits)
	counter(c.redisHits, s.DurableHits)
	// Upstream counted a failed read as a miss too.
	counter(c.redisMisses, s.DurableMisses+s.DurableErrors)
	counter(c.writeDropped, s.WriteDropped)
	counter(c.writeFailures, s.WriteFailures)
	counter(c.redisErrors, s.DurableErrors+s.WriteFailures)
	up := 0.0
	if s.Health.DurableOK {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(c.redisUp, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(s.Queued))
}

var _ prometheus.Collector = (*Collector)(nil)

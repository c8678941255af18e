package catalog

import "github.com/prometheus/client_golang/prometheus"

// Collector returns the catalog's Prometheus metrics, read from Stats at
// scrape time (nothing is counted per record beyond Stats itself).
func (c *Catalog) Collector() prometheus.Collector { return collector{c} }

type collector struct{ c *Catalog }

var (
	descRuns     = prometheus.NewDesc("dashstream_catalog_runs", "Runs in the run catalog.", nil, nil)
	descBytes    = prometheus.NewDesc("dashstream_catalog_bytes", "Estimated memory held by the run catalog's summaries.", nil, nil)
	descRecords  = prometheus.NewDesc("dashstream_catalog_records_total", "Kafka records folded into the run catalog, by feed.", []string{"feed"}, nil)
	descRemoved  = prometheus.NewDesc("dashstream_catalog_runs_removed_total", "Runs removed from the run catalog, by reason.", []string{"reason"}, nil)
	descUndec    = prometheus.NewDesc("dashstream_catalog_undecodable_total", "Records the catalog's rebuild could not decode.", nil, nil)
	descUnread   = prometheus.NewDesc("dashstream_catalog_unreadable_total", "Offsets the catalog's rebuild skipped because Kafka could not read them.", nil, nil)
	descBuilding = prometheus.NewDesc("dashstream_catalog_building", "1 while the catalog still reads the history retained at start.", nil, nil)
)

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRuns, descBytes, descRecords, descRemoved, descUndec, descUnread, descBuilding} {
		ch <- d
	}
}

func (k collector) Collect(ch chan<- prometheus.Metric) {
	st := k.c.Stats()
	building := 0.0
	if st.Building {
		building = 1
	}
	ch <- prometheus.MustNewConstMetric(descRuns, prometheus.GaugeValue, float64(st.Runs))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(descRecords, prometheus.CounterValue, float64(st.Live), "live")
	ch <- prometheus.MustNewConstMetric(descRecords, prometheus.CounterValue, float64(st.Records-st.Live), "rebuild")
	ch <- prometheus.MustNewConstMetric(descRemoved, prometheus.CounterValue, float64(st.EvictedByCount), "count")
	ch <- prometheus.MustNewConstMetric(descRemoved, prometheus.CounterValue, float64(st.DroppedByRetention), "retention")
	ch <- prometheus.MustNewConstMetric(descUndec, prometheus.CounterValue, float64(st.Undecodable))
	ch <- prometheus.MustNewConstMetric(descUnread, prometheus.CounterValue, float64(st.Unreadable))
	ch <- prometheus.MustNewConstMetric(descBuilding, prometheus.GaugeValue, building)
}

package catalog

import (
	"cmp"
	"math"
	"net/url"
	"slices"

	"github.com/dashstream/dashstream/protocol/runsummary"
)

// graphAgg gathers one graph's figures.
type graphAgg struct {
	runsummary.GraphStats
	durations []int64
}

// ParseGraphsQuery reads the parameters of `GET /api/graphs`: since and
// until.
func ParseGraphsQuery(v url.Values) (since, until runsummary.Time, err error) {
	if err := checkKnown(v, "since", "until"); err != nil {
		return 0, 0, err
	}
	return window(v)
}

// Graphs aggregates the runs started in [since, until) per graph.
func (c *Catalog) Graphs(since, until runsummary.Time) runsummary.Graphs {
	ans := runsummary.Graphs{Since: since, Until: until}
	var total graphAgg
	by := map[string]*graphAgg{}
	c.mu.RLock()
	ans.Building = c.building
	pivot := item{start: 1<<63 - 1}
	if until != 0 {
		pivot = item{start: until - 1}
	}
	c.order.Ascend(pivot, func(it item) bool {
		if since != 0 && it.start < since {
			return false
		}
		s := &it.e.sum
		g := by[s.GraphName]
		if g == nil {
			g = &graphAgg{GraphStats: runsummary.GraphStats{Graph: s.GraphName}}
			by[s.GraphName] = g
		}
		usd, _ := s.Cost(c.cfg.Prices)
		g.add(s, usd)
		total.add(s, usd)
		return true
	})
	c.mu.RUnlock()
	ans.Graphs = make([]runsummary.GraphStats, 0, len(by))
	for _, g := range by {
		g.finish()
		ans.Graphs = append(ans.Graphs, g.GraphStats)
	}
	total.finish()
	ans.Total = total.GraphStats
	slices.SortFunc(ans.Graphs, func(a, b runsummary.GraphStats) int {
		if c := cmp.Compare(b.Runs, a.Runs); c != 0 {
			return c
		}
		return cmp.Compare(a.Graph, b.Graph)
	})
	return ans
}

func (g *graphAgg) add(s *runsummary.Summary, usd float64) {
	g.Runs++
	switch s.Outcome {
	case runsummary.Completed:
		g.Completed++
	case runsummary.Failed:
		g.Failed++
	default:
		g.Running++
	}
	if s.Status == runsummary.Incomplete {
		g.Incomplete++
	} else if s.Outcome != runsummary.Running {
		g.durations = append(g.durations, s.DurationMs)
	}
	g.LastStartedAt = max(g.LastStartedAt, s.StartedAt)
	g.LLMCalls += s.LLMCalls
	g.Tokens += s.TotalTokens
	g.CostUSD += usd
	g.ToolCalls += s.ToolCalls
}

func (g *graphAgg) finish() {
	if n := g.Completed + g.Failed; n > 0 {
		g.FailureRate = float64(g.Failed) / float64(n)
	}
	g.CostUSD = math.Round(g.CostUSD*1e6) / 1e6
	slices.Sort(g.durations)
	g.P50Ms, g.P95Ms = percentile(g.durations, 50), percentile(g.durations, 95)
	g.durations = nil
}

// percentile is the nearest-rank percentile of sorted values (0 when
// empty).
func percentile(sorted []int64, p int) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 · n)
	return sorted[max(rank, 1)-1]
}

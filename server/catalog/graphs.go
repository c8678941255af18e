package catalog

import (
	"cmp"
	"math"
	"net/url"
	"slices"

	"github.com/dashstream/dashstream/protocol/runsummary"
)

// GraphStats aggregates the runs of one graph (or of all graphs) in a
// window.
type GraphStats struct {
	Graph string `json:"graph"`
	Runs  int    `json:"runs"`
	// Running, Completed and Failed count runs by how far they got
	// (Outcome), incomplete ones included; Incomplete counts the runs whose
	// start is not retained.
	Running    int `json:"running"`
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
	Incomplete int `json:"incomplete"`
	// FailureRate is Failed / (Completed + Failed); 0 when none finished.
	FailureRate float64 `json:"failure_rate"`
	// P50Ms and P95Ms are duration percentiles (nearest rank) of the
	// finished runs whose start is retained; 0 when there is none.
	P50Ms int64 `json:"p50_duration_ms"`
	P95Ms int64 `json:"p95_duration_ms"`
	// LastStartedAt is when the newest run started.
	LastStartedAt runsummary.Time `json:"last_started_at"`
	// Tokens and CostUSD add up the runs' LLM usage (CostUSD counts the
	// priced calls only).
	LLMCalls  int     `json:"llm_calls"`
	Tokens    uint64  `json:"tokens"`
	CostUSD   float64 `json:"cost_usd"`
	ToolCalls int     `json:"tool_calls"`

	durations []int64
}

// GraphsAnswer is the answer of `GET /api/graphs`.
type GraphsAnswer struct {
	// Graphs lists each graph, most runs first ("" names runs whose graph
	// is unknown).
	Graphs []GraphStats `json:"graphs"`
	// Total aggregates every graph.
	Total GraphStats `json:"total"`
	// Since and Until echo the window (null: unbounded).
	Since    runsummary.Time `json:"since"`
	Until    runsummary.Time `json:"until"`
	Building bool            `json:"building"`
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
func (c *Catalog) Graphs(since, until runsummary.Time) GraphsAnswer {
	ans := GraphsAnswer{Since: since, Until: until, Total: GraphStats{Graph: ""}}
	by := map[string]*GraphStats{}
	c.mu.RLock()
	ans.Building = c.building
	pivot := &entry{start: 1<<63 - 1}
	if until != 0 {
		pivot = &entry{start: until - 1}
	}
	c.order.Ascend(pivot, func(e *entry) bool {
		if since != 0 && e.start < since {
			return false
		}
		s := &e.sum
		g := by[s.GraphName]
		if g == nil {
			g = &GraphStats{Graph: s.GraphName}
			by[s.GraphName] = g
		}
		usd, _ := s.Cost(c.cfg.Prices)
		g.add(s, usd)
		ans.Total.add(s, usd)
		return true
	})
	c.mu.RUnlock()
	ans.Graphs = make([]GraphStats, 0, len(by))
	for _, g := range by {
		g.finish()
		ans.Graphs = append(ans.Graphs, *g)
	}
	ans.Total.finish()
	slices.SortFunc(ans.Graphs, func(a, b GraphStats) int {
		if c := cmp.Compare(b.Runs, a.Runs); c != 0 {
			return c
		}
		return cmp.Compare(a.Graph, b.Graph)
	})
	return ans
}

func (g *GraphStats) add(s *runsummary.Summary, usd float64) {
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

func (g *GraphStats) finish() {
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

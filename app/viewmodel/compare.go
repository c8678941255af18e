package viewmodel

import (
	"math"
	"strconv"
	"time"

	"github.com/dashstream/dashstream/protocol/pricing"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// CompareSide is one of the two runs of a comparison.
type CompareSide struct {
	Thread string
	// Found is false while the run is not in the store (not loaded yet,
	// or unknown).
	Found    bool
	Graph    string
	Version  string
	Status   Status
	Live     bool
	Started  time.Time
	Duration time.Duration
	Totals   Totals
	// Failure is set for a failed run.
	Failure *Failure
	costUSD float64
	priced  bool
}

// NodeCompare is one node's time in the two runs: the sum over its
// executions (a node that ran twice counts both), with their count.
type NodeCompare struct {
	Node         string
	A, B         time.Duration
	RunsA, RunsB int
	// Delta is B's time minus A's in words ("+1.2 s", "−300 ms"), "" when
	// the node did not run in both; Slower and Faster flag a change of
	// more than a tenth (and 50 ms), Share is |B−A| over the larger.
	Delta          string
	Slower, Faster bool
	FailedA        bool
	FailedB        bool
}

// Comparison is `/compare?a=…&b=…`: two runs side by side.
type Comparison struct {
	A, B CompareSide
	// SameGraph: both runs are of the same graph (by name).
	SameGraph bool
	Nodes     []NodeCompare
	// The deltas of the headline figures, B minus A, in words.
	DurationDelta, TokenDelta, CostDelta, LLMCallDelta, ToolCallDelta, ErrorDelta string
	// Diff turns A's final state into B's (at most 300 operations).
	Diff      []DiffRow
	DiffTotal int
	DiffNote  string
}

// compareSide reads one run (nil: not in the store).
func compareSide(thread string, r *runstate.Run, prices *pricing.Table, now time.Time) CompareSide {
	s := CompareSide{Thread: thread}
	if r == nil {
		return s
	}
	row := NewRunRow(r, now)
	s.Found, s.Graph, s.Status, s.Live, s.Started, s.Duration = true, row.Graph, row.Status, row.Live, row.Started, row.Duration
	if sc := r.Schema(); sc != nil {
		s.Version = sc.Version
	}
	sum := r.Summary()
	s.Totals = NewTotals(sum, prices)
	if prices != nil {
		if p := sum.Priced(prices); p.CostUSD != nil {
			s.costUSD, s.priced = *p.CostUSD, true
		}
	}
	if f, ok := FailureOf(r); ok {
		s.Failure = &f
	}
	return s
}

// BuildComparison compares run a with run b (either may be nil while it
// loads): node times, usage, cost, and the diff of their final states.
func BuildComparison(aThread string, a *runstate.Run, bThread string, b *runstate.Run, prices *pricing.Table, now time.Time) Comparison {
	c := Comparison{A: compareSide(aThread, a, prices, now), B: compareSide(bThread, b, prices, now)}
	if a == nil || b == nil {
		return c
	}
	c.SameGraph = c.A.Graph != "" && c.A.Graph == c.B.Graph
	c.DurationDelta = durationDelta(c.A.Duration, c.B.Duration)
	c.TokenDelta = countDelta(int64(c.B.Totals.Tokens) - int64(c.A.Totals.Tokens))
	c.LLMCallDelta = countDelta(int64(c.B.Totals.LLMCalls - c.A.Totals.LLMCalls))
	c.ToolCallDelta = countDelta(int64(c.B.Totals.ToolCalls - c.A.Totals.ToolCalls))
	c.ErrorDelta = countDelta(int64(c.B.Totals.Errors - c.A.Totals.Errors))
	if c.A.priced && c.B.priced {
		d := c.B.costUSD - c.A.costUSD
		switch {
		case math.Abs(d) < 1e-9:
			c.CostDelta = "±$0"
		case d > 0:
			c.CostDelta = "+" + FormatUSD(d)
		default:
			c.CostDelta = "−" + FormatUSD(-d)
		}
	}

	// Nodes in the order they first ran in A, then those only B ran.
	idx := map[string]int{}
	add := func(w Waterfall, side int) {
		for _, s := range w.Rows {
			if s.Kind != SpanNode {
				continue
			}
			i, ok := idx[s.Node]
			if !ok {
				i = len(c.Nodes)
				idx[s.Node] = i
				c.Nodes = append(c.Nodes, NodeCompare{Node: s.Node})
			}
			n := &c.Nodes[i]
			if side == 0 {
				n.A += s.Duration()
				n.RunsA++
				n.FailedA = n.FailedA || s.Status == NodeFailed
			} else {
				n.B += s.Duration()
				n.RunsB++
				n.FailedB = n.FailedB || s.Status == NodeFailed
			}
		}
	}
	add(BuildWaterfall(a, nil, now), 0)
	add(BuildWaterfall(b, nil, now), 1)
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.RunsA == 0 || n.RunsB == 0 {
			continue
		}
		n.Delta = durationDelta(n.A, n.B)
		d, big := n.B-n.A, max(n.A, n.B)
		if abs(d) > 50*time.Millisecond && big > 0 && float64(abs(d))/float64(big) > 0.1 {
			n.Slower, n.Faster = d > 0, d < 0
		}
	}

	sa, _ := a.State()
	sb, _ := b.State()
	switch {
	case sa == nil && sb == nil:
		c.DiffNote = "Neither run has a state."
	case sa == nil || sb == nil:
		c.DiffNote = "Only one of the runs has a state."
	default:
		c.Diff, c.DiffTotal = DiffRows(sa, sb, 300, 300)
		if c.DiffTotal == 0 {
			c.DiffNote = "The two final states are identical."
		}
	}
	return c
}

// PreviousRun returns the thread of the latest run of the same graph that
// started before r, among the runs of the store; "" when there is none.
func PreviousRun(s *runstate.Store, r *runstate.Run) string {
	graph := r.GraphName()
	if graph == "" {
		return ""
	}
	start := RunStart(r)
	best, bestAt := "", time.Time{}
	for _, o := range s.Runs() {
		if o == r || o.GraphName() != graph {
			continue
		}
		at := RunStart(o)
		if at.Before(start) && at.After(bestAt) {
			best, bestAt = o.ThreadID(), at
		}
	}
	return best
}

// RunStart returns when a run started: its start event's time, else when
// its first message arrived.
func RunStart(r *runstate.Run) time.Time {
	if t := r.StartTime(); !t.IsZero() {
		return t
	}
	return r.FirstArrival()
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// durationDelta writes b−a: "+1.2 s", "−300 ms", "±0".
func durationDelta(a, b time.Duration) string {
	d := b - a
	switch {
	case d == 0:
		return "±0"
	case d > 0:
		return "+" + FormatDuration(d)
	}
	return "−" + FormatDuration(-d)
}

// countDelta writes a signed count: "+1,204", "−3", "±0".
func countDelta(d int64) string {
	switch {
	case d == 0:
		return "±0"
	case d > 0:
		return "+" + FormatCount(uint64(d))
	}
	return "−" + FormatCount(uint64(-d))
}

// FormatTokens writes a token count: "950", "12.3k", "1.2M".
func FormatTokens(n uint64) string {
	switch {
	case n < 10_000:
		return FormatCount(n)
	case n < 1_000_000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(float64(n)/1_000_000, 'f', 1, 64) + "M"
}

package viewmodel

import (
	"strings"
	"time"

	"github.com/dashstream/dashstream/protocol/pricing"
	"github.com/dashstream/dashstream/protocol/runstate"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// Status is a run's status as the dashboard shows it: the lifecycle, except
// that an untrusted state outranks it, because it changes what the user
// may believe.
type Status string

// The statuses, in the order the runs filter lists them. Incomplete: the
// server no longer retains the run's start.
const (
	StatusRunning     Status = "running"
	StatusCompleted   Status = "completed"
	StatusFailed      Status = "failed"
	StatusIncomplete  Status = "incomplete"
	StatusCorrupted   Status = "corrupted"
	StatusQuarantined Status = "quarantined"
)

// Statuses lists every status, for the filter.
var Statuses = []Status{StatusRunning, StatusCompleted, StatusFailed, StatusIncomplete, StatusCorrupted, StatusQuarantined}

// ParseStatus returns the status named s; anything else (an old bookmark's
// "All statuses", a typo) is "", every status.
func ParseStatus(s string) Status {
	for _, st := range Statuses {
		if string(st) == s {
			return st
		}
	}
	return ""
}

// Local reports whether the status is this tab's own judgement of a run it
// holds (its state failed a check or lost messages), which the server's
// catalog does not know.
func (s Status) Local() bool { return s == StatusCorrupted || s == StatusQuarantined }

// builtinPrices prices the rows NewRunRow makes: a run this tab summarises
// itself (local verdicts, overview tiles). The pages reprice the rows they
// list with the gateway's table (GET /api/prices); the catalog's rows come
// priced by the server.
var builtinPrices = pricing.Builtin()

// StatusOf returns a run's displayed status.
func StatusOf(r *runstate.Run) Status {
	in := r.Integrity()
	switch {
	case in.Corrupted:
		return StatusCorrupted
	case in.Gap:
		return StatusQuarantined
	}
	switch r.Status() {
	case runstate.RunCompleted:
		return StatusCompleted
	case runstate.RunFailed:
		return StatusFailed
	}
	return StatusRunning
}

// RunRow is one line of the runs list.
type RunRow struct {
	Thread string
	Graph  string
	Status Status
	// Live: the run has not ended (whatever its integrity).
	Live     bool
	Started  time.Time
	Duration time.Duration
	Nodes    int
	Events   int
	// Reason explains a corrupted, quarantined or failed status.
	Reason string
	// ErrorSeq is the sequence of the message that carried a failed run's
	// error (0: unknown), for a link to the failing moment.
	ErrorSeq uint64
	// Usage: LLM calls, tokens, cost (nil when no call is priced), tool
	// calls, and errors of any kind.
	LLMCalls  int
	Tokens    uint64
	CostUSD   *float64
	ToolCalls int
	Errors    int
}

// SummaryRow is the row of a run summary (the catalog's, or one this tab
// keeps): Nodes counts node executions and Events messages.
func SummaryRow(s runsummary.Summary, now time.Time) RunRow {
	row := RunRow{
		Thread: s.ThreadID, Graph: s.GraphName, Status: Status(s.Status), Live: s.Outcome == runsummary.Running,
		Started: s.StartedAt.Time(), Duration: time.Duration(s.DurationMs) * time.Millisecond,
		Nodes: s.NodeCount, Events: s.MessageCount, ErrorSeq: s.ErrorSeq,
		LLMCalls: s.LLMCalls, Tokens: s.TotalTokens, CostUSD: s.CostUSD, ToolCalls: s.ToolCalls, Errors: s.Errors,
	}
	if row.Live && !row.Started.IsZero() && now.After(row.Started) {
		row.Duration = now.Sub(row.Started) // still going: its age, not its last message
	}
	switch {
	case s.Error != "":
		row.Reason = s.Error
	case s.Status == runsummary.Incomplete:
		row.Reason = "its start is no longer retained"
	}
	return row
}

// usage copies a run summary's usage into row.
func (row *RunRow) usage(s runsummary.Summary) {
	row.LLMCalls, row.Tokens, row.CostUSD = s.LLMCalls, s.TotalTokens, s.CostUSD
	row.ToolCalls, row.Errors, row.ErrorSeq = s.ToolCalls, s.Errors, s.ErrorSeq
}

// Elapsed returns how long a run took, or has been running by now (its
// own clock when it ended; arrival times when the producer sent none).
func Elapsed(r *runstate.Run, now time.Time) time.Duration {
	start, end := r.StartTime(), r.EndTime()
	switch {
	case !start.IsZero() && !end.IsZero():
		return max(end.Sub(start), 0)
	case r.Status() != runstate.RunRunning:
		return max(r.LastArrival().Sub(r.FirstArrival()), 0)
	}
	return max(now.Sub(r.FirstArrival()), 0)
}

// NewRunRow summarises a run.
func NewRunRow(r *runstate.Run, now time.Time) RunRow {
	row := RunRow{
		Thread: r.ThreadID(), Graph: r.GraphName(), Status: StatusOf(r),
		Live: r.Status() == runstate.RunRunning, Started: r.StartTime(),
		Duration: Elapsed(r, now), Events: r.EventCount(),
	}
	if row.Started.IsZero() {
		row.Started = r.FirstArrival()
	}
	nodes := map[string]bool{}
	if s := r.Schema(); s != nil {
		for _, n := range s.Nodes {
			nodes[n.Name] = true
		}
	}
	for _, n := range r.NodeStates() {
		nodes[n.Name] = true
	}
	row.Nodes = len(nodes)
	sum := r.Summary()
	row.usage(sum.Priced(builtinPrices))
	switch row.Status {
	case StatusCorrupted, StatusQuarantined:
		row.Reason = r.Integrity().Reason
	case StatusFailed:
		row.Reason = r.FailureReason()
	}
	return row
}

// RunRows summarises every run, newest first.
func RunRows(s *runstate.Store, now time.Time) []RunRow {
	runs := s.Runs()
	rows := make([]RunRow, len(runs))
	for i, r := range runs {
		rows[i] = NewRunRow(r, now)
	}
	return rows
}

// FilterRuns keeps the rows with the given status ("" for any) whose
// thread id or graph name contains q, case-insensitively.
func FilterRuns(rows []RunRow, status Status, q string) []RunRow {
	q = strings.ToLower(strings.TrimSpace(q))
	var out []RunRow
	for _, r := range rows {
		if status != "" && r.Status != status {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(r.Thread), q) && !strings.Contains(strings.ToLower(r.Graph), q) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Paginate returns page p (from 0, clamped) of size n and the page count.
func Paginate[T any](rows []T, p, n int) ([]T, int, int) {
	pages := max((len(rows)+n-1)/n, 1)
	p = min(max(p, 0), pages-1)
	lo := p * n
	hi := min(lo+n, len(rows))
	return rows[lo:hi], p, pages
}

package viewmodel

import (
	"sort"
	"strconv"
	"time"

	"github.com/dashstream/dashstream/app/session"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// ErrorRow is one recent failure, wherever it happened.
type ErrorRow struct {
	Thread, Graph, Node, Message string
	Seq                          uint64
	Time                         time.Time
}

// Overview is the overview page's model of the store.
type Overview struct {
	Runs, Running, Completed, Failed, Corrupted, Quarantined int
	// InProgress lists running runs, newest first (at most 8).
	InProgress []RunRow
	// Untrusted lists corrupted or quarantined runs (at most 8).
	Untrusted []RunRow
	// RecentErrors lists the latest failures over all runs (at most 10).
	RecentErrors []ErrorRow
	Unbound      int
	Stats        runstate.Stats
}

// BuildOverview summarises the store.
func BuildOverview(s *runstate.Store, now time.Time) Overview {
	o := Overview{Stats: s.Stats()}
	o.Unbound = o.Stats.Quarantined
	for _, r := range s.Runs() {
		o.Runs++
		row := NewRunRow(r, now)
		switch row.Status {
		case StatusCorrupted:
			o.Corrupted++
		case StatusQuarantined:
			o.Quarantined++
		case StatusCompleted:
			o.Completed++
		case StatusFailed:
			o.Failed++
		}
		if row.Live {
			o.Running++
			if len(o.InProgress) < 8 {
				o.InProgress = append(o.InProgress, row)
			}
		}
		if (row.Status == StatusCorrupted || row.Status == StatusQuarantined) && len(o.Untrusted) < 8 {
			o.Untrusted = append(o.Untrusted, row)
		}
		for _, e := range r.Errors() {
			o.RecentErrors = append(o.RecentErrors, ErrorRow{Thread: row.Thread, Graph: row.Graph, Message: e.Message,
				Seq: e.Seq, Time: micros(e.Timestamp)})
		}
		for _, n := range r.NodeStates() {
			if n.Status == runstate.NodeFailed {
				o.RecentErrors = append(o.RecentErrors, ErrorRow{Thread: row.Thread, Graph: row.Graph, Node: n.Name,
					Message: n.Error, Seq: n.EndSeq, Time: micros(n.EndTime)})
			}
		}
	}
	sort.SliceStable(o.RecentErrors, func(i, j int) bool { return o.RecentErrors[i].Time.After(o.RecentErrors[j].Time) })
	if len(o.RecentErrors) > 10 {
		o.RecentErrors = o.RecentErrors[:10]
	}
	return o
}

func micros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us)
}

// Banner is a notice shown above a page's content.
type Banner struct {
	// Level is "error", "warn" or "info".
	Level, Title, Text string
	// Link, when set, is where the banner's action leads.
	Link, LinkText string
}

// Banners returns the notices the health and the store call for: schema
// mismatch, stalled stream, untrusted runs, runs being replayed.
func Banners(h session.Health, o Overview) []Banner {
	var out []Banner
	if h.SchemaMismatch != "" {
		out = append(out, Banner{Level: "error", Title: "Schema version mismatch", Text: h.SchemaMismatch})
	}
	if h.State == session.Stalled {
		out = append(out, Banner{Level: "warn", Title: "Stream stalled",
			Text: "The server reports traffic but no message has arrived for a while; the dashboard will reconnect."})
	}
	if n := o.Corrupted + o.Quarantined; n > 0 {
		out = append(out, Banner{Level: "warn", Title: Plural(n, "run", "runs") + " not trusted",
			Text:     "Their state failed a check or lost messages; the dashboard asks the server to replay them.",
			Link:     "/runs?status=" + string(untrustedStatus(o)),
			LinkText: "Show them"})
	}
	if n := len(h.ReplayingThreads); n > 0 {
		out = append(out, Banner{Level: "info", Title: "Replaying " + Plural(n, "run", "runs"),
			Text: "Rebuilding their history from the server."})
	}
	if o.Unbound > 0 {
		out = append(out, Banner{Level: "info", Title: strconv.Itoa(o.Unbound) + " messages without a thread",
			Text: "They name no thread_id, so they belong to no run; they are kept aside."})
	}
	return out
}

func untrustedStatus(o Overview) Status {
	if o.Corrupted > 0 {
		return StatusCorrupted
	}
	return StatusQuarantined
}

// ConnLabel says the connection state in words for the header.
func ConnLabel(h session.Health, now time.Time) string {
	switch h.State {
	case session.Connecting:
		return "Connecting…"
	case session.Connected:
		return "Live"
	case session.Replaying:
		return "Catching up…"
	case session.Reconnecting:
		s := "Reconnecting"
		if h.Attempt > 0 {
			s += " (attempt " + strconv.Itoa(h.Attempt) + ")"
		}
		if !h.NextRetry.IsZero() && h.NextRetry.After(now) {
			s += " in " + FormatDuration(h.NextRetry.Sub(now).Round(time.Second))
		}
		return s
	case session.Stalled:
		return "Stalled"
	}
	return h.State.String()
}

package viewmodel

import (
	"strings"
	"time"

	"github.com/dashstream/dashstream/protocol/runstate"
)

// EventRow is one line of the event list.
type EventRow struct {
	Index int
	Seq   uint64
	// Order places unsequenced events among sequenced ones.
	Order    uint64
	Name     string
	Node     string
	Time     time.Time
	Duration string
	Detail   string
	Note     string
	Summary  []runstate.Field
	Changed  []string
	// Error: the event reports a failure.
	Error bool
}

// EventRows copies a run's event log, oldest first.
func EventRows(r *runstate.Run) []EventRow {
	n := r.EventCount()
	rows := make([]EventRow, n)
	for i := range n {
		e := r.Event(i)
		rows[i] = EventRow{
			Index: i, Seq: e.Seq, Order: e.Order, Name: e.Name(), Node: e.NodeID,
			Time: e.Time(), Detail: e.Detail, Note: e.Note,
			Summary: append([]runstate.Field(nil), e.Summary...),
			Changed: append([]string(nil), e.Changed...),
		}
		if rows[i].Time.IsZero() {
			rows[i].Time = e.ReceivedAt()
		}
		if e.DurationUs >= 0 {
			rows[i].Duration = FormatMicros(e.DurationUs)
		}
		rows[i].Error = e.Detail != "" || strings.Contains(rows[i].Name, "error") || strings.Contains(e.Note, "mismatch") ||
			strings.HasPrefix(e.Note, "not applied")
	}
	return rows
}

// FilterEvents keeps rows whose type, node, detail, note or summary
// contains q (case-insensitive), in their order.
func FilterEvents(rows []EventRow, q string) []EventRow {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return rows
	}
	var out []EventRow
	for _, r := range rows {
		if r.matches(q) {
			out = append(out, r)
		}
	}
	return out
}

func (r EventRow) matches(q string) bool {
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), q) }
	if has(r.Name) || has(r.Node) || has(r.Detail) || has(r.Note) {
		return true
	}
	for _, f := range r.Summary {
		if has(f.Key) || has(f.Value) {
			return true
		}
	}
	return false
}

// ChangedAt returns the state paths the change at seq touched, nil when
// the event at seq changed no state.
func ChangedAt(r *runstate.Run, seq uint64) []string {
	for i := r.EventCount() - 1; i >= 0; i-- {
		e := r.Event(i)
		if e.Seq == seq {
			return append([]string(nil), e.Changed...)
		}
		if e.Seq != 0 && e.Seq < seq {
			break
		}
	}
	return nil
}

// LastChangeAt returns the sequence of the latest state change at or before
// seq (0 for the live end), and 0 when none is kept: the diff viewer shows
// that change when the selected event changed no state itself.
func LastChangeAt(r *runstate.Run, seq uint64) uint64 {
	for i := r.EventCount() - 1; i >= 0; i-- {
		e := r.Event(i)
		if e.Seq == 0 || (seq != 0 && e.Seq > seq) {
			continue
		}
		if len(e.Changed) > 0 {
			return e.Seq
		}
	}
	return 0
}

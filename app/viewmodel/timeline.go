package viewmodel

import (
	"sort"
	"time"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// MarkerKind is what a slider marker stands for.
type MarkerKind string

// The marker kinds.
const (
	MarkRunStart     MarkerKind = "run-start"
	MarkRunEnd       MarkerKind = "run-end"
	MarkNodeStart    MarkerKind = "node-start"
	MarkNodeEnd      MarkerKind = "node-end"
	MarkNodeError    MarkerKind = "node-error"
	MarkSchemaChange MarkerKind = "schema-change"
)

// Marker is a notable point of the timeline.
type Marker struct {
	Index int
	Kind  MarkerKind
	Label string
}

// Timeline is the time-travel slider's model: the positions are the run's
// sequenced events, in order.
type Timeline struct {
	Seqs []uint64
	// Times holds each position's producer timestamp in µs (0 unknown).
	Times   []int64
	Nodes   []string
	Markers []Marker
	// Start is the run's start, the origin of elapsed times.
	Start time.Time
	// SeekFirst and SeekLast bound the sequences whose state can be rebuilt.
	SeekFirst, SeekLast uint64
	CanSeek             bool
}

// Len returns the number of positions.
func (t Timeline) Len() int { return len(t.Seqs) }

// IndexOf returns the position of the latest event at or before seq, or
// -1 when seq precedes them all; the last position for seq 0 (live).
func (t Timeline) IndexOf(seq uint64) int {
	if seq == 0 {
		return len(t.Seqs) - 1
	}
	return sort.Search(len(t.Seqs), func(i int) bool { return t.Seqs[i] > seq }) - 1
}

// Elapsed returns the time from the run's start to position i.
func (t Timeline) Elapsed(i int) time.Duration {
	if i < 0 || i >= len(t.Times) || t.Times[i] == 0 || t.Start.IsZero() {
		return 0
	}
	return time.UnixMicro(t.Times[i]).Sub(t.Start)
}

// BuildTimeline reads the run's event log.
func BuildTimeline(r *runstate.Run) Timeline {
	t := Timeline{Start: r.StartTime()}
	t.SeekFirst, t.SeekLast, t.CanSeek = r.SeekRange()
	n := r.EventCount()
	t.Seqs = make([]uint64, 0, n)
	schema := ""
	for i := range n {
		e := r.Event(i)
		if e.Seq == 0 || (len(t.Seqs) > 0 && t.Seqs[len(t.Seqs)-1] >= e.Seq) {
			continue // unsequenced, or a collision: not a place to stop at
		}
		idx := len(t.Seqs)
		t.Seqs = append(t.Seqs, e.Seq)
		t.Times = append(t.Times, e.Timestamp)
		t.Nodes = append(t.Nodes, e.NodeID)
		if e.Kind != runstate.KindEvent {
			continue
		}
		mark := func(k MarkerKind, label string) { t.Markers = append(t.Markers, Marker{idx, k, label}) }
		switch e.Type {
		case pb.EventType_EVENT_TYPE_GRAPH_START:
			id, _ := e.Get("schema_id")
			if schema != "" && id != schema {
				mark(MarkSchemaChange, "schema changed to "+id)
			} else {
				mark(MarkRunStart, "run started")
			}
			schema = id
		case pb.EventType_EVENT_TYPE_GRAPH_END, pb.EventType_EVENT_TYPE_GRAPH_ERROR:
			mark(MarkRunEnd, "run ended")
		case pb.EventType_EVENT_TYPE_NODE_START:
			mark(MarkNodeStart, e.NodeID+" started")
		case pb.EventType_EVENT_TYPE_NODE_END:
			mark(MarkNodeEnd, e.NodeID+" ended")
		case pb.EventType_EVENT_TYPE_NODE_ERROR:
			mark(MarkNodeError, e.NodeID+" failed")
		}
	}
	return t
}

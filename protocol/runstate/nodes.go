package runstate

import (
	"math"
	"time"

	"github.com/dashstream/dashstream/protocol/pb"
)

// NodeStatus is a graph node's status within a run.
type NodeStatus uint8

// The node statuses.
const (
	NodeActive NodeStatus = iota + 1
	NodeCompleted
	NodeFailed
)

var nodeStatusNames = [...]string{"", "active", "completed", "failed"}

// String returns "active", "completed" or "failed".
func (s NodeStatus) String() string {
	if int(s) < len(nodeStatusNames) && s > 0 {
		return nodeStatusNames[s]
	}
	return "unknown"
}

// NodeState is what a run knows about one node: its latest execution.
type NodeState struct {
	Name   string
	Status NodeStatus
	// StartSeq and EndSeq are the sequences of the NODE_START and of the
	// NODE_END/NODE_ERROR (0 when not seen).
	StartSeq, EndSeq uint64
	// StartTime and EndTime are producer timestamps in microseconds (0 when
	// unknown).
	StartTime, EndTime int64
	// DurationUs is the node's duration: the NODE_END's duration_us
	// attribute, else its duration_us field, else EndTime-StartTime clamped
	// at 0; -1 when none of these is known.
	DurationUs int64
	// Error is the NODE_ERROR's error attribute, bounded.
	Error string
	// Executions counts the NODE_STARTs seen (loops run a node again).
	Executions int
}

// Duration returns DurationUs as a time.Duration, and false when unknown.
func (n NodeState) Duration() (time.Duration, bool) {
	if n.DurationUs < 0 {
		return 0, false
	}
	return time.Duration(n.DurationUs) * time.Microsecond, true
}

// nodeTable holds a run's node states, in the order nodes were first seen.
type nodeTable struct {
	byName  map[string]int
	states  []NodeState
	current string
	limit   int
	dropped int
}

func newNodeTable(limit int) nodeTable { return nodeTable{limit: limit} }

func (t *nodeTable) get(name string) *NodeState {
	if i, ok := t.byName[name]; ok {
		return &t.states[i]
	}
	if len(t.states) >= t.limit {
		t.dropped++
		return nil
	}
	if t.byName == nil {
		t.byName = make(map[string]int)
	}
	t.byName[name] = len(t.states)
	t.states = append(t.states, NodeState{Name: name, DurationUs: -1})
	return &t.states[len(t.states)-1]
}

func (t *nodeTable) reset() {
	t.byName, t.states, t.current = nil, nil, ""
}

// apply updates the table from one node or graph lifecycle event. Live
// processing and NodeStatesAt both go through here, so the two agree.
func (t *nodeTable) apply(e *Event) {
	if e.Kind != KindEvent {
		return
	}
	switch e.Type {
	case pb.EventType_EVENT_TYPE_GRAPH_START:
		t.reset()
	case pb.EventType_EVENT_TYPE_GRAPH_END, pb.EventType_EVENT_TYPE_GRAPH_ERROR:
		t.current = ""
	case pb.EventType_EVENT_TYPE_NODE_START:
		if e.NodeID == "" {
			return
		}
		n := t.get(e.NodeID)
		if n == nil {
			return
		}
		*n = NodeState{Name: n.Name, Status: NodeActive, StartSeq: e.Seq, StartTime: e.Timestamp, DurationUs: -1, Executions: n.Executions + 1}
		t.current = e.NodeID
	case pb.EventType_EVENT_TYPE_NODE_END, pb.EventType_EVENT_TYPE_NODE_ERROR:
		if e.NodeID == "" {
			return
		}
		// A NODE_END without its NODE_START (a run joined mid-stream) still
		// tells us the node ran: record it rather than drop it.
		n := t.get(e.NodeID)
		if n == nil {
			return
		}
		n.EndSeq, n.EndTime = e.Seq, e.Timestamp
		if e.Type == pb.EventType_EVENT_TYPE_NODE_END {
			n.Status = NodeCompleted
			n.DurationUs = e.DurationUs
		} else {
			n.Status = NodeFailed
			n.Error = e.Detail
		}
		if n.DurationUs < 0 && n.StartTime > 0 && n.EndTime > 0 {
			n.DurationUs = max(n.EndTime-n.StartTime, 0)
		}
		if t.current == e.NodeID {
			t.current = ""
		}
	}
}

// nodeDuration resolves a NODE_END's duration: the duration_us attribute
// (upstream's rule), else the Event.duration_us field where the producer
// actually puts it (i64 max means it overflowed), else unknown (-1; the
// node table then uses the timestamps).
func nodeDuration(ev *pb.Event) int64 {
	if d, ok := attrInt(ev.GetAttributes(), "duration_us"); ok && d >= 0 {
		return d
	}
	if d := ev.GetDurationUs(); d > 0 && d != math.MaxInt64 {
		return d
	}
	return -1
}

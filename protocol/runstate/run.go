package runstate

import (
	"slices"
	"time"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/runsummary"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// RunStatus is a run's lifecycle status.
type RunStatus uint8

// The run statuses.
const (
	RunRunning RunStatus = iota
	RunCompleted
	RunFailed
)

var runStatusNames = [...]string{"running", "completed", "failed"}

// String returns "running", "completed" or "failed".
func (s RunStatus) String() string {
	if int(s) < len(runStatusNames) {
		return runStatusNames[s]
	}
	return "unknown"
}

// Run is one graph run (one thread_id) rebuilt from its messages. Its
// methods are read-only views for the Store's owner; they change with the
// next Apply.
type Run struct {
	cfg       *Config
	thread    string
	tenant    string
	graphName string
	schemaID  string
	schema    *Schema
	status    RunStatus
	runError  string
	// startTime and endTime are producer microseconds; firstArrival and
	// lastArrival local nanoseconds.
	startTime, endTime        int64
	firstArrival, lastArrival int64
	// active orders runs for eviction (a counter, immune to clock steps);
	// changedIn dedupes Outcome.Changed within one call.
	active, changedIn uint64
	processed         uint64

	seq         sequencer
	events      ring[Event]
	state       *jsontree.Node
	stateSeq    uint64
	timeline    timeline
	checkpoints checkpoints
	integ       integrity
	nodes       nodeTable
	tokens      tokenTable
	tools       toolTable
	metrics     metricTable
	errors      []ErrorReport
	traces      []TraceSummary
	notes       []string
	chain       statehash.Chain // what hashing the next version reuses
	// sum is the run's list row, the same summary the gateway's catalog
	// builds from the same messages.
	sum runsummary.Summary
}

func newRun(thread string, cfg *Config) *Run {
	return &Run{
		cfg:     cfg,
		thread:  thread,
		events:  newRing[Event](cfg.MaxEventsPerRun),
		nodes:   newNodeTable(cfg.MaxNodesPerRun),
		tokens:  tokenTable{limit: cfg.MaxTokenStreamsPerRun, maxBytes: cfg.MaxTokenTextBytes},
		tools:   toolTable{limit: cfg.MaxToolCallsPerRun},
		metrics: metricTable{limit: cfg.MaxMetricsPerRun},
		sum:     *runsummary.New(thread),
	}
}

// Summary returns the run's summary (a copy): the row the runs list and the
// gateway's catalog show, built from the messages applied so far.
func (r *Run) Summary() runsummary.Summary { return r.sum.Clone() }

// maxNotes bounds Run.Notes.
const maxNotes = 16

// note records a once-per-run remark (not an integrity problem).
func (r *Run) note(text string) {
	if !slices.Contains(r.notes, text) && len(r.notes) < maxNotes {
		r.notes = append(r.notes, text)
	}
}

// problem marks an integrity problem, unless one of the same kind is still
// unhealed (a run whose base is unknown would otherwise log every diff).
func (r *Run) problem(cfg *Config, p Problem) {
	for _, q := range r.integ.problems {
		if !q.Healed && q.Kind == p.Kind {
			if p.Kind.IsGap() {
				r.integ.gap = true
			} else {
				r.integ.corrupted = true
			}
			return
		}
	}
	r.integ.mark(cfg.MaxProblemsPerRun, p)
}

// ThreadID returns the run's thread_id.
func (r *Run) ThreadID() string { return r.thread }

// TenantID returns the tenant_id of the run's latest message.
func (r *Run) TenantID() string { return r.tenant }

// GraphName returns the schema's name, else the GraphStart graph_name
// attribute, else "".
func (r *Run) GraphName() string { return r.graphName }

// SchemaID returns the GraphStart schema_id attribute.
func (r *Run) SchemaID() string { return r.schemaID }

// Schema returns the run's graph schema, or nil.
func (r *Run) Schema() *Schema { return r.schema }

// Status returns the run's status.
func (r *Run) Status() RunStatus { return r.status }

// FailureReason returns the GRAPH_ERROR's error text of a failed run. (Not
// named Error, so that a *Run is never mistaken for an error value.)
func (r *Run) FailureReason() string { return r.runError }

// StartTime returns the producer timestamp of the GraphStart, else of the
// first message seen; EndTime that of GRAPH_END/GRAPH_ERROR. Zero when
// unknown.
func (r *Run) StartTime() time.Time { return microsToTime(r.startTime) }

// EndTime returns the producer timestamp of the run's end, or zero.
func (r *Run) EndTime() time.Time { return microsToTime(r.endTime) }

// FirstArrival returns the local time the run's first message arrived.
func (r *Run) FirstArrival() time.Time { return time.Unix(0, r.firstArrival) }

// LastArrival returns the local time the run's latest message arrived.
func (r *Run) LastArrival() time.Time { return time.Unix(0, r.lastArrival) }

// LastSeq returns the last sequence processed in order (0 before any).
func (r *Run) LastSeq() uint64 { return r.seq.last }

// Waiting returns how many messages wait in the run's reorder window.
func (r *Run) Waiting() int { return len(r.seq.pending) }

// Processed returns how many messages the run has processed.
func (r *Run) Processed() uint64 { return r.processed }

// State returns the run's current state and the sequence of the change that
// produced it; nil before any base state. Check Integrity before presenting
// it as the run's true state.
func (r *Run) State() (*jsontree.Node, uint64) { return r.state, r.stateSeq }

// Integrity returns what the state is worth.
func (r *Run) Integrity() Integrity { return r.integ.snapshot() }

// Trusted is Integrity().Trusted() without copying the history.
func (r *Run) Trusted() bool { return !r.integ.corrupted && !r.integ.gap && r.integ.hasBase }

// EventCount returns the number of events kept.
func (r *Run) EventCount() int { return r.events.len() }

// Event returns event i, 0 being the oldest kept; it panics when i is out
// of range, like a slice index.
func (r *Run) Event(i int) Event {
	if i < 0 || i >= r.events.len() {
		panic("runstate: event index out of range")
	}
	return *r.events.at(i)
}

// Events appends the kept events, oldest first, to dst.
func (r *Run) Events(dst []Event) []Event { return r.events.appendTo(dst) }

// NodeStates returns the node states in the order nodes were first seen.
func (r *Run) NodeStates() []NodeState { return slices.Clone(r.nodes.states) }

// Node returns one node's state.
func (r *Run) Node(name string) (NodeState, bool) {
	if i, ok := r.nodes.byName[name]; ok {
		return r.nodes.states[i], true
	}
	return NodeState{}, false
}

// CurrentNode returns the node started last and not yet ended, or "".
func (r *Run) CurrentNode() string { return r.nodes.current }

// OutOfSchemaNodes returns the observed nodes the schema does not declare
// (none without a schema).
func (r *Run) OutOfSchemaNodes() []string {
	if r.schema == nil || r.schema.FromManifest {
		return nil
	}
	var out []string
	for _, n := range r.nodes.states {
		if !r.schema.HasNode(n.Name) {
			out = append(out, n.Name)
		}
	}
	return out
}

// NodeStatesAt replays the node lifecycle events kept in the log up to seq
// (an approximation when older events were trimmed).
func (r *Run) NodeStatesAt(seq uint64) []NodeState {
	t := newNodeTable(r.cfg.MaxNodesPerRun)
	for i := range r.events.len() {
		e := r.events.at(i)
		if e.Order > seq {
			break
		}
		t.apply(e)
	}
	return t.states
}

// TokenStreams returns the token streams, least recently updated first.
func (r *Run) TokenStreams() []TokenStream { return r.tokens.list() }

// ToolCalls returns the tool executions, least recently updated first.
func (r *Run) ToolCalls() []ToolCall { return r.tools.list() }

// Metrics returns the latest metric values, sorted by scope and name.
func (r *Run) Metrics() []MetricPoint { return r.metrics.list() }

// Errors returns the Error messages, oldest first.
func (r *Run) Errors() []ErrorReport { return slices.Clone(r.errors) }

// Traces returns the ExecutionTrace summaries, oldest first.
func (r *Run) Traces() []TraceSummary { return slices.Clone(r.traces) }

// Checkpoints returns the checkpoints kept, oldest first.
func (r *Run) Checkpoints() []CheckpointInfo { return r.checkpoints.list() }

// Notes returns once-per-run remarks about the stream (a missing
// state_hash, a rejected schema, a sequence collision, ...).
func (r *Run) Notes() []string { return slices.Clone(r.notes) }

// SeekRange returns the sequences StateAt can rebuild: from the oldest
// kept state to the last processed sequence. ok is false when the run has
// no state.
func (r *Run) SeekRange() (first, last uint64, ok bool) {
	first, ok = r.timeline.firstSeq()
	return first, r.seq.last, ok
}

// StateAt rebuilds the state right after sequence seq from the nearest
// keyframe and the patches after it. It equals (same AppendJSON text) the
// state the live loop had right after processing seq.
func (r *Run) StateAt(seq uint64) (*jsontree.Node, error) {
	if seq > r.seq.last {
		return nil, wrapRange(seq, r.seq.last)
	}
	return r.timeline.stateAt(seq)
}

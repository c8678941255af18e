package producer

import (
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/dashstream/dashstream/protocol/pb"
)

// RunStart describes a run at its start (the GRAPH_START event).
type RunStart struct {
	// ThreadID identifies the run and is its Kafka key; empty means a new
	// UUIDv4.
	ThreadID string
	// TenantID is the header tenant_id; empty means Config.TenantID.
	TenantID string
	// GraphName is the graph_name attribute (default: Schema.Name).
	GraphName string
	// Schema, if set, is sent as graph_schema_json with its schema_id,
	// entry point and node and edge counts: what the dashboard draws.
	Schema *GraphSchema
	// Manifest, if set, is sent as the graph_manifest attribute (JSON).
	Manifest any
	// InitialState, if set, is sent as initial_state_json (see toTree for
	// the accepted forms).
	InitialState any
	// Attributes are extra GRAPH_START attributes.
	Attributes Attrs
}

// consumerSchemaCap is the upstream UI's limit on schema and manifest JSON.
const consumerSchemaCap = 2 << 20

// StartRun emits GRAPH_START and returns the run. The event keeps every
// attribute that fits the message budget; over it, it sheds graph_manifest,
// then graph_schema_json, then initial_state_json (the run's first state
// update is a full state in any case), then the extra attributes, puts back
// any shed field that fits again, and is still sent.
func (p *Producer) StartRun(rs RunStart) *Run {
	thread := validUTF8(rs.ThreadID)
	if thread == "" {
		thread = uuid.NewString()
	}
	tenant := validUTF8(rs.TenantID)
	if tenant == "" {
		tenant = p.cfg.TenantID
	}
	r := &Run{
		p: p, threadID: thread, tenantID: tenant, key: []byte(thread),
		started: time.Now(), nodeStarts: map[string][]byte{},
	}
	name := rs.GraphName
	if name == "" && rs.Schema != nil {
		name = rs.Schema.Name
	}
	base := map[string]*pb.AttributeValue{}
	if name != "" {
		base["graph_name"] = strAttr(p.text(name))
	}
	var schemaJSON, manifestJSON, initialJSON *pb.AttributeValue
	if s := rs.Schema; s != nil {
		if s.ExportedAt == "" {
			c := *s
			c.ExportedAt = r.started.UTC().Format(time.RFC3339)
			s = &c
		}
		base["schema_id"] = strAttr(s.ID())
		base["graph_entry_point"] = strAttr(validUTF8(s.EntryPoint))
		base["graph_node_count"] = intAttr(int64(len(s.Nodes)))
		base["graph_edge_count"] = intAttr(int64(len(s.Edges)))
		schemaJSON = p.jsonAttr(s)
	}
	if rs.Manifest != nil {
		manifestJSON = p.jsonAttr(rs.Manifest)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if tree, isTree, ok := r.stateInput(rs.InitialState); ok {
		// Canonical text is compact JSON, and hashing it now readies the
		// run's chain for the first update.
		state := r.prepareLocked(tree, isTree)
		r.st.hasher.Sum(&r.st.chain, state)
		initialJSON = strAttr(string(r.st.hasher.Text()))
	}
	for _, a := range []**pb.AttributeValue{&schemaJSON, &manifestJSON} {
		if *a != nil && len((*a).GetStringValue()) > consumerSchemaCap {
			p.m.degrade(degradedTooLargeForUI)
			*a = nil
		}
	}
	extra := p.attrs(rs.Attributes)

	h := r.header(pb.MessageType_MESSAGE_TYPE_EVENT)
	ev := &pb.Event{Header: h, EventType: pb.EventType_EVENT_TYPE_GRAPH_START}
	msg := &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Event{Event: ev}}
	build := func() {
		attrs := make(map[string]*pb.AttributeValue, len(base)+len(extra)+3)
		for k, v := range extra {
			attrs[k] = v
		}
		for k, v := range base {
			attrs[k] = v
		}
		for k, v := range map[string]*pb.AttributeValue{"graph_manifest": manifestJSON, "graph_schema_json": schemaJSON, "initial_state_json": initialJSON} {
			if v != nil {
				attrs[k] = v
			}
		}
		ev.Attributes = attrs
	}
	build()
	// Shed fields, least useful first, until the event fits; then put back,
	// most useful first, any shed field that fits again (a small schema
	// need not go because the initial state was huge).
	optional := []struct {
		field  **pb.AttributeValue
		value  *pb.AttributeValue
		reason string
	}{
		{&manifestJSON, manifestJSON, degradedManifestDropped},
		{&schemaJSON, schemaJSON, degradedSchemaDropped},
		{&initialJSON, initialJSON, degradedInitialDropped},
	}
	shed := 0
	for _, o := range optional {
		if r.fits(msg) {
			break
		}
		shed++
		if *o.field != nil {
			*o.field = nil
			build()
		}
	}
	if !r.fits(msg) {
		p.m.degrade(degradedGraphStartBare)
		extra = nil
		if n := base["graph_name"]; n != nil && len(n.GetStringValue()) > 256 {
			base["graph_name"] = strAttr(truncateUTF8(n.GetStringValue(), 256))
		}
		build()
	}
	for i := shed - 1; i >= 0; i-- {
		o := optional[i]
		if o.value == nil {
			continue
		}
		*o.field = o.value
		build()
		if !r.fits(msg) {
			*o.field = nil
			build()
			p.m.degrade(o.reason)
		}
	}
	r.sendLocked(msg, typeEvent, nil)
	return r
}

// jsonAttr is a value's redacted compact JSON as a string attribute.
func (p *Producer) jsonAttr(v any) *pb.AttributeValue {
	b := p.jsonBytes(v)
	if b == nil {
		return nil
	}
	return strAttr(string(b))
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return toValidUTF8(s)
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// mergeAttrs converts and merges optional attribute sets.
func (p *Producer) mergeAttrs(sets []Attrs) map[string]*pb.AttributeValue {
	switch len(sets) {
	case 0:
		return nil
	case 1:
		return p.attrs(sets[0])
	}
	all := Attrs{}
	for _, s := range sets {
		for k, v := range s {
			all[k] = v
		}
	}
	return p.attrs(all)
}

// NodeStart emits NODE_START for node. Its message_id becomes the parent_id
// of the node's NODE_END or NODE_ERROR.
func (r *Run) NodeStart(node string, attrs ...Attrs) {
	a := r.p.mergeAttrs(attrs)
	node = validUTF8(node)
	r.emit(func() {
		if id, _ := r.eventLocked(pb.EventType_EVENT_TYPE_NODE_START, node, a, 0, nil); id != nil {
			r.nodeStarts[node] = id
		}
	})
}

// NodeProgress emits NODE_PROGRESS with a message and a fraction done (0..1).
func (r *Run) NodeProgress(node, message string, percent float64) {
	a := map[string]*pb.AttributeValue{"message": strAttr(r.p.text(message)), "percent": floatAttr(percent)}
	node = validUTF8(node)
	r.emit(func() { r.eventLocked(pb.EventType_EVENT_TYPE_NODE_PROGRESS, node, a, 0, nil) })
}

// NodeThinking emits NODE_THINKING with a thought and its step number.
func (r *Run) NodeThinking(node, thought string, step int) {
	a := map[string]*pb.AttributeValue{"thought": strAttr(r.p.text(thought)), "step": intAttr(int64(step))}
	node = validUTF8(node)
	r.emit(func() { r.eventLocked(pb.EventType_EVENT_TYPE_NODE_THINKING, node, a, 0, nil) })
}

// NodeSubstep emits NODE_SUBSTEP with the substep's name and status.
func (r *Run) NodeSubstep(node, name, status string) {
	a := map[string]*pb.AttributeValue{"substep_name": strAttr(r.p.text(name)), "status": strAttr(r.p.text(status))}
	node = validUTF8(node)
	r.emit(func() { r.eventLocked(pb.EventType_EVENT_TYPE_NODE_SUBSTEP, node, a, 0, nil) })
}

// NodeWarning emits NODE_WARNING with a message: for alerts such as low
// quality, which must not mark the run failed (upstream misused GRAPH_ERROR).
func (r *Run) NodeWarning(node, message string) {
	a := map[string]*pb.AttributeValue{"message": strAttr(r.p.text(message))}
	node = validUTF8(node)
	r.emit(func() { r.eventLocked(pb.EventType_EVENT_TYPE_NODE_WARNING, node, a, 0, nil) })
}

// NodeEnd reports that node finished after d with the run's state as state
// (nil: no state update). It emits a StateDiff (patch or full state), a
// Checkpoint every CheckpointInterval updates, then NODE_END with
// duration_us as both the field and an attribute (the UI reads the
// attribute) and parent_id = the node's NODE_START.
func (r *Run) NodeEnd(node string, state any, d time.Duration, attrs ...Attrs) {
	tree, isTree, hasState := r.stateInput(state)
	a := r.p.mergeAttrs(attrs)
	if a == nil {
		a = map[string]*pb.AttributeValue{}
	}
	us := d.Microseconds()
	a["duration_us"] = intAttr(us)
	node = validUTF8(node)
	r.emit(func() {
		if hasState {
			r.stateUpdateLocked(r.prepareLocked(tree, isTree))
		}
		r.eventLocked(pb.EventType_EVENT_TYPE_NODE_END, node, a, us, r.nodeStarts[node])
		delete(r.nodeStarts, node)
	})
}

// NodeError emits NODE_ERROR for node with the (redacted) error text as the
// error attribute.
func (r *Run) NodeError(node string, err error) {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	a := map[string]*pb.AttributeValue{"error": strAttr(r.p.text(msg))}
	node = validUTF8(node)
	r.emit(func() {
		r.eventLocked(pb.EventType_EVENT_TYPE_NODE_ERROR, node, a, 0, r.nodeStarts[node])
		delete(r.nodeStarts, node)
	})
}

// Edge emits EDGE_TRAVERSAL from one node to another (node_id = from, and a
// to attribute, which upstream dropped).
func (r *Run) Edge(from, to string) {
	a := map[string]*pb.AttributeValue{"to": strAttr(validUTF8(to))}
	from = validUTF8(from)
	r.emit(func() { r.eventLocked(pb.EventType_EVENT_TYPE_EDGE_TRAVERSAL, from, a, 0, nil) })
}

// ConditionalBranch emits CONDITIONAL_BRANCH: the router from chose to, for
// the reason label (omitted when empty).
func (r *Run) ConditionalBranch(from, to, label string) {
	a := map[string]*pb.AttributeValue{"to": strAttr(validUTF8(to))}
	if label != "" {
		a["label"] = strAttr(r.p.text(label))
	}
	from = validUTF8(from)
	r.emit(func() { r.eventLocked(pb.EventType_EVENT_TYPE_CONDITIONAL_BRANCH, from, a, 0, nil) })
}

// ParallelStart emits PARALLEL_START for branches run at once (node_id =
// their names joined by ",", as upstream).
func (r *Run) ParallelStart(nodes ...string) {
	id := validUTF8(joinComma(nodes))
	r.emit(func() { r.eventLocked(pb.EventType_EVENT_TYPE_PARALLEL_START, id, nil, 0, nil) })
}

// ParallelEnd emits PARALLEL_END for the branches, which took d together.
func (r *Run) ParallelEnd(d time.Duration, nodes ...string) {
	id := validUTF8(joinComma(nodes))
	a := map[string]*pb.AttributeValue{"duration_us": intAttr(d.Microseconds())}
	r.emit(func() { r.eventLocked(pb.EventType_EVENT_TYPE_PARALLEL_END, id, a, d.Microseconds(), nil) })
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

// Event emits any other event type (LLM_START, HUMAN_INTERRUPT,
// OPTIMIZATION_END, ...) with attributes, for runtimes that have them.
func (r *Run) Event(t pb.EventType, node string, attrs Attrs) {
	a := r.p.attrs(attrs)
	node = validUTF8(node)
	r.emit(func() { r.eventLocked(t, node, a, 0, nil) })
}

// UpdateState sends a state update outside NodeEnd, for instance the merged
// state after parallel branches.
func (r *Run) UpdateState(state any) {
	tree, isTree, ok := r.stateInput(state)
	if !ok {
		return
	}
	r.emit(func() { r.stateUpdateLocked(r.prepareLocked(tree, isTree)) })
}

// Checkpoint sends a Checkpoint of the newest state now (nothing when the run
// has no state yet).
func (r *Run) Checkpoint() {
	if r.p.cfg.DisableStateDiff {
		return
	}
	r.emit(func() { r.checkpointLocked(r.st.latest) })
}

// End finishes the run: a final state update (when state is not nil), then
// GRAPH_END with the run's duration.
func (r *Run) End(state any) {
	tree, isTree, hasState := r.stateInput(state)
	r.emit(func() {
		if hasState {
			r.stateUpdateLocked(r.prepareLocked(tree, isTree))
		}
		us := time.Since(r.started).Microseconds()
		r.eventLocked(pb.EventType_EVENT_TYPE_GRAPH_END, "", map[string]*pb.AttributeValue{"duration_us": intAttr(us)}, us, nil)
		r.finishLocked()
	})
}

// Fail finishes a failed run with GRAPH_ERROR, whose error attribute is the
// (redacted) error text, so consumers mark the run failed instead of seeing
// its stream just stop (upstream never emitted it).
func (r *Run) Fail(err error) {
	msg := "run failed"
	if err != nil {
		msg = err.Error()
	}
	text := r.p.text(msg)
	r.emit(func() {
		us := time.Since(r.started).Microseconds()
		a := map[string]*pb.AttributeValue{"error": strAttr(text), "duration_us": intAttr(us)}
		r.eventLocked(pb.EventType_EVENT_TYPE_GRAPH_ERROR, "", a, us, nil)
		r.finishLocked()
	})
}

// finishLocked ends the run and lets go of its state.
func (r *Run) finishLocked() {
	r.ended = true
	r.st = stateTracker{}
	r.nodeStarts = nil
}

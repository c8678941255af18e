package runstate

import (
	"github.com/dashstream/dashstream/protocol/pb"
)

// applyEvent handles an Event message: run identity and schema on
// GraphStart, run status, node lifecycle, and the state the event carries.
func (s *Store) applyEvent(r *Run, it *item, e *Event) {
	ev := it.ev
	attrs := ev.GetAttributes()
	e.Type = ev.GetEventType()
	e.NodeID = boundString(ev.GetNodeId(), s.cfg.MaxAttrChars)
	if d := ev.GetDurationUs(); d > 0 {
		e.DurationUs = d
	}
	sm := newSummary(&s.cfg, len(attrs)+1)
	if id := ev.GetLlmRequestId(); id != "" {
		// Ties an LLM_* event to its TokenChunks (their request_id).
		sm.add("llm_request_id", id)
	}
	sm.addAttributes(attrs)
	e.Summary = sm.done()

	switch e.Type {
	case pb.EventType_EVENT_TYPE_GRAPH_START:
		s.graphStart(r, it, e)
	case pb.EventType_EVENT_TYPE_GRAPH_END:
		r.status, r.endTime = RunCompleted, it.ts
	case pb.EventType_EVENT_TYPE_GRAPH_ERROR:
		if _, alert := attrs["alert_type"]; alert {
			// The upstream quality monitor sends GRAPH_ERROR as a
			// low-quality alert on a healthy run: record it, keep the
			// status.
			r.note("a quality alert arrived as GRAPH_ERROR; the run's status was left as it was")
			e.Note = "quality alert"
			break
		}
		r.status, r.endTime = RunFailed, it.ts
		msg, ok := attrString(attrs, "error")
		if !ok {
			msg, _ = attrString(attrs, "message")
		}
		r.runError = boundString(msg, s.cfg.MaxErrorChars)
		e.Detail = r.runError
	case pb.EventType_EVENT_TYPE_NODE_START:
		s.mergeState(r, it, e)
	case pb.EventType_EVENT_TYPE_NODE_END:
		e.DurationUs = nodeDuration(ev)
		s.mergeState(r, it, e)
	case pb.EventType_EVENT_TYPE_NODE_ERROR:
		msg, _ := attrString(attrs, "error")
		e.Detail = boundString(msg, s.cfg.MaxErrorChars)
	}
	r.nodes.apply(e)
}

func (s *Store) graphStart(r *Run, it *item, e *Event) {
	attrs := it.ev.GetAttributes()
	r.status, r.endTime, r.runError = RunRunning, 0, ""
	if it.ts > 0 {
		r.startTime = it.ts
	}
	if id, ok := attrString(attrs, "schema_id"); ok {
		r.schemaID = boundString(id, s.cfg.MaxAttrChars)
	}
	var schema *Schema
	if text, ok := attrString(attrs, "graph_schema_json"); ok {
		sc, err := parseSchema(text, s.cfg.MaxSchemaBytes, s.cfg.MaxAttrChars)
		if err != nil {
			r.note("graph_schema_json rejected: " + boundString(err.Error(), 200))
		}
		schema = sc
	}
	if schema == nil {
		if _, text, ok := stateAttr(attrs, "graph_manifest", "manifest"); ok {
			sc, err := parseManifest(text, s.cfg.MaxSchemaBytes, s.cfg.MaxAttrChars)
			if err != nil {
				r.note("graph_manifest rejected: " + boundString(err.Error(), 200))
			}
			schema = sc
		}
	}
	if schema != nil {
		schema.ID = r.schemaID
		r.schema = schema
	}
	r.graphName = ""
	if r.schema != nil {
		r.graphName = r.schema.Name
	}
	if r.graphName == "" {
		if name, ok := attrString(attrs, "graph_name"); ok {
			r.graphName = boundString(name, s.cfg.MaxAttrChars)
		}
	}
	s.schemas.observe(r.schemaID, r.graphName, r.thread, it.meta.Received, &s.cfg)
	s.initialState(r, it, e)
}

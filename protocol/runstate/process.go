package runstate

import (
	"slices"
	"strconv"
	"strings"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/runsummary"
)

// process applies one message to its run, in turn: it builds the event,
// makes the message's effects, and logs the event.
func (s *Store) process(r *Run, it *item) {
	e := Event{
		Seq:        it.seq,
		Order:      it.seq,
		Kind:       it.kind,
		MessageID:  it.id,
		Timestamp:  it.ts,
		Received:   nanos(it.meta.Received),
		Partition:  it.meta.Partition,
		Offset:     it.meta.Offset,
		DurationUs: -1,
	}
	if it.seq == 0 {
		e.Order = r.seq.last // unsequenced: placed after what came before it
	}
	if it.tenant != "" {
		r.tenant = it.tenant
	}
	if r.startTime == 0 && it.ts > 0 {
		r.startTime = it.ts
	}
	switch it.kind {
	case KindEvent:
		s.applyEvent(r, it, &e)
	case KindStateDiff:
		s.applyDiff(r, it, &e)
	case KindCheckpoint:
		s.applyCheckpoint(r, it, &e)
	case KindTokenChunk:
		s.applyTokenChunk(r, it, &e)
	case KindToolExecution:
		s.applyToolExecution(r, it, &e)
	case KindMetrics:
		s.applyMetrics(r, it, &e)
	case KindError:
		s.applyError(r, it, &e)
	case KindExecutionTrace:
		s.applyTrace(r, it, &e)
	}
	pos := runsummary.Position{Partition: it.meta.Partition, Offset: it.meta.Offset}
	if it.kind == KindEvent {
		r.sum.ObserveEvent(it.ev, it.ts, it.seq, pos)
	} else {
		r.sum.Observe(it.msg, pos)
	}
	r.processed++
	s.stats.Applied++
	s.counts[Applied]++
	s.logEvent(r, e)
	s.markChanged(r)
	if s.afterProcess != nil {
		s.afterProcess(r, it.seq)
	}
}

// collision records a second, different message with an already used
// sequence as an event only, at the current end of the log.
func (s *Store) collision(r *Run, it *item) {
	e := Event{
		Seq: it.seq, Order: r.seq.last, Kind: it.kind, MessageID: it.id, Timestamp: it.ts,
		Received: nanos(it.meta.Received), Partition: it.meta.Partition, Offset: it.meta.Offset,
		DurationUs: -1, Note: "sequence collision: not applied",
	}
	if it.ev != nil {
		e.Type, e.NodeID = it.ev.GetEventType(), boundString(it.ev.GetNodeId(), s.cfg.MaxAttrChars)
	}
	r.note("sequence " + strconv.FormatUint(it.seq, 10) + " was used by two different messages; the later one was recorded but not applied")
	s.stats.Collisions++
	s.logEvent(r, e)
	s.markChanged(r)
}

// logEvent appends e to the run's log; when the oldest event falls out,
// keyframes that only served older events go too.
func (s *Store) logEvent(r *Run, e Event) {
	if _, dropped := r.events.push(e); dropped {
		r.timeline.trimTo(r.events.at(0).Order)
	}
}

func (s *Store) metricsSummary(m *pb.Metrics) []Field {
	sm := newSummary(&s.cfg, 8)
	if m.GetScope() != "" {
		sm.add("scope", m.GetScope())
	}
	if m.GetScopeId() != "" {
		sm.add("scope_id", m.GetScopeId())
	}
	names := make([]string, 0, len(m.GetMetrics()))
	for n := range m.GetMetrics() {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, n := range names {
		if i == maxListedKeys {
			sm.addInt("metrics_not_listed", int64(len(names)-i))
			break
		}
		v := m.GetMetrics()[n]
		val := metricValue(v)
		if u := v.GetUnit(); u != "" {
			val += " " + u
		}
		sm.add("metric."+n, val)
	}
	if len(m.GetTags()) > 0 {
		sm.addInt("tag_count", int64(len(m.GetTags())))
		sm.add("tag_keys", listKeys(m.GetTags()))
	}
	return sm.done()
}

// addContext adds an Error's context map, without sensitive keys.
func (s *Store) addContext(sm *summary, ctx map[string]string) {
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		if !sensitiveKey(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i == maxListedKeys {
			break
		}
		sm.add("context."+k, ctx[k])
	}
}

// maxListedKeys bounds how many map entries a summary lists.
const maxListedKeys = 20

// listKeys returns up to maxListedKeys non-sensitive keys, sorted and
// comma-separated.
func listKeys[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !sensitiveKey(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) > maxListedKeys {
		keys = keys[:maxListedKeys]
	}
	return strings.Join(keys, ",")
}

package runstate

import (
	"slices"
	"strings"

	"github.com/dashstream/dashstream/protocol/pb"
)

// MetricPoint is the latest value of one metric of a run.
type MetricPoint struct {
	Scope, ScopeID, Name string
	// Value is the value as text (integers exact, floats shortest form).
	Value string
	Unit  string
	// Type is "counter", "gauge", "histogram", "summary" or "unspecified".
	Type      string
	Seq       uint64
	Timestamp int64
	// Tags holds the message's non-sensitive tags from a short allowlist
	// (tenant_id, thread_id, model, graph_name, node_id, scope, scope_id,
	// stage, env), values bounded to 256 characters.
	Tags []Field
}

type metricKey struct{ scope, scopeID, name string }

type metricTable struct {
	points map[metricKey]*MetricPoint
	order  []metricKey // least recently updated first
	limit  int
}

// safeTagKeys are the tags upstream shows (its safeTags); other tags are only
// counted, and never stored, because they may carry anything.
var safeTagKeys = []string{"env", "graph_name", "model", "node_id", "scope", "scope_id", "stage", "tenant_id", "thread_id"}

const maxTagChars = 256

func (t *metricTable) add(m *pb.Metrics, seq uint64, ts int64, maxChars int) {
	var tags []Field
	for _, k := range safeTagKeys {
		if v, ok := m.GetTags()[k]; ok {
			tags = append(tags, Field{Key: k, Value: boundString(v, maxTagChars)})
		}
	}
	names := make([]string, 0, len(m.GetMetrics()))
	for n := range m.GetMetrics() {
		names = append(names, n)
	}
	slices.Sort(names) // deterministic eviction order
	scope, scopeID := boundString(m.GetScope(), maxChars), boundString(m.GetScopeId(), maxChars)
	for _, n := range names {
		v := m.GetMetrics()[n]
		key := metricKey{scope, scopeID, boundString(n, maxChars)}
		p, ok := t.points[key]
		if ok {
			i := slices.Index(t.order, key)
			t.order = append(t.order[:i], t.order[i+1:]...)
		} else {
			if len(t.order) >= t.limit {
				delete(t.points, t.order[0])
				t.order = append(t.order[:0], t.order[1:]...)
			}
			if t.points == nil {
				t.points = make(map[metricKey]*MetricPoint)
			}
			p = &MetricPoint{Scope: key.scope, ScopeID: key.scopeID, Name: key.name}
			t.points[key] = p
		}
		t.order = append(t.order, key)
		p.Value = boundString(metricValue(v), maxChars)
		p.Unit = boundString(v.GetUnit(), maxChars)
		p.Type = strings.ToLower(strings.TrimPrefix(v.GetType().String(), "METRIC_TYPE_"))
		p.Seq, p.Timestamp, p.Tags = seq, ts, tags
	}
}

// list returns the points sorted by scope, scope id and name.
func (t *metricTable) list() []MetricPoint {
	out := make([]MetricPoint, 0, len(t.points))
	for _, p := range t.points {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b MetricPoint) int {
		if c := strings.Compare(a.Scope, b.Scope); c != 0 {
			return c
		}
		if c := strings.Compare(a.ScopeID, b.ScopeID); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// applyMetrics keeps the latest metric values and summarises the message.
func (s *Store) applyMetrics(r *Run, it *item, e *Event) {
	m := it.msg.GetMetrics()
	r.metrics.add(m, it.seq, it.ts, s.cfg.MaxAttrChars)
	e.NodeID = boundString(m.GetScopeId(), s.cfg.MaxAttrChars)
	e.Summary = s.metricsSummary(m)
}

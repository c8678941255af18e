package runstate

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/dashstream/dashstream/protocol/pb"
)

// summary builds an event's bounded Summary: each value is cut to
// maxChars characters and the fields together to limit bytes; fields past the
// limit are dropped and counted in a final "_dropped" field.
type summary struct {
	fields   []Field
	used     int
	limit    int
	maxChars int
	dropped  int
}

func newSummary(cfg *Config, capacity int) summary {
	return summary{fields: make([]Field, 0, capacity), limit: cfg.MaxEventSummaryBytes, maxChars: cfg.MaxAttrChars}
}

func (s *summary) add(k, v string) {
	k = boundString(k, 128)
	v = boundString(v, s.maxChars)
	if s.used+len(k)+len(v) > s.limit {
		s.dropped++
		return
	}
	s.used += len(k) + len(v)
	s.fields = append(s.fields, Field{Key: k, Value: v})
}

func (s *summary) addInt(k string, v int64) { s.add(k, strconv.FormatInt(v, 10)) }

func (s *summary) addUint(k string, v uint64) { s.add(k, strconv.FormatUint(v, 10)) }

func (s *summary) addBool(k string, v bool) { s.add(k, strconv.FormatBool(v)) }

func (s *summary) done() []Field {
	if s.dropped > 0 {
		s.fields = append(s.fields, Field{Key: "_dropped", Value: strconv.Itoa(s.dropped) + " fields over the size limit"})
	}
	if len(s.fields) == 0 {
		return nil
	}
	return s.fields
}

// addAttributes adds an Event's attributes in key order, leaving out keys
// that name secrets and null values.
func (s *summary) addAttributes(attrs map[string]*pb.AttributeValue) {
	keys := make([]string, 0, len(attrs))
	for k, v := range attrs {
		if v == nil || v.GetValue() == nil || sensitiveKey(k) {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var buf []byte
	for _, k := range keys {
		buf = appendAttr(buf[:0], attrs[k], 4*s.maxChars, 0)
		s.add(k, string(buf))
	}
}

// appendAttr renders an AttributeValue compactly (strings raw at the top
// level, JSON-like inside arrays and maps), stopping near limit bytes.
func appendAttr(dst []byte, v *pb.AttributeValue, limit, depth int) []byte {
	if len(dst) > limit || depth > 8 {
		return append(dst, "…"...)
	}
	switch x := v.GetValue().(type) {
	case *pb.AttributeValue_StringValue:
		if depth == 0 {
			return append(dst, x.StringValue[:min(len(x.StringValue), limit+utf8.UTFMax)]...)
		}
		return strconv.AppendQuote(dst, x.StringValue[:min(len(x.StringValue), limit)])
	case *pb.AttributeValue_IntValue:
		return strconv.AppendInt(dst, x.IntValue, 10)
	case *pb.AttributeValue_FloatValue:
		return appendFloat(dst, x.FloatValue)
	case *pb.AttributeValue_BoolValue:
		return strconv.AppendBool(dst, x.BoolValue)
	case *pb.AttributeValue_BytesValue:
		return append(append(append(dst, '<'), strconv.Itoa(len(x.BytesValue))...), " bytes>"...)
	case *pb.AttributeValue_ArrayValue:
		dst = append(dst, '[')
		for i, e := range x.ArrayValue.GetValues() {
			if i > 0 {
				dst = append(dst, ',')
			}
			if len(dst) > limit {
				return append(dst, "…]"...)
			}
			dst = appendAttr(dst, e, limit, depth+1)
		}
		return append(dst, ']')
	case *pb.AttributeValue_MapValue:
		m := x.MapValue.GetValues()
		keys := make([]string, 0, len(m))
		for k := range m {
			if !sensitiveKey(k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			if len(dst) > limit {
				return append(dst, "…}"...)
			}
			dst = strconv.AppendQuote(dst, k)
			dst = append(dst, ':')
			dst = appendAttr(dst, m[k], limit, depth+1)
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.AppendQuote(dst, strconv.FormatFloat(f, 'g', -1, 64))
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// attrString returns a string (or UTF-8 bytes) attribute.
func attrString(attrs map[string]*pb.AttributeValue, key string) (string, bool) {
	v, ok := attrs[key]
	if !ok || v == nil {
		return "", false
	}
	switch x := v.GetValue().(type) {
	case *pb.AttributeValue_StringValue:
		return x.StringValue, true
	case *pb.AttributeValue_BytesValue:
		if utf8.Valid(x.BytesValue) {
			return string(x.BytesValue), true
		}
	}
	return "", false
}

// attrInt returns a numeric attribute as an integer: an int, an integral
// double, or a string of decimal digits.
func attrInt(attrs map[string]*pb.AttributeValue, key string) (int64, bool) {
	v, ok := attrs[key]
	if !ok || v == nil {
		return 0, false
	}
	switch x := v.GetValue().(type) {
	case *pb.AttributeValue_IntValue:
		return x.IntValue, true
	case *pb.AttributeValue_FloatValue:
		f := x.FloatValue
		if f >= math.MinInt64 && f < math.MaxInt64 && !math.IsNaN(f) {
			return int64(f), true
		}
	case *pb.AttributeValue_StringValue:
		n, err := strconv.ParseInt(x.StringValue, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// metricValue renders a MetricValue.
func metricValue(v *pb.MetricValue) string {
	switch x := v.GetValue().(type) {
	case *pb.MetricValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *pb.MetricValue_FloatValue:
		return string(appendFloat(nil, x.FloatValue))
	case *pb.MetricValue_StringValue:
		return x.StringValue
	case *pb.MetricValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *pb.MetricValue_BytesValue:
		return "<" + strconv.Itoa(len(x.BytesValue)) + " bytes>"
	}
	return ""
}

package producer

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/server/redact"
)

// text returns s redacted (unless redaction is off) and valid UTF-8, as
// every protobuf string must be.
func (p *Producer) text(s string) string {
	if !utf8.ValidString(s) {
		s = toValidUTF8(s)
	}
	if p.cfg.DisableRedaction {
		return s
	}
	return redact.String(s)
}

func toValidUTF8(s string) string {
	b := make([]byte, 0, len(s))
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[:size]...)
		}
		s = s[size:]
	}
	return string(b)
}

// Attrs are event attributes given as Go values. Strings are redacted;
// bools, integers, floats, []byte, slices and string-keyed maps map to the
// AttributeValue variants; a time.Duration becomes integer microseconds;
// a json.Number its literal text; anything else its fmt.Sprint text.
type Attrs map[string]any

// attrs converts Attrs; nil values are left out.
func (p *Producer) attrs(a Attrs) map[string]*pb.AttributeValue {
	if len(a) == 0 {
		return nil
	}
	out := make(map[string]*pb.AttributeValue, len(a))
	for k, v := range a {
		if av := p.attr(v, 0); av != nil {
			out[validUTF8(k)] = av
		}
	}
	return out
}

// maxAttrDepth bounds the nesting of attribute values (cyclic values
// stop here instead of recursing forever).
const maxAttrDepth = 32

func (p *Producer) attr(v any, depth int) *pb.AttributeValue {
	if depth > maxAttrDepth {
		return nil
	}
	switch x := v.(type) {
	case nil:
		return nil
	case *pb.AttributeValue:
		return p.redactAttr(x, depth)
	case string:
		return strAttr(p.text(x))
	case bool:
		return &pb.AttributeValue{Value: &pb.AttributeValue_BoolValue{BoolValue: x}}
	case int:
		return intAttr(int64(x))
	case int8:
		return intAttr(int64(x))
	case int16:
		return intAttr(int64(x))
	case int32:
		return intAttr(int64(x))
	case int64:
		return intAttr(x)
	case uint:
		return uintAttr(uint64(x))
	case uint8:
		return intAttr(int64(x))
	case uint16:
		return intAttr(int64(x))
	case uint32:
		return intAttr(int64(x))
	case uint64:
		return uintAttr(x)
	case float32:
		return floatAttr(float64(x))
	case float64:
		return floatAttr(x)
	case time.Duration:
		return intAttr(x.Microseconds())
	case json.Number:
		return strAttr(x.String())
	case []byte:
		return &pb.AttributeValue{Value: &pb.AttributeValue_BytesValue{BytesValue: x}}
	case error:
		return strAttr(p.text(x.Error()))
	case fmt.Stringer:
		return strAttr(p.text(x.String()))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		arr := &pb.AttributeArray{}
		for i := range rv.Len() {
			if av := p.attr(rv.Index(i).Interface(), depth+1); av != nil {
				arr.Values = append(arr.Values, av)
			}
		}
		return &pb.AttributeValue{Value: &pb.AttributeValue_ArrayValue{ArrayValue: arr}}
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		mp := &pb.AttributeMap{Values: make(map[string]*pb.AttributeValue, rv.Len())}
		iter := rv.MapRange()
		for iter.Next() {
			if av := p.attr(iter.Value().Interface(), depth+1); av != nil {
				mp.Values[validUTF8(iter.Key().String())] = av
			}
		}
		return &pb.AttributeValue{Value: &pb.AttributeValue_MapValue{MapValue: mp}}
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
		return p.attr(rv.Elem().Interface(), depth+1)
	}
	return strAttr(p.text(fmt.Sprint(v)))
}

// redactAttr redacts the strings of a caller-built AttributeValue (a copy;
// the caller's value is not modified).
func (p *Producer) redactAttr(a *pb.AttributeValue, depth int) *pb.AttributeValue {
	if a == nil || depth > maxAttrDepth {
		return nil
	}
	switch v := a.GetValue().(type) {
	case *pb.AttributeValue_StringValue:
		return strAttr(p.text(v.StringValue))
	case *pb.AttributeValue_ArrayValue:
		arr := &pb.AttributeArray{}
		for _, e := range v.ArrayValue.GetValues() {
			if av := p.redactAttr(e, depth+1); av != nil {
				arr.Values = append(arr.Values, av)
			}
		}
		return &pb.AttributeValue{Value: &pb.AttributeValue_ArrayValue{ArrayValue: arr}}
	case *pb.AttributeValue_MapValue:
		mp := &pb.AttributeMap{Values: map[string]*pb.AttributeValue{}}
		for k, e := range v.MapValue.GetValues() {
			if av := p.redactAttr(e, depth+1); av != nil {
				mp.Values[validUTF8(k)] = av
			}
		}
		return &pb.AttributeValue{Value: &pb.AttributeValue_MapValue{MapValue: mp}}
	}
	return a
}

func strAttr(s string) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_StringValue{StringValue: s}}
}

func intAttr(i int64) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_IntValue{IntValue: i}}
}

func uintAttr(u uint64) *pb.AttributeValue {
	if u > math.MaxInt64 {
		return strAttr(fmt.Sprint(u)) // no unsigned variant: keep every digit
	}
	return intAttr(int64(u))
}

func floatAttr(f float64) *pb.AttributeValue {
	return &pb.AttributeValue{Value: &pb.AttributeValue_FloatValue{FloatValue: f}}
}

// jsonBytes turns a tool argument or result into redacted compact JSON:
// json.RawMessage and []byte holding JSON are parsed (literals kept), other
// []byte is taken as text, anything else is encoded with encoding/json.
// A nil value gives nil.
func (p *Producer) jsonBytes(v any) []byte {
	if v == nil {
		return nil
	}
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	}
	tree, err := toTree(v)
	if err != nil {
		if raw != nil {
			return []byte(p.text(string(raw)))
		}
		return []byte(p.text(fmt.Sprint(v)))
	}
	if !p.cfg.DisableRedaction {
		tree = redact.Tree(tree)
	}
	return tree.AppendJSON(nil)
}

// stringMap redacts the values of a string map (metric tags, error context).
func (p *Producer) stringMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[validUTF8(k)] = p.text(v)
	}
	return out
}

package pbwire

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Decoding errors; every error Unmarshal returns wraps exactly one of them.
var (
	// ErrMalformed: the wire data is not valid protobuf (truncated, a bad
	// tag, an overflowing varint, an unmatched group).
	ErrMalformed = errors.New("malformed protobuf")
	// ErrInvalidUTF8: a string field holds invalid UTF-8, which proto3
	// forbids.
	ErrInvalidUTF8 = errors.New("string field contains invalid UTF-8")
	// ErrTooDeep: messages nest deeper than protobuf-go's recursion limit.
	ErrTooDeep = errors.New("exceeded maximum recursion depth")
)

// fields reads the fields of one message, in wire order. Each accessor
// takes the current field: when its wire type is not the one the schema
// gives, the field is kept as an unknown field instead (as protobuf-go
// does), and it returns ok false. The first error stops the reading.
type fields struct {
	b   []byte // what is left of the message
	src source
	msg string // the message's name, for errors
	num protowire.Number
	typ protowire.Type
	unk []byte // unknown fields, tag re-encoded as protobuf-go does
	// entry: a map entry, whose unknown fields are dropped.
	entry bool
	err   error
}

// next reads the next field's tag; false at the end or after an error.
func (f *fields) next() bool {
	if len(f.b) == 0 || f.err != nil {
		return false
	}
	var tag uint64
	if f.b[0] < 0x80 {
		tag = uint64(f.b[0])
		f.b = f.b[1:]
	} else {
		v, n := protowire.ConsumeVarint(f.b)
		if n < 0 {
			f.fail(n)
			return false
		}
		tag = v
		f.b = f.b[n:]
	}
	if num := tag >> 3; num < uint64(protowire.MinValidNumber) || num > uint64(protowire.MaxValidNumber) {
		f.err = fmt.Errorf("%s: field number %d: %w", f.msg, num, ErrMalformed)
		return false
	}
	f.num, f.typ = protowire.Number(tag>>3), protowire.Type(tag&7)
	if f.typ == protowire.EndGroupType {
		// No field of this schema is a group, so no group is open here.
		f.err = fmt.Errorf("%s: field %d: unexpected end of group: %w", f.msg, f.num, ErrMalformed)
		return false
	}
	return true
}

// fail records a protowire error code as the reading's error.
func (f *fields) fail(code int) {
	f.err = fmt.Errorf("%s: field %d: %w: %w", f.msg, f.num, ErrMalformed, protowire.ParseError(code))
}

// check makes err (from a nested message) the reading's error.
func (f *fields) check(err error) {
	if err != nil && f.err == nil {
		f.err = err
	}
}

// skip keeps the current field as an unknown field (dropped in a map entry).
func (f *fields) skip() {
	var n int
	if f.typ == protowire.StartGroupType {
		if n = f.groupLen(); n < 0 {
			return
		}
	} else if n = protowire.ConsumeFieldValue(f.num, f.typ, f.b); n < 0 {
		f.fail(n)
		return
	}
	if !f.entry {
		f.unk = protowire.AppendTag(f.unk, f.num, f.typ)
		f.unk = append(f.unk, f.b[:n]...)
	}
	f.b = f.b[n:]
}

// groupLen returns the length of the current field, a group, up to and
// including its end tag, or -1 after recording an error. It accepts what
// protowire.ConsumeFieldValue accepts (which protobuf-go skips unknown
// groups with), groups nested up to its limit included, but without
// recursion: protowire calls itself once per level, and in the browser
// Go's calls are the JavaScript engine's, whose stack a few kilobytes of
// nested group tags overflow, a crash no error can report.
func (f *fields) groupLen() int {
	b := f.b
	var open []protowire.Number // groups open inside this one, innermost last
	for {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			f.fail(n)
			return -1
		}
		b = b[n:]
		switch typ {
		case protowire.EndGroupType:
			want := f.num
			if len(open) > 0 {
				want = open[len(open)-1]
			}
			if num != want {
				f.err = fmt.Errorf("%s: field %d: group %d closed by end of group %d: %w", f.msg, f.num, want, num, ErrMalformed)
				return -1
			}
			if len(open) == 0 {
				return len(f.b) - len(b)
			}
			open = open[:len(open)-1]
		case protowire.StartGroupType:
			if len(open) >= protowire.DefaultRecursionLimit {
				f.err = fmt.Errorf("%s: field %d: groups nested deeper than %d: %w", f.msg, f.num, protowire.DefaultRecursionLimit, ErrTooDeep)
				return -1
			}
			open = append(open, num)
		default:
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				f.fail(n)
				return -1
			}
			b = b[n:]
		}
	}
}

// end returns the reading's error, or keeps its unknown fields in m after
// any m already has (a message that appears twice is merged).
func (f *fields) end(m protoreflect.ProtoMessage) error {
	if f.err != nil {
		return f.err
	}
	if len(f.unk) > 0 {
		r := m.ProtoReflect()
		r.SetUnknown(append(r.GetUnknown(), f.unk...))
	}
	return nil
}

func (f *fields) varint() (uint64, bool) {
	if f.typ != protowire.VarintType {
		f.skip()
		return 0, false
	}
	if len(f.b) > 0 && f.b[0] < 0x80 {
		v := uint64(f.b[0])
		f.b = f.b[1:]
		return v, true
	}
	v, n := protowire.ConsumeVarint(f.b)
	if n < 0 {
		f.fail(n)
		return 0, false
	}
	f.b = f.b[n:]
	return v, true
}

// bytes returns the current length-delimited field's content (memory of the
// input, not a copy).
func (f *fields) bytes() ([]byte, bool) {
	if f.typ != protowire.BytesType {
		f.skip()
		return nil, false
	}
	v, n := protowire.ConsumeBytes(f.b)
	if n < 0 {
		f.fail(n)
		return nil, false
	}
	f.b = f.b[n:]
	return v, true
}

// entry is bytes for a map field, whose entry counts one level of depth
// (checked first, as protobuf-go does).
func (f *fields) entryBytes(depth int) ([]byte, bool) {
	if depth-1 < 0 {
		f.err = fmt.Errorf("%s: field %d: %w", f.msg, f.num, ErrTooDeep)
		return nil, false
	}
	return f.bytes()
}

func (f *fields) fixed64() (uint64, bool) {
	if f.typ != protowire.Fixed64Type {
		f.skip()
		return 0, false
	}
	v, n := protowire.ConsumeFixed64(f.b)
	if n < 0 {
		f.fail(n)
		return 0, false
	}
	f.b = f.b[n:]
	return v, true
}

// str returns the current field as a string, checked to be UTF-8.
func (f *fields) str() (string, bool) {
	v, ok := f.bytes()
	if !ok {
		return "", false
	}
	if !utf8.Valid(v) {
		f.err = fmt.Errorf("%s: field %d: %w", f.msg, f.num, ErrInvalidUTF8)
		return "", false
	}
	return f.src.string(v), true
}

// sharedMax: the strings of a message up to this size share one
// allocation, a copy of the whole message (which they keep alive).
const sharedMax = 512

// source is the copy of the protobuf being decoded that its strings
// share: str is the whole input of Unmarshal, end its capacity. Empty, it
// makes each string a copy of its own.
type source struct {
	str string
	end int
}

// string returns v, a part of the input, as a string.
func (s source) string(v []byte) string {
	if s.str == "" || len(v) == 0 {
		return string(v)
	}
	off := s.end - cap(v) // v is the input[off:off+len(v)]: slicing keeps the end
	return s.str[off : off+len(v)]
}

// setStr, setBytes and the set functions below store the current field
// into dst when its wire type is right. Singular bytes fields keep nil for
// an empty value, as protobuf-go's proto3 fields do.
func (f *fields) setStr(dst *string) {
	if s, ok := f.str(); ok {
		*dst = s
	}
}

func (f *fields) setBytes(dst *[]byte) {
	if v, ok := f.bytes(); ok {
		*dst = append([]byte(nil), v...)
	}
}

func (f *fields) setInt64(dst *int64) {
	if v, ok := f.varint(); ok {
		*dst = int64(v)
	}
}

func (f *fields) setUint64(dst *uint64) {
	if v, ok := f.varint(); ok {
		*dst = v
	}
}

func (f *fields) setUint32(dst *uint32) {
	if v, ok := f.varint(); ok {
		*dst = uint32(v)
	}
}

func (f *fields) setBool(dst *bool) {
	if v, ok := f.varint(); ok {
		*dst = protowire.DecodeBool(v)
	}
}

// setEnum stores an open (proto3) enum: any int32 value is kept.
func setEnum[E ~int32](f *fields, dst *E) {
	if v, ok := f.varint(); ok {
		*dst = E(int32(v))
	}
}

// appendUint32s reads a repeated uint32, packed or not.
func (f *fields) appendUint32s(dst *[]uint32) {
	if f.typ != protowire.BytesType {
		if v, ok := f.varint(); ok {
			*dst = append(*dst, uint32(v))
		}
		return
	}
	b, ok := f.bytes()
	if !ok {
		return
	}
	count := 0
	for _, c := range b {
		if c < 0x80 {
			count++
		}
	}
	s := *dst
	if count > 0 {
		s = append(make([]uint32, 0, len(s)+count), s...)
	}
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			f.fail(n)
			return
		}
		s = append(s, uint32(v))
		b = b[n:]
	}
	*dst = s
}

// appendFloats reads a repeated float, packed or not.
func (f *fields) appendFloats(dst *[]float32) {
	switch f.typ {
	case protowire.Fixed32Type:
		v, n := protowire.ConsumeFixed32(f.b)
		if n < 0 {
			f.fail(n)
			return
		}
		f.b = f.b[n:]
		*dst = append(*dst, math.Float32frombits(v))
		return
	case protowire.BytesType:
	default:
		f.skip()
		return
	}
	b, ok := f.bytes()
	if !ok {
		return
	}
	s := *dst
	if count := len(b) / 4; count > 0 {
		s = append(make([]float32, 0, len(s)+count), s...)
	}
	for len(b) > 0 {
		v, n := protowire.ConsumeFixed32(b)
		if n < 0 {
			f.fail(n)
			return
		}
		s = append(s, math.Float32frombits(v))
		b = b[n:]
	}
	*dst = s
}

// stringEntry reads a map<string, string> entry: a missing key or value is
// "", a repeated one the last.
func stringEntry(src source, b []byte, msg string) (key, val string, err error) {
	e := fields{b: b, src: src, msg: msg, entry: true}
	for e.next() {
		switch e.num {
		case 1:
			e.setStr(&key)
		case 2:
			e.setStr(&val)
		default:
			e.skip()
		}
	}
	return key, val, e.err
}

package jsonpatch

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

func TestFromDiffOperations_AbsentOpIsAddAndAbsentEncodingIsJSON(t *testing.T) {
	// A DiffOperation as a producer writes an ADD with a JSON value: proto3
	// leaves op (field 1) and encoding (field 5) off the wire entirely.
	var wire []byte
	wire = protowire.AppendTag(wire, 2, protowire.BytesType)
	wire = protowire.AppendString(wire, "/items/0")
	wire = protowire.AppendTag(wire, 3, protowire.BytesType)
	wire = protowire.AppendBytes(wire, []byte(`{"n":1.0}`))
	var d pb.DiffOperation
	if err := proto.Unmarshal(wire, &d); err != nil {
		t.Fatal(err)
	}
	p, err := FromDiffOperations([]*pb.DiffOperation{&d})
	if err != nil {
		t.Fatal(err)
	}
	if p[0].Op != OpAdd || p[0].Value.String() != `{"n":1.0}` {
		t.Fatalf("got %v %s", p[0].Op, p[0].Value)
	}
	out, err := p.Apply(mustTree(t, `{"items":[2]}`))
	if err != nil || out.String() != `{"items":[{"n":1.0},2]}` {
		t.Errorf("apply: %s, %v", out, err)
	}
}

func TestFromDiffOperations_UnsupportedEncodingsAreTypedErrors(t *testing.T) {
	for _, enc := range []pb.DiffOperation_ValueEncoding{
		pb.DiffOperation_VALUE_ENCODING_MSGPACK,
		pb.DiffOperation_VALUE_ENCODING_PROTOBUF,
		pb.DiffOperation_ValueEncoding(4),
		pb.DiffOperation_ValueEncoding(42),
		pb.DiffOperation_ValueEncoding(-1),
	} {
		for _, op := range []pb.DiffOperation_OpType{pb.DiffOperation_OP_TYPE_ADD, pb.DiffOperation_OP_TYPE_REMOVE} {
			ops := []*pb.DiffOperation{
				{Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/ok", Value: []byte("1")},
				{Op: op, Path: "/a", Value: []byte(`"x"`), Encoding: enc},
			}
			_, err := FromDiffOperations(ops)
			var ue *UnsupportedEncodingError
			if !errors.Is(err, ErrUnsupportedEncoding) || !errors.As(err, &ue) || ue.Encoding != enc {
				t.Errorf("encoding %v, op %v: error %v, want UnsupportedEncodingError", enc, op, err)
			}
			var oe *OpError
			if !errors.As(err, &oe) || oe.Index != 1 {
				t.Errorf("encoding %v: error %v does not name operation 1", enc, err)
			}
		}
	}
}

// A RAW value is the UTF-8 text of a JSON string, as the upstream UI reads it
// (reference §5.3): the bytes are never parsed as JSON, and the state they
// produce hashes as the producer's canonical writer writes that string.
func TestFromDiffOperations_RawValueIsAUTF8String(t *testing.T) {
	huge := strings.Repeat("a\"\n", 1<<20) // 3 MiB that needs escaping throughout
	cases := []struct {
		name, raw string
		want      string // the string as canonical JSON, escaped by hand
	}{
		{"plain", "plain text", `"plain text"`},
		{"empty bytes are the empty string", "", `""`},
		{"looks like JSON but is text", `{"a":1.0}`, `"{\"a\":1.0}"`},
		{"a number literal stays text", "1.0", `"1.0"`},
		{"null is the word", "null", `"null"`},
		{"quotes and backslashes", `say "hi" \ / \u0041`, `"say \"hi\" \\ / \\u0041"`},
		{"control characters", "\x00\x01\b\f\n\r\t\x1f", `"\u0000\u0001\b\f\n\r\t\u001f"`},
		{"non-ASCII, U+2028 and DEL stay raw", "é 日本 😀 \u2028\u2029\x7f", "\"é 日本 😀 \u2028\u2029\x7f\""},
		{"huge", huge, `"` + strings.Repeat(`a\"\n`, 1<<20) + `"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ops := []*pb.DiffOperation{
				{Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/k", Value: []byte(c.raw), Encoding: pb.DiffOperation_VALUE_ENCODING_RAW},
				{Op: pb.DiffOperation_OP_TYPE_ADD, Path: "/l/-", Value: []byte(c.raw), Encoding: pb.DiffOperation_VALUE_ENCODING_RAW},
				{Op: pb.DiffOperation_OP_TYPE_TEST, Path: "/k", Value: []byte(c.raw), Encoding: pb.DiffOperation_VALUE_ENCODING_RAW},
				{Op: pb.DiffOperation_OP_TYPE_REMOVE, Path: "/gone", Encoding: pb.DiffOperation_VALUE_ENCODING_RAW},
			}
			p, err := FromDiffOperations(ops)
			if err != nil {
				t.Fatal(err)
			}
			if p[0].Value.Kind() != jsontree.String || p[0].Value.Literal() != c.raw {
				t.Fatalf("value is %v %.80q, want the string %.80q", p[0].Value.Kind(), p[0].Value.Literal(), c.raw)
			}
			out, err := p.Apply(mustTree(t, `{"gone":1,"k":0,"l":[true]}`))
			if err != nil {
				t.Fatal(err)
			}
			want := `{"k":` + c.want + `,"l":[true,` + c.want + `]}`
			if got := out.String(); got != want {
				t.Fatalf("state %.120s, want %.120s", got, want)
			}
			// The hash a producer computes over its canonical text of that state.
			if statehash.SumTree(out) != sha256.Sum256([]byte(want)) {
				t.Errorf("state_hash of the result differs from the SHA-256 of %.120s", want)
			}
			if back, err := jsontree.Parse([]byte(out.String())); err != nil || !jsontree.Equal(back, out) {
				t.Errorf("result does not parse back equal: %v", err)
			}
		})
	}
}

func TestFromDiffOperations_RawInvalidUTF8NamesTheOperation(t *testing.T) {
	for _, raw := range []string{"\xff", "ok\xc3", "\xed\xa0\x80", "\xc0\xaf", "text\x80 more"} {
		ops := []*pb.DiffOperation{
			{Op: pb.DiffOperation_OP_TYPE_ADD, Path: "/ok", Value: []byte("plain"), Encoding: pb.DiffOperation_VALUE_ENCODING_RAW},
			{Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/msg", Value: []byte(raw), Encoding: pb.DiffOperation_VALUE_ENCODING_RAW},
		}
		_, err := FromDiffOperations(ops)
		var oe *OpError
		if !errors.Is(err, ErrInvalidValue) || !errors.Is(err, jsontree.ErrInvalidUTF8) || !errors.As(err, &oe) {
			t.Fatalf("%q: error %v, want ErrInvalidValue and jsontree.ErrInvalidUTF8 in an OpError", raw, err)
		}
		if oe.Index != 1 || oe.Op != "replace" || oe.Path != "/msg" || !strings.Contains(err.Error(), `operation 1 (replace "/msg")`) ||
			!strings.Contains(err.Error(), "RAW") {
			t.Errorf("%q: error %q does not name operation 1 and its RAW value", raw, err)
		}
	}
}

func TestFromDiffOperations_RejectsBadOperations(t *testing.T) {
	cases := []struct {
		name string
		op   *pb.DiffOperation
		want error
	}{
		{"empty value for add", &pb.DiffOperation{Path: "/a"}, ErrInvalidValue},
		{"empty value for replace", &pb.DiffOperation{Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/a"}, ErrInvalidValue},
		{"empty value for test", &pb.DiffOperation{Op: pb.DiffOperation_OP_TYPE_TEST, Path: "/a"}, ErrInvalidValue},
		{"value not JSON", &pb.DiffOperation{Path: "/a", Value: []byte("{")}, ErrInvalidValue},
		{"value with duplicate keys", &pb.DiffOperation{Path: "/a", Value: []byte(`{"k":1,"k":2}`)}, jsontree.ErrDuplicateKey},
		{"unknown op", &pb.DiffOperation{Op: 9, Path: "/a", Value: []byte("1")}, ErrInvalidPatch},
		{"bad path", &pb.DiffOperation{Path: "a", Value: []byte("1")}, ErrInvalidPointer},
		{"forbidden path", &pb.DiffOperation{Path: "/__proto__/x", Value: []byte("1")}, ErrForbiddenSegment},
		{"bad from", &pb.DiffOperation{Op: pb.DiffOperation_OP_TYPE_MOVE, Path: "/a", From: "b"}, ErrInvalidPointer},
		{"forbidden from", &pb.DiffOperation{Op: pb.DiffOperation_OP_TYPE_COPY, Path: "/a", From: "/constructor"}, ErrForbiddenSegment},
	}
	for _, c := range cases {
		if _, err := FromDiffOperations([]*pb.DiffOperation{c.op}); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
	many := make([]*pb.DiffOperation, MaxOps+1)
	if _, err := FromDiffOperations(many); !errors.Is(err, ErrTooManyOps) {
		t.Errorf("%d operations: error %v", len(many), err)
	}
}

func TestDiffOperations_RoundTrip(t *testing.T) {
	p, err := Parse([]byte(`[{"op":"add","path":"/a","value":{"x":[1.0,12345678901234567890]}},{"op":"remove","path":"/b"},
		{"op":"replace","path":"/c","value":null},{"op":"move","from":"/d","path":"/e"},{"op":"copy","from":"/e","path":"/f"},
		{"op":"test","path":"/f","value":"é"}]`))
	if err != nil {
		t.Fatal(err)
	}
	ops := p.ToDiffOperations()
	if ops[0].GetOp() != pb.DiffOperation_OP_TYPE_ADD || ops[5].GetOp() != pb.DiffOperation_OP_TYPE_TEST ||
		ops[3].GetFrom() != "/d" || string(ops[2].GetValue()) != "null" {
		t.Fatalf("converted ops wrong: %v", ops)
	}
	back, err := FromDiffOperations(ops)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p {
		if back[i].Op != p[i].Op || back[i].Path.String() != p[i].Path.String() || back[i].From.String() != p[i].From.String() ||
			(p[i].Value != nil && !jsontree.Equal(back[i].Value, p[i].Value)) {
			t.Errorf("op %d changed: %+v -> %+v", i, p[i], back[i])
		}
	}
}

func mustTree(t testing.TB, s string) *jsontree.Node {
	t.Helper()
	n, err := jsontree.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

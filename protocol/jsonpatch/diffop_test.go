package jsonpatch

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
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
		pb.DiffOperation_VALUE_ENCODING_RAW,
		pb.DiffOperation_ValueEncoding(42),
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

package jsonpatch

import (
	"fmt"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
)

// FromDiffOperations converts the operations of a DashStream StateDiff into a
// Patch. proto3 leaves zero values off the wire, so an absent op is ADD and
// an absent encoding is JSON. A value encoding other than JSON (MSGPACK,
// PROTOBUF, RAW or a number this schema does not know) fails with an
// *UnsupportedEncodingError: an operation is never skipped silently. An add,
// replace or test with empty value bytes fails too (producers send the four
// bytes "null" for null).
func FromDiffOperations(ops []*pb.DiffOperation) (Patch, error) {
	if len(ops) > MaxOps {
		return nil, fmt.Errorf("jsonpatch: %w: %d operations, limit %d", ErrTooManyOps, len(ops), MaxOps)
	}
	patch := make(Patch, len(ops))
	for i, d := range ops {
		op, err := fromDiffOperation(d)
		if err != nil {
			return nil, &OpError{Index: i, Op: diffOpName(d.GetOp()), Path: d.GetPath(), Err: err}
		}
		patch[i] = op
	}
	return patch, nil
}

func diffOpName(t pb.DiffOperation_OpType) string {
	if op, ok := opFromProto(t); ok {
		return op.String()
	}
	return t.String()
}

func opFromProto(t pb.DiffOperation_OpType) (Op, bool) {
	switch t {
	case pb.DiffOperation_OP_TYPE_ADD:
		return OpAdd, true
	case pb.DiffOperation_OP_TYPE_REMOVE:
		return OpRemove, true
	case pb.DiffOperation_OP_TYPE_REPLACE:
		return OpReplace, true
	case pb.DiffOperation_OP_TYPE_MOVE:
		return OpMove, true
	case pb.DiffOperation_OP_TYPE_COPY:
		return OpCopy, true
	case pb.DiffOperation_OP_TYPE_TEST:
		return OpTest, true
	}
	return 0, false
}

func fromDiffOperation(d *pb.DiffOperation) (Operation, error) {
	var op Operation
	var ok bool
	if op.Op, ok = opFromProto(d.GetOp()); !ok {
		return Operation{}, detail(ErrInvalidPatch, "unknown op type %d", int32(d.GetOp()))
	}
	if enc := d.GetEncoding(); enc != pb.DiffOperation_VALUE_ENCODING_JSON {
		return Operation{}, &UnsupportedEncodingError{Encoding: enc}
	}
	var err error
	if op.Path, err = ParsePointer(d.GetPath()); err != nil {
		return Operation{}, fmt.Errorf("path: %w", err)
	}
	switch op.Op {
	case OpMove, OpCopy:
		if op.From, err = ParsePointer(d.GetFrom()); err != nil {
			return Operation{}, fmt.Errorf("from: %w", err)
		}
	case OpAdd, OpReplace, OpTest:
		if len(d.GetValue()) == 0 {
			return Operation{}, detail(ErrInvalidValue, "%s has no value bytes", op.Op)
		}
		if op.Value, err = jsontree.Parse(d.GetValue()); err != nil {
			return Operation{}, fmt.Errorf("%w: %w", ErrInvalidValue, err)
		}
	}
	return op, nil
}

// ToDiffOperations converts a Patch to DashStream DiffOperations with JSON
// values, the form producers send.
func (p Patch) ToDiffOperations() []*pb.DiffOperation {
	ops := make([]*pb.DiffOperation, len(p))
	for i, o := range p {
		d := &pb.DiffOperation{Op: pb.DiffOperation_OpType(o.Op), Path: o.Path.String()}
		switch o.Op {
		case OpMove, OpCopy:
			d.From = o.From.String()
		case OpAdd, OpReplace, OpTest:
			d.Value = o.Value.AppendJSON(nil)
		}
		ops[i] = d
	}
	return ops
}

package jsonpatch

import (
	"fmt"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
)

// FromDiffOperations converts the operations of a DashStream StateDiff into a
// Patch. proto3 leaves zero values off the wire, so an absent op is ADD and
// an absent encoding is JSON. A RAW value is the UTF-8 text of a JSON string,
// as the upstream UI reads it (empty bytes are the empty string; invalid
// UTF-8 fails with ErrInvalidValue). Any other value encoding (MSGPACK,
// PROTOBUF or a number this schema does not know) fails with an
// *UnsupportedEncodingError: an operation is never skipped silently. An add,
// replace or test with empty JSON value bytes fails too (producers send the
// four bytes "null" for null).
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
	switch enc := d.GetEncoding(); enc {
	case pb.DiffOperation_VALUE_ENCODING_JSON, pb.DiffOperation_VALUE_ENCODING_RAW:
	default:
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
		if op.Value, err = decodeValue(op.Op, d); err != nil {
			return Operation{}, err
		}
	}
	return op, nil
}

// decodeValue reads the value of an add, replace or test by its encoding.
func decodeValue(op Op, d *pb.DiffOperation) (*jsontree.Node, error) {
	v := d.GetValue()
	if d.GetEncoding() == pb.DiffOperation_VALUE_ENCODING_RAW {
		// The bytes are the string itself, not JSON text. proto3 cannot tell
		// empty bytes from absent ones, so an empty RAW value is "", the
		// only way to send an empty string as RAW (the upstream UI gives
		// undefined for any empty value).
		n, err := jsontree.StringNode(string(v))
		if err != nil {
			return nil, fmt.Errorf("%w: RAW value of %d bytes: %w", ErrInvalidValue, len(v), err)
		}
		return n, nil
	}
	if len(v) == 0 {
		return nil, detail(ErrInvalidValue, "%s has no value bytes", op)
	}
	n, err := jsontree.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	return n, nil
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

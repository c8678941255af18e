// Package jsonpatch applies RFC 6902 JSON Patch to protocol/jsontree
// documents, exactly as the RFC and RFC 6901 say and no looser:
//
//   - add inserts into arrays (shifting later elements, M-708); "-" appends
//     and is valid only where a value is added (the path of add, move and
//     copy), never in from or for remove, replace or test;
//   - array indices are strict decimal: no sign, leading zero, space,
//     exponent or hex (M-709); an index beyond the array fails cleanly however
//     large;
//   - remove and replace need an existing target; move into the moved value's
//     own child fails; copy is deep; test compares deeply, numbers by exact
//     value and objects regardless of member order;
//   - a patch is atomic: jsontree nodes are immutable, so when any operation
//     fails the caller still holds the unchanged document.
//
// Consumer safety limits (the upstream UI's, M-710 and M-1101) are checked
// before any work: at most MaxOps operations and MaxPathChars characters per
// pointer, and no __proto__, constructor or prototype segment.
//
// Parse the state once with jsontree.Parse and apply many patches to the tree
// with Patch.Apply; Apply on bytes exists for callers that hold bytes.
package jsonpatch

import (
	"fmt"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// MaxOps is the largest number of operations a patch may have (M-1101).
const MaxOps = 10000

// Op is an RFC 6902 operation name.
type Op uint8

// The six operations.
const (
	OpAdd Op = iota
	OpRemove
	OpReplace
	OpMove
	OpCopy
	OpTest
)

var opNames = [...]string{"add", "remove", "replace", "move", "copy", "test"}

// String returns the RFC 6902 name ("add", ...).
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Operation is one validated patch operation.
type Operation struct {
	Op   Op
	Path Pointer
	// From is the source of move and copy.
	From Pointer
	// Value is the value of add, replace and test.
	Value *jsontree.Node
}

// Patch is a validated list of operations; build one with Parse or
// FromDiffOperations.
type Patch []Operation

// Parse reads a JSON Patch document: an array of operation objects. Every
// operation is validated here (member types, pointers, limits), so Apply
// fails only on the document's content. Members other than op, path, from
// and value are ignored, as RFC 6902 says.
func Parse(data []byte) (Patch, error) {
	root, err := jsontree.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("jsonpatch: %w: %w", ErrInvalidPatch, err)
	}
	if root.Kind() != jsontree.Array {
		return nil, fmt.Errorf("jsonpatch: %w: a patch is a JSON array, got %s", ErrInvalidPatch, root.Kind())
	}
	if root.Len() > MaxOps {
		return nil, fmt.Errorf("jsonpatch: %w: %d operations, limit %d", ErrTooManyOps, root.Len(), MaxOps)
	}
	patch := make(Patch, root.Len())
	for i := range patch {
		op, err := parseOperation(root.Index(i))
		if err != nil {
			return nil, &OpError{Index: i, Op: opName(root.Index(i)), Path: pathText(root.Index(i)), Err: err}
		}
		patch[i] = op
	}
	return patch, nil
}

func parseOperation(n *jsontree.Node) (Operation, error) {
	if n.Kind() != jsontree.Object {
		return Operation{}, detail(ErrInvalidPatch, "an operation is a JSON object, got %s", n.Kind())
	}
	name, err := stringMember(n, "op")
	if err != nil {
		return Operation{}, err
	}
	var op Operation
	switch name {
	case "add":
		op.Op = OpAdd
	case "remove":
		op.Op = OpRemove
	case "replace":
		op.Op = OpReplace
	case "move":
		op.Op = OpMove
	case "copy":
		op.Op = OpCopy
	case "test":
		op.Op = OpTest
	default:
		return Operation{}, detail(ErrInvalidPatch, "unknown op %q", truncate(name))
	}
	path, err := stringMember(n, "path")
	if err != nil {
		return Operation{}, err
	}
	if op.Path, err = ParsePointer(path); err != nil {
		return Operation{}, fmt.Errorf("path: %w", err)
	}
	switch op.Op {
	case OpMove, OpCopy:
		from, err := stringMember(n, "from")
		if err != nil {
			return Operation{}, err
		}
		if op.From, err = ParsePointer(from); err != nil {
			return Operation{}, fmt.Errorf("from: %w", err)
		}
	case OpAdd, OpReplace, OpTest:
		v, ok := n.Get("value")
		if !ok {
			return Operation{}, detail(ErrInvalidPatch, "%s needs a value member", op.Op)
		}
		op.Value = v
	}
	return op, nil
}

func stringMember(n *jsontree.Node, name string) (string, error) {
	v, ok := n.Get(name)
	if !ok {
		return "", detail(ErrInvalidPatch, "missing %q member", name)
	}
	if v.Kind() != jsontree.String {
		return "", detail(ErrInvalidPatch, "%q member must be a string, got %s", name, v.Kind())
	}
	return v.Literal(), nil
}

// opName and pathText recover what they can of a bad operation for its error.
func opName(n *jsontree.Node) string {
	if v, ok := n.Get("op"); ok && v.Kind() == jsontree.String {
		return v.Literal()
	}
	return ""
}

func pathText(n *jsontree.Node) string {
	if v, ok := n.Get("path"); ok && v.Kind() == jsontree.String {
		return v.Literal()
	}
	return ""
}

// Apply applies patch to the JSON document doc and returns the new document
// as compact JSON (members in their order, numbers as their literals).
func Apply(doc, patch []byte) ([]byte, error) {
	p, err := Parse(patch)
	if err != nil {
		return nil, err
	}
	root, err := jsontree.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("jsonpatch: document: %w", err)
	}
	out, err := p.Apply(root)
	if err != nil {
		return nil, err
	}
	return out.AppendJSON(nil), nil
}

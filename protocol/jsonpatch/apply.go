package jsonpatch

import (
	"fmt"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Apply applies the operations in order to doc and returns the new document.
// doc itself is never modified (jsontree nodes are immutable): when an
// operation fails, Apply returns an *OpError and the caller's doc is exactly
// as it was, which makes every patch atomic. Unchanged subtrees are shared
// between doc and the result.
func (p Patch) Apply(doc *jsontree.Node) (*jsontree.Node, error) {
	if len(p) > MaxOps {
		return nil, fmt.Errorf("jsonpatch: %w: %d operations, limit %d", ErrTooManyOps, len(p), MaxOps)
	}
	root := doc
	for i := range p {
		op := &p[i]
		next, err := op.apply(root)
		if err == nil && next.Height() > jsontree.MaxDepth {
			err = detail(ErrTooDeep, "height %d, limit %d", next.Height(), jsontree.MaxDepth)
		}
		if err != nil {
			return nil, &OpError{Index: i, Op: op.Op.String(), Path: op.Path.String(), Err: err}
		}
		root = next
	}
	return root, nil
}

func (o *Operation) apply(root *jsontree.Node) (*jsontree.Node, error) {
	switch o.Op {
	case OpAdd:
		return add(root, o.Path, o.Value)
	case OpRemove:
		return remove(root, o.Path)
	case OpReplace:
		return replace(root, o.Path, o.Value)
	case OpMove:
		if o.From.equal(o.Path) {
			_, err := get(root, o.From)
			return root, err
		}
		if o.From.isProperPrefixOf(o.Path) {
			return nil, detail(ErrMoveIntoChild, "from %q", truncate(o.From.String()))
		}
		v, err := get(root, o.From)
		if err != nil {
			return nil, fmt.Errorf("from: %w", err)
		}
		if root, err = remove(root, o.From); err != nil {
			return nil, fmt.Errorf("from: %w", err)
		}
		return add(root, o.Path, v)
	case OpCopy:
		// Sharing the node is a deep copy: nodes are immutable, so no later
		// operation can change one place through the other.
		v, err := get(root, o.From)
		if err != nil {
			return nil, fmt.Errorf("from: %w", err)
		}
		return add(root, o.Path, v)
	case OpTest:
		v, err := get(root, o.Path)
		if err != nil {
			return nil, err
		}
		if !jsontree.Equal(v, o.Value) {
			return nil, detail(ErrTestFailed, "value differs")
		}
		return root, nil
	default:
		return nil, detail(ErrInvalidPatch, "unknown op %v", o.Op)
	}
}

func add(root *jsontree.Node, path Pointer, v *jsontree.Node) (*jsontree.Node, error) {
	if path.IsRoot() {
		return v, nil
	}
	return modify(root, path.tokens, func(parent *jsontree.Node, last string) (*jsontree.Node, error) {
		switch parent.Kind() {
		case jsontree.Object:
			return parent.ObjectSet(last, v), nil
		case jsontree.Array:
			i, err := arrayIndex(last, parent.Len(), true)
			if err != nil {
				return nil, err
			}
			return parent.ArrayInsert(i, v), nil
		}
		return nil, detail(ErrNotContainer, "cannot add %q to a %s", truncate(last), parent.Kind())
	})
}

func remove(root *jsontree.Node, path Pointer) (*jsontree.Node, error) {
	if path.IsRoot() {
		return nil, ErrRemoveRoot
	}
	return modify(root, path.tokens, func(parent *jsontree.Node, last string) (*jsontree.Node, error) {
		switch parent.Kind() {
		case jsontree.Object:
			next, ok := parent.ObjectRemove(last)
			if !ok {
				return nil, detail(ErrNotFound, "no member %q", truncate(last))
			}
			return next, nil
		case jsontree.Array:
			i, err := arrayIndex(last, parent.Len(), false)
			if err != nil {
				return nil, err
			}
			return parent.ArrayRemove(i), nil
		}
		return nil, detail(ErrNotContainer, "cannot remove %q from a %s", truncate(last), parent.Kind())
	})
}

func replace(root *jsontree.Node, path Pointer, v *jsontree.Node) (*jsontree.Node, error) {
	if path.IsRoot() {
		return v, nil
	}
	return modify(root, path.tokens, func(parent *jsontree.Node, last string) (*jsontree.Node, error) {
		switch parent.Kind() {
		case jsontree.Object:
			if _, ok := parent.Get(last); !ok {
				return nil, detail(ErrNotFound, "no member %q", truncate(last))
			}
			return parent.ObjectSet(last, v), nil
		case jsontree.Array:
			i, err := arrayIndex(last, parent.Len(), false)
			if err != nil {
				return nil, err
			}
			return parent.ArraySet(i, v), nil
		}
		return nil, detail(ErrNotContainer, "cannot replace %q in a %s", truncate(last), parent.Kind())
	})
}

// get returns the value path names.
func get(root *jsontree.Node, path Pointer) (*jsontree.Node, error) {
	n := root
	for _, tok := range path.tokens {
		child, err := child(n, tok)
		if err != nil {
			return nil, err
		}
		n = child
	}
	return n, nil
}

// child returns the member or element tok of n.
func child(n *jsontree.Node, tok string) (*jsontree.Node, error) {
	switch n.Kind() {
	case jsontree.Object:
		v, ok := n.Get(tok)
		if !ok {
			return nil, detail(ErrNotFound, "no member %q", truncate(tok))
		}
		return v, nil
	case jsontree.Array:
		i, err := arrayIndex(tok, n.Len(), false)
		if err != nil {
			return nil, err
		}
		return n.Index(i), nil
	}
	return nil, detail(ErrNotContainer, "%q inside a %s", truncate(tok), n.Kind())
}

// modify rebuilds the path to the parent of the last token, letting change
// produce the new parent; every container on the path is copied, everything
// else is shared.
func modify(n *jsontree.Node, tokens []string, change func(parent *jsontree.Node, last string) (*jsontree.Node, error)) (*jsontree.Node, error) {
	if len(tokens) == 1 {
		return change(n, tokens[0])
	}
	c, err := child(n, tokens[0])
	if err != nil {
		return nil, err
	}
	nc, err := modify(c, tokens[1:], change)
	if err != nil {
		return nil, err
	}
	if n.Kind() == jsontree.Object {
		return n.ObjectSet(tokens[0], nc), nil
	}
	i, _ := arrayIndex(tokens[0], n.Len(), false) // validated by child
	return n.ArraySet(i, nc), nil
}

// arrayIndex reads an RFC 6901 array index: "0" or a digit string without a
// leading zero, below length; with appendOK also "-" or length itself, which
// name the position after the last element.
func arrayIndex(tok string, length int, appendOK bool) (int, error) {
	if tok == "-" {
		if appendOK {
			return length, nil
		}
		return 0, detail(ErrInvalidIndex, "\"-\" names no existing element")
	}
	if tok == "" || (len(tok) > 1 && tok[0] == '0') {
		return 0, detail(ErrInvalidIndex, "%q", truncate(tok))
	}
	limit := length - 1
	if appendOK {
		limit = length
	}
	i := 0
	for j := 0; j < len(tok); j++ {
		c := tok[j]
		if c < '0' || c > '9' {
			return 0, detail(ErrInvalidIndex, "%q", truncate(tok))
		}
		if i > limit {
			continue // keep validating the syntax; the range error follows
		}
		i = i*10 + int(c-'0')
	}
	if i > limit {
		return 0, detail(ErrIndexOutOfRange, "index %s, length %d", truncate(tok), length)
	}
	return i, nil
}

// Package jsontree is an immutable JSON document tree that keeps every number
// as the literal that arrived.
//
// DashStream hashes a run's state over its canonical JSON, with numbers
// written exactly as received (see protocol/statehash). Decoding numbers into
// float64 would turn a Rust producer's 1.0 into 1 and round integers above
// 2^53, so the consumer would hash different text than the producer and report
// false corruption. A Node therefore stores a number as its literal text and
// never converts it.
//
// Nodes are immutable: the update methods (ArraySet, ArrayInsert, ArrayRemove,
// ObjectSet, ObjectRemove) return a new node and share every unchanged child
// with the original. A patch is thus atomic for free (on error the caller
// still holds the old root), several versions of a state can be kept for time
// travel at the cost of the changed paths only, and a tree may be read from
// several goroutines at once.
//
// Parse is strict (RFC 8259): duplicate object keys, invalid UTF-8, lone
// surrogate escapes, trailing data and nesting deeper than MaxDepth are
// errors. Every tree satisfies Height() <= MaxDepth when built by Parse, and
// callers that grow trees (protocol/jsonpatch) check the same bound, so any
// tree can be written and parsed back.
package jsontree

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting Parse accepts: a scalar has height 1, [1]
// has height 2. serde_json stops at 128; browsers accept more, so we leave
// generous room while keeping recursion bounded.
const MaxDepth = 1000

// Kind is the JSON type of a Node.
type Kind uint8

// The JSON kinds.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"null", "boolean", "number", "string", "array", "object"}

// String returns the JSON name of the kind ("null", "boolean", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// Node is one immutable JSON value. The zero Node is not valid; nodes come
// from Parse, the constructors, or the update methods.
type Node struct {
	kind   Kind
	height uint32
	// text is the decoded value of a String, the literal of a Number, and
	// "true"/"false" for a Bool.
	text string
	// elems holds array elements, or object member values in member order.
	elems []*Node
	obj   *objectKeys
}

// objectKeys holds the member names of an object. It is shared between
// versions of an object whose set of names did not change.
type objectKeys struct {
	names []string
	// sorted lists member indices in ascending byte order of their names:
	// the canonical order, and the order Get searches.
	sorted []int32
}

var (
	nullNode  = &Node{kind: Null, height: 1, text: "null"}
	trueNode  = &Node{kind: Bool, height: 1, text: "true"}
	falseNode = &Node{kind: Bool, height: 1, text: "false"}
	emptyKeys = &objectKeys{}
)

// NullNode returns the JSON null.
func NullNode() *Node { return nullNode }

// BoolNode returns true or false.
func BoolNode(b bool) *Node {
	if b {
		return trueNode
	}
	return falseNode
}

// NumberNode returns a number with literal lit, which must match the JSON
// number grammar; lit is kept exactly.
func NumberNode(lit string) (*Node, error) {
	if !ValidNumber(lit) {
		return nil, &SyntaxError{Err: ErrInvalidNumber, Detail: quoteDetail(lit)}
	}
	return &Node{kind: Number, height: 1, text: lit}, nil
}

// StringNode returns a string node; s must be valid UTF-8 (otherwise the
// SyntaxError's Offset is the first invalid byte of s).
func StringNode(s string) (*Node, error) {
	if !utf8.ValidString(s) {
		return nil, &SyntaxError{Err: ErrInvalidUTF8, Offset: invalidUTF8At([]byte(s))}
	}
	return &Node{kind: String, height: 1, text: s}, nil
}

// EmptyArray returns [].
func EmptyArray() *Node { return &Node{kind: Array, height: 1} }

// EmptyObject returns {}.
func EmptyObject() *Node { return &Node{kind: Object, height: 1, obj: emptyKeys} }

// Kind returns the node's JSON type.
func (n *Node) Kind() Kind { return n.kind }

// Height returns 1 for a scalar or an empty container, and 1 + the largest
// child height otherwise.
func (n *Node) Height() int { return int(n.height) }

// Len returns the number of elements of an array or members of an object,
// and 0 for scalars.
func (n *Node) Len() int { return len(n.elems) }

// Literal returns the text of a scalar: the number literal as received, the
// decoded string value, "true", "false" or "null". It is "" for containers.
func (n *Node) Literal() string { return n.text }

// Index returns element i of an array. It panics if n is not an array or i is
// out of range, like a slice index.
func (n *Node) Index(i int) *Node {
	n.must(Array)
	return n.elems[i]
}

// Member returns the name and value of member i of an object, in the order
// members arrived (new members are appended). It panics if n is not an object
// or i is out of range.
func (n *Node) Member(i int) (string, *Node) {
	n.must(Object)
	return n.obj.names[i], n.elems[i]
}

// SortedMember returns member i of an object in ascending byte order of
// names, the order of canonical JSON.
func (n *Node) SortedMember(i int) (string, *Node) {
	n.must(Object)
	j := n.obj.sorted[i]
	return n.obj.names[j], n.elems[j]
}

// Get returns the value of member name of an object. ok is false when n is
// not an object or has no such member.
func (n *Node) Get(name string) (v *Node, ok bool) {
	if n.kind != Object {
		return nil, false
	}
	if i, found := n.find(name); found {
		return n.elems[n.obj.sorted[i]], true
	}
	return nil, false
}

// find returns the position in n.obj.sorted where name is or would be.
func (n *Node) find(name string) (int, bool) {
	names := n.obj.names
	return slices.BinarySearchFunc(n.obj.sorted, name, func(idx int32, name string) int {
		return strings.Compare(names[idx], name)
	})
}

func (n *Node) must(k Kind) {
	if n.kind != k {
		panic("jsontree: " + k.String() + " operation on " + n.kind.String())
	}
}

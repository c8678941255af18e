package redact

import (
	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Tree returns n with String applied to every string value at any depth.
// Member names are left alone (they are structure, not content, and a
// consumer's patches address them). Unchanged subtrees are shared with n,
// and when nothing changed Tree returns n itself.
func Tree(n *jsontree.Node) *jsontree.Node {
	return TreeReusing(n, nil, nil)
}

// TreeReusing is Tree for a document that is a new version of prevIn, whose
// redacted form was prevOut: a subtree of n that is the same node as the
// subtree of prevIn at the same place is not walked again, and its redacted
// form is taken from prevOut. A producer whose state is kept as a jsontree
// and updated through its methods thus redacts each new version in time
// proportional to what changed. prevIn and prevOut may be nil.
func TreeReusing(n, prevIn, prevOut *jsontree.Node) *jsontree.Node {
	if prevIn != nil && n == prevIn && prevOut != nil {
		return prevOut
	}
	switch n.Kind() {
	case jsontree.String:
		lit := n.Literal()
		red := String(lit)
		if red == lit {
			return n
		}
		// String keeps valid UTF-8 valid: a match is a run of whole runes
		// and every marker is ASCII.
		out, err := jsontree.StringNode(red)
		if err != nil {
			return n
		}
		return out
	case jsontree.Array:
		out := n
		samePrev := prevIn != nil && prevOut != nil && prevIn.Kind() == jsontree.Array && prevOut.Kind() == jsontree.Array && prevIn.Len() == prevOut.Len()
		for i := range n.Len() {
			child := n.Index(i)
			var pi, po *jsontree.Node
			if samePrev && i < prevIn.Len() {
				pi, po = prevIn.Index(i), prevOut.Index(i)
			}
			red := TreeReusing(child, pi, po)
			if red != child {
				out = out.ArraySet(i, red)
			}
		}
		return out
	case jsontree.Object:
		out := n
		samePrev := prevIn != nil && prevOut != nil && prevIn.Kind() == jsontree.Object && prevOut.Kind() == jsontree.Object
		for i := range n.Len() {
			name, child := n.Member(i)
			var pi, po *jsontree.Node
			if samePrev {
				pi, _ = prevIn.Get(name)
				po, _ = prevOut.Get(name)
			}
			red := TreeReusing(child, pi, po)
			if red != child {
				out = out.ObjectSet(name, red)
			}
		}
		return out
	}
	return n
}

package jsontree

import "slices"

// The update methods never modify their receiver: each returns a new node
// that shares every unchanged child, so the cost is the size of the changed
// container, not of the document. Like slice indexing, they panic on a wrong
// kind or an index out of range; validate first (protocol/jsonpatch does).

// ArraySet returns a copy of array n with element i replaced by v.
func (n *Node) ArraySet(i int, v *Node) *Node {
	n.must(Array)
	elems := slices.Clone(n.elems)
	elems[i] = v
	return &Node{kind: Array, height: heightOf(elems), elems: elems}
}

// ArrayInsert returns a copy of array n with v inserted before element i;
// i == n.Len() appends.
func (n *Node) ArrayInsert(i int, v *Node) *Node {
	n.must(Array)
	elems := make([]*Node, 0, len(n.elems)+1)
	elems = append(elems, n.elems[:i]...)
	elems = append(elems, v)
	elems = append(elems, n.elems[i:]...)
	return &Node{kind: Array, height: max(n.height, v.height+1), elems: elems}
}

// ArrayRemove returns a copy of array n without element i.
func (n *Node) ArrayRemove(i int) *Node {
	n.must(Array)
	elems := slices.Delete(slices.Clone(n.elems), i, i+1)
	return &Node{kind: Array, height: heightOf(elems), elems: elems}
}

// ObjectSet returns a copy of object n where member name has value v: an
// existing member keeps its position, a new one is appended.
func (n *Node) ObjectSet(name string, v *Node) *Node {
	n.must(Object)
	pos, found := n.find(name)
	if found {
		elems := slices.Clone(n.elems)
		elems[n.obj.sorted[pos]] = v
		return &Node{kind: Object, height: heightOf(elems), elems: elems, obj: n.obj}
	}
	count := len(n.elems)
	keys := &objectKeys{
		names:  append(slices.Clip(n.obj.names), name),
		sorted: slices.Insert(slices.Clone(n.obj.sorted), pos, int32(count)),
	}
	elems := append(slices.Clip(n.elems), v)
	return &Node{kind: Object, height: max(n.height, v.height+1), elems: elems, obj: keys}
}

// ObjectRemove returns a copy of object n without member name, and false
// (with n itself) if there is no such member.
func (n *Node) ObjectRemove(name string) (*Node, bool) {
	n.must(Object)
	pos, found := n.find(name)
	if !found {
		return n, false
	}
	j := n.obj.sorted[pos]
	if len(n.elems) == 1 {
		return EmptyObject(), true
	}
	sorted := make([]int32, 0, len(n.obj.sorted)-1)
	for _, idx := range n.obj.sorted {
		switch {
		case idx < j:
			sorted = append(sorted, idx)
		case idx > j:
			sorted = append(sorted, idx-1)
		}
	}
	keys := &objectKeys{
		names:  slices.Delete(slices.Clone(n.obj.names), int(j), int(j)+1),
		sorted: sorted,
	}
	elems := slices.Delete(slices.Clone(n.elems), int(j), int(j)+1)
	return &Node{kind: Object, height: heightOf(elems), elems: elems, obj: keys}, true
}

// heightOf returns the height of a container holding elems.
func heightOf(elems []*Node) uint32 {
	h := uint32(0)
	for _, e := range elems {
		h = max(h, e.height)
	}
	return h + 1
}

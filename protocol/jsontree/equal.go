package jsontree

// Equal reports whether a and b are the same JSON value: numbers compare by
// exact decimal value (1 equals 1.0), objects regardless of member order,
// arrays element by element. This is the equality of RFC 6902 "test".
func Equal(a, b *Node) bool {
	if a == b {
		return true
	}
	if a.kind != b.kind || len(a.elems) != len(b.elems) {
		return false
	}
	switch a.kind {
	case Number:
		return a.text == b.text || CompareNumbers(a.text, b.text) == 0
	case Array:
		for i := range a.elems {
			if !Equal(a.elems[i], b.elems[i]) {
				return false
			}
		}
		return true
	case Object:
		// Walk both in name order: equal objects list the same names there.
		for i := range a.elems {
			an, av := a.SortedMember(i)
			bn, bv := b.SortedMember(i)
			if an != bn || !Equal(av, bv) {
				return false
			}
		}
		return true
	default:
		return a.text == b.text
	}
}

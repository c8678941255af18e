package viewmodel

import (
	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
)

// DiffRow is one operation of the change shown by the diff viewer.
type DiffRow struct {
	// Op is "add", "remove" or "replace" (what jsonpatch.Diff emits).
	Op   string
	Path string
	// Value is the new value and Old the one it replaced or removed, as
	// compact JSON with number literals as received.
	Value, Old string
}

// DiffRows returns the operations turning before into after, at most max
// of them (and the total). before nil means the state was created.
func DiffRows(before, after *jsontree.Node, max, valueLimit int) ([]DiffRow, int) {
	if after == nil {
		return nil, 0
	}
	if before == nil {
		return []DiffRow{{Op: "add", Path: "", Value: CompactJSON(after, valueLimit)}}, 1
	}
	patch := jsonpatch.Diff(before, after)
	doc := before
	var rows []DiffRow
	for _, op := range patch {
		// Old values are read from the document as the earlier operations
		// left it, because array removals shift indices.
		if len(rows) < max {
			row := DiffRow{Op: op.Op.String(), Path: op.Path.String(), Value: CompactJSON(op.Value, valueLimit)}
			if op.Op == jsonpatch.OpRemove || op.Op == jsonpatch.OpReplace {
				row.Old = CompactJSON(lookup(doc, op.Path.Tokens()), valueLimit)
			}
			rows = append(rows, row)
		}
		if next, err := (jsonpatch.Patch{op}).Apply(doc); err == nil {
			doc = next
		}
	}
	return rows, len(patch)
}

// lookup follows pointer tokens, nil when a step is missing.
func lookup(n *jsontree.Node, tokens []string) *jsontree.Node {
	for _, t := range tokens {
		if n == nil {
			return nil
		}
		switch n.Kind() {
		case jsontree.Object:
			c, ok := n.Get(t)
			if !ok {
				return nil
			}
			n = c
		case jsontree.Array:
			i := 0
			for _, ch := range t {
				if ch < '0' || ch > '9' {
					return nil
				}
				i = i*10 + int(ch-'0')
				if i > n.Len() {
					return nil
				}
			}
			if t == "" || i >= n.Len() {
				return nil
			}
			n = n.Index(i)
		default:
			return nil
		}
	}
	return n
}

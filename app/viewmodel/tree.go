package viewmodel

import (
	"strconv"
	"strings"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// TreeRow is one visible line of the collapsible state tree.
type TreeRow struct {
	// Path is the value's JSON pointer ("" for the root); it keys the
	// expansion state.
	Path  string
	Depth int
	// Key is the member name or array index ("" for the root).
	Key string
	// Kind is "object", "array", "string", "number", "boolean" or "null";
	// "more" for the line standing for hidden children.
	Kind string
	// Preview is the value as shown: a number's literal exactly as it
	// arrived, a quoted (possibly cut) string, or a size for containers.
	Preview    string
	Expandable bool
	Expanded   bool
	// Changed: the change at the shown sequence touched this value.
	Changed bool
	// More counts the hidden children of a "more" line.
	More int
}

// TreeOptions bounds the tree so only what can be read is rendered.
type TreeOptions struct {
	// Open reports whether the container at path (at depth) is expanded;
	// nil opens the root and its direct children only.
	Open func(path string, depth int) bool
	// Changed lists the paths the shown change touched.
	Changed []string
	// ChildLimit is how many children a container shows (default 50);
	// RowLimit the total rows (default 400).
	ChildLimit, RowLimit int
	// StringLimit cuts long strings (default 160 characters).
	StringLimit int
}

// DefaultOpen opens the top two levels.
func DefaultOpen(_ string, depth int) bool { return depth < 2 }

// TreeRows flattens the visible part of a state tree into rows.
func TreeRows(root *jsontree.Node, opt TreeOptions) []TreeRow {
	if root == nil {
		return nil
	}
	if opt.Open == nil {
		opt.Open = DefaultOpen
	}
	if opt.ChildLimit <= 0 {
		opt.ChildLimit = 50
	}
	if opt.RowLimit <= 0 {
		opt.RowLimit = 400
	}
	if opt.StringLimit <= 0 {
		opt.StringLimit = 160
	}
	var rows []TreeRow
	var walk func(n *jsontree.Node, path, key string, depth int) bool
	walk = func(n *jsontree.Node, path, key string, depth int) bool {
		if len(rows) >= opt.RowLimit {
			return false
		}
		row := TreeRow{Path: path, Depth: depth, Key: key, Kind: n.Kind().String(), Changed: touched(path, opt.Changed)}
		switch n.Kind() {
		case jsontree.Object, jsontree.Array:
			row.Expandable = n.Len() > 0
			row.Expanded = row.Expandable && opt.Open(path, depth)
			row.Preview = sizeOf(n)
		default:
			row.Preview = Preview(n, opt.StringLimit)
		}
		rows = append(rows, row)
		if !row.Expanded {
			return true
		}
		shown := min(n.Len(), opt.ChildLimit)
		for i := range shown {
			var k string
			var child *jsontree.Node
			if n.Kind() == jsontree.Object {
				k, child = n.Member(i)
			} else {
				k, child = strconv.Itoa(i), n.Index(i)
			}
			if !walk(child, path+"/"+escapePointer(k), k, depth+1) {
				return false
			}
		}
		if hidden := n.Len() - shown; hidden > 0 && len(rows) < opt.RowLimit {
			rows = append(rows, TreeRow{Path: path + "/…", Depth: depth + 1, Kind: "more", More: hidden,
				Preview: "… " + strconv.Itoa(hidden) + " more"})
		}
		return true
	}
	walk(root, "", "", 0)
	return rows
}

// Preview writes a scalar as shown (numbers as their literal), or a
// container's size.
func Preview(n *jsontree.Node, limit int) string {
	switch n.Kind() {
	case jsontree.String:
		return strconv.Quote(Truncate(n.Literal(), limit))
	case jsontree.Object, jsontree.Array:
		return sizeOf(n)
	}
	return string(n.AppendJSON(nil))
}

// CompactJSON writes a value as compact JSON, cut at limit characters.
func CompactJSON(n *jsontree.Node, limit int) string {
	if n == nil {
		return ""
	}
	return Truncate(string(n.AppendJSON(nil)), limit)
}

func sizeOf(n *jsontree.Node) string {
	if n.Kind() == jsontree.Object {
		return Plural(n.Len(), "key", "keys")
	}
	return Plural(n.Len(), "item", "items")
}

// Plural counts n things: "1 node", "3 nodes".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// escapePointer escapes a member name as a JSON pointer token (RFC 6901).
func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// touched reports whether a change at one of the paths touched path: the
// path itself, an ancestor of it (the whole subtree was replaced) or a
// descendant (something inside changed).
func touched(path string, changed []string) bool {
	for _, c := range changed {
		switch {
		case c == path:
			return true
		case c == "":
			// A change of the whole state marks the root only: marking
			// every row would hide what the highlight is for.
		case strings.HasPrefix(path, c+"/"), strings.HasPrefix(c, path+"/"):
			return true
		}
	}
	return false
}

package jsonpatch

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// Diff returns a patch that turns from into to: Diff(from, to).Apply(from)
// has the canonical JSON of to, every number and string literal included, so
// it has to's state hash. (Only the order of members may differ: members new
// in to are added in byte order of their names, and neither RFC 6902 nor the
// canonical form looks at member order.)
//
// The operations are those the upstream producer's generator (the json-patch
// crate 3.x) emits, so a Go producer sends the patches a Rust one would:
//
//   - object vs object: the new object's members in ascending byte order of
//     their names (a member in both is compared recursively, a new one gives
//     add with its whole value), then a remove for each old member, in byte
//     order, that the new object lacks;
//   - array vs array, by index without any search for moves: elements in both
//     are compared recursively; surplus old elements give remove at the same
//     shifted index (remove /3, remove /3, ...); surplus new elements give add
//     at their explicit index, never "-";
//   - anything else: nothing when equal, otherwise replace with the whole new
//     value (replace "" when the root changes type).
//
// Two scalars are equal only when their text is identical: 1 and 1.0 differ
// (jsontree.Equal would call them equal), because the state hash covers
// number literals, so the consumer must receive the new literal. Subtrees
// that to shares with from (the same *jsontree.Node) are skipped without
// being walked, which makes diffing two versions of a state that was updated
// through jsontree's methods cost the size of the change.
//
// Operation values share to's nodes. Diff does not check consumer limits:
// call Patch.CheckLimits before sending the result.
func Diff(from, to *jsontree.Node) Patch {
	d := differ{}
	d.diff(from, to)
	return d.patch
}

// differ holds the path to the value being compared as a stack of segments
// and turns it into a Pointer only when it emits an operation, so walking
// unchanged members costs no allocation.
type differ struct {
	path  []segment
	patch Patch
}

// segment is one step of a path: a member name, or an array index.
type segment struct {
	name  string
	index int
	isIdx bool
}

func (d *differ) diff(from, to *jsontree.Node) {
	if from == to {
		return
	}
	fk, tk := from.Kind(), to.Kind()
	switch {
	case fk == jsontree.Object && tk == jsontree.Object:
		d.diffObject(from, to)
	case fk == jsontree.Array && tk == jsontree.Array:
		d.diffArray(from, to)
	case fk != tk || from.Literal() != to.Literal():
		d.emit(OpReplace, to)
	}
}

func (d *differ) diffObject(from, to *jsontree.Node) {
	// Both member lists are walked in byte order of names, in step, so a
	// member is matched without a search.
	nf, nt := from.Len(), to.Len()
	j := 0
	for i := range nt {
		name, tv := to.SortedMember(i)
		for j < nf && sortedName(from, j) < name {
			j++
		}
		d.push(segment{name: name})
		if j < nf && sortedName(from, j) == name {
			_, fv := from.SortedMember(j)
			d.diff(fv, tv)
		} else {
			d.emit(OpAdd, tv)
		}
		d.pop()
	}
	j = 0
	for i := range nf {
		name := sortedName(from, i)
		for j < nt && sortedName(to, j) < name {
			j++
		}
		if j < nt && sortedName(to, j) == name {
			continue
		}
		d.push(segment{name: name})
		d.emit(OpRemove, nil)
		d.pop()
	}
}

func sortedName(n *jsontree.Node, i int) string {
	name, _ := n.SortedMember(i)
	return name
}

func (d *differ) diffArray(from, to *jsontree.Node) {
	nf, nt := from.Len(), to.Len()
	shift := 0
	for i := range max(nf, nt) {
		switch {
		case i < nf && i < nt:
			d.push(segment{index: i - shift, isIdx: true})
			d.diff(from.Index(i), to.Index(i))
		case i < nf:
			d.push(segment{index: i - shift, isIdx: true})
			d.emit(OpRemove, nil)
			shift++
		default:
			d.push(segment{index: i, isIdx: true})
			d.emit(OpAdd, to.Index(i))
		}
		d.pop()
	}
}

func (d *differ) push(s segment) { d.path = append(d.path, s) }
func (d *differ) pop()           { d.path = d.path[:len(d.path)-1] }

// emit appends an operation on the current path.
func (d *differ) emit(op Op, value *jsontree.Node) {
	d.patch = append(d.patch, Operation{Op: op, Path: d.pointer(), Value: value})
}

// pointer materialises the current path as an RFC 6901 pointer.
func (d *differ) pointer() Pointer {
	if len(d.path) == 0 {
		return Pointer{}
	}
	tokens := make([]string, len(d.path))
	var b strings.Builder
	for i, s := range d.path {
		tok := s.name
		if s.isIdx {
			tok = strconv.Itoa(s.index)
		}
		tokens[i] = tok
		b.WriteByte('/')
		if strings.ContainsAny(tok, "~/") {
			b.WriteString(escapePointerToken(tok))
		} else {
			b.WriteString(tok)
		}
	}
	return Pointer{text: b.String(), tokens: tokens}
}

// escapePointerToken writes a reference token as RFC 6901 requires: "~" as
// "~0", then "/" as "~1".
func escapePointerToken(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// CheckLimits reports whether consumers will accept p: at most MaxOps
// operations, no pointer longer than MaxPathChars characters, and no
// __proto__, constructor or prototype segment (the upstream UI refuses such a
// patch and marks the run corrupted, M-710, M-1101). Patches built by Parse
// or FromDiffOperations always pass; one built by Diff may not, and a
// producer then sends the full state instead. The error wraps ErrTooManyOps,
// ErrPathTooLong or ErrForbiddenSegment.
func (p Patch) CheckLimits() error {
	if len(p) > MaxOps {
		return fmt.Errorf("jsonpatch: %w: %d operations, limit %d", ErrTooManyOps, len(p), MaxOps)
	}
	for i := range p {
		for _, ptr := range []Pointer{p[i].Path, p[i].From} {
			if n := utf8.RuneCountInString(ptr.text); n > MaxPathChars {
				return &OpError{Index: i, Op: p[i].Op.String(), Path: p[i].Path.text,
					Err: detail(ErrPathTooLong, "%d characters, limit %d", n, MaxPathChars)}
			}
			for _, tok := range ptr.tokens {
				if slices.Contains(forbiddenSegments, tok) {
					return &OpError{Index: i, Op: p[i].Op.String(), Path: p[i].Path.text,
						Err: detail(ErrForbiddenSegment, "%q", tok)}
				}
			}
		}
	}
	return nil
}

// AppendJSON appends p as a JSON Patch document, in the compact form the
// upstream producer measures when it weighs a patch against the full state
// ([{"op":"replace","path":"/a","value":1},...]): members op, path, then from
// or value.
func (p Patch) AppendJSON(dst []byte) []byte {
	dst = append(dst, '[')
	for i := range p {
		o := &p[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"op":"`...)
		dst = append(dst, o.Op.String()...)
		dst = append(dst, `","path":`...)
		dst = jsontree.AppendQuoted(dst, o.Path.text)
		switch o.Op {
		case OpMove, OpCopy:
			dst = append(dst, `,"from":`...)
			dst = jsontree.AppendQuoted(dst, o.From.text)
		case OpAdd, OpReplace, OpTest:
			dst = append(dst, `,"value":`...)
			if o.Value == nil {
				dst = append(dst, "null"...)
			} else {
				dst = o.Value.AppendJSON(dst)
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

package jsontree

import (
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Parse reads one JSON value, optionally surrounded by whitespace. It returns
// a *SyntaxError for anything RFC 8259 does not allow and for duplicate keys,
// invalid UTF-8, lone surrogate escapes and nesting deeper than MaxDepth.
//
// String values and number literals without escapes share the memory of one
// copy of data, made up front: a parse costs a handful of allocations however
// many strings the document holds, and a node keeps that copy alive as long
// as it lives.
func Parse(data []byte) (*Node, error) {
	p := parser{data: data, src: string(data)}
	p.skipSpace()
	n, err := p.value(1)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, p.fail(ErrTrailingData, "")
	}
	return n, nil
}

type parser struct {
	data []byte
	// src is a copy of data as a string; unescaped strings and number
	// literals are substrings of it.
	src string
	pos int
	// Scratch stacks shared by all containers of one parse, so that
	// collecting children does not grow a fresh slice per container.
	kids  []*Node
	names []string
	buf   []byte
	// Chunks that nodes and container slices are carved from.
	slab      []Node
	elemSlab  []*Node
	nameSlab  []string
	orderSlab []int32
	keySlab   []objectKeys
}

// The parser allocates in chunks: nodes, and the slices and key indexes of
// containers, are carved from arrays sized to what the remaining input can
// hold (a node takes at least two bytes of JSON but for the last), up to 64
// nodes or 256 slice elements at a time. A large document costs a few
// allocations per hundred values, and a tiny one, as every patch operation's
// value is, costs about one node and pins no large chunk in the tree that
// adopts it. Carved slices have no spare capacity, so the update methods,
// which copy before they change anything, can never write into a neighbour.

func (p *parser) chunk(limit int) int { return min(limit, (len(p.data)-p.pos)/2+1) }

func (p *parser) node() *Node {
	if len(p.slab) == 0 {
		p.slab = make([]Node, p.chunk(64))
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	return n
}

func (p *parser) carveElems(src []*Node) []*Node {
	if len(src) > cap(p.elemSlab)-len(p.elemSlab) {
		p.elemSlab = make([]*Node, 0, max(len(src), p.chunk(256)))
	}
	start := len(p.elemSlab)
	p.elemSlab = append(p.elemSlab, src...)
	return p.elemSlab[start:len(p.elemSlab):len(p.elemSlab)]
}

func (p *parser) carveNames(src []string) []string {
	if len(src) > cap(p.nameSlab)-len(p.nameSlab) {
		p.nameSlab = make([]string, 0, max(len(src), p.chunk(256)))
	}
	start := len(p.nameSlab)
	p.nameSlab = append(p.nameSlab, src...)
	return p.nameSlab[start:len(p.nameSlab):len(p.nameSlab)]
}

func (p *parser) carveOrder(n int) []int32 {
	if n > cap(p.orderSlab)-len(p.orderSlab) {
		p.orderSlab = make([]int32, 0, max(n, p.chunk(256)))
	}
	start := len(p.orderSlab)
	for i := range n {
		p.orderSlab = append(p.orderSlab, int32(i))
	}
	return p.orderSlab[start:len(p.orderSlab):len(p.orderSlab)]
}

func (p *parser) keys() *objectKeys {
	if len(p.keySlab) == 0 {
		p.keySlab = make([]objectKeys, p.chunk(16))
	}
	k := &p.keySlab[0]
	p.keySlab = p.keySlab[1:]
	return k
}

func (p *parser) fail(err error, detail string) *SyntaxError {
	return &SyntaxError{Offset: p.pos, Err: err, Detail: detail}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value reads the value at nesting depth (1 for the document itself); a
// value deeper than MaxDepth is an error, so a tree's height never exceeds it.
func (p *parser) value(depth int) (*Node, error) {
	if depth > MaxDepth {
		return nil, p.fail(ErrTooDeep, "")
	}
	if p.pos >= len(p.data) {
		return nil, p.fail(ErrUnexpectedEnd, "")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		n := p.node()
		*n = Node{kind: String, height: 1, text: s}
		return n, nil
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true", trueNode)
	case c == 'f':
		return p.literal("false", falseNode)
	case c == 'n':
		return p.literal("null", nullNode)
	default:
		return nil, p.fail(ErrSyntax, "unexpected "+quoteDetail(string(rune(c))))
	}
}

func (p *parser) literal(word string, n *Node) (*Node, error) {
	end := p.pos + len(word)
	if end > len(p.data) {
		if strings.HasPrefix(word, string(p.data[p.pos:])) {
			return nil, p.fail(ErrUnexpectedEnd, "")
		}
		return nil, p.fail(ErrSyntax, "invalid literal")
	}
	if string(p.data[p.pos:end]) != word {
		return nil, p.fail(ErrSyntax, "invalid literal")
	}
	p.pos = end
	return n, nil
}

func (p *parser) number() (*Node, error) {
	start := p.pos
	end, ok := scanNumber(p.data, start)
	if !ok {
		p.pos = end
		if end >= len(p.data) {
			return nil, p.fail(ErrUnexpectedEnd, "in number")
		}
		return nil, p.fail(ErrInvalidNumber, quoteDetail(string(p.data[start:end+1])))
	}
	p.pos = end
	n := p.node()
	*n = Node{kind: Number, height: 1, text: p.src[start:end]}
	return n, nil
}

func (p *parser) array(depth int) (*Node, error) {
	p.pos++ // [
	base := len(p.kids)
	height := uint32(0)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
	} else {
		for {
			p.skipSpace()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			height = max(height, v.height)
			p.kids = append(p.kids, v)
			p.skipSpace()
			if p.pos >= len(p.data) {
				return nil, p.fail(ErrUnexpectedEnd, "in array")
			}
			c := p.data[p.pos]
			p.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				p.pos--
				return nil, p.fail(ErrSyntax, "expected ',' or ']' in array")
			}
		}
	}
	n := p.node()
	*n = Node{kind: Array, height: height + 1}
	if len(p.kids) > base {
		n.elems = p.carveElems(p.kids[base:])
		clear(p.kids[base:])
		p.kids = p.kids[:base]
	}
	return n, nil
}

func (p *parser) object(depth int) (*Node, error) {
	start := p.pos
	p.pos++ // {
	base := len(p.kids)
	height := uint32(0)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
	} else {
		for {
			p.skipSpace()
			if p.pos >= len(p.data) {
				return nil, p.fail(ErrUnexpectedEnd, "in object")
			}
			if p.data[p.pos] != '"' {
				return nil, p.fail(ErrSyntax, "expected a string key")
			}
			name, err := p.str()
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			if p.pos >= len(p.data) {
				return nil, p.fail(ErrUnexpectedEnd, "in object")
			}
			if p.data[p.pos] != ':' {
				return nil, p.fail(ErrSyntax, "expected ':' after key")
			}
			p.pos++
			p.skipSpace()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			height = max(height, v.height)
			p.names = append(p.names, name)
			p.kids = append(p.kids, v)
			p.skipSpace()
			if p.pos >= len(p.data) {
				return nil, p.fail(ErrUnexpectedEnd, "in object")
			}
			c := p.data[p.pos]
			p.pos++
			if c == '}' {
				break
			}
			if c != ',' {
				p.pos--
				return nil, p.fail(ErrSyntax, "expected ',' or '}' in object")
			}
		}
	}
	n := p.node()
	*n = Node{kind: Object, height: height + 1, obj: emptyKeys}
	if count := len(p.kids) - base; count > 0 {
		nbase := len(p.names) - count
		keys := p.keys()
		keys.names = p.carveNames(p.names[nbase:])
		keys.sorted = p.carveOrder(count)
		sortByName(keys.sorted, keys.names)
		for i := 1; i < count; i++ {
			if keys.names[keys.sorted[i]] == keys.names[keys.sorted[i-1]] {
				return nil, &SyntaxError{Offset: start, Err: ErrDuplicateKey, Detail: quoteDetail(keys.names[keys.sorted[i]])}
			}
		}
		n.obj = keys
		n.elems = p.carveElems(p.kids[base:])
		clear(p.kids[base:])
		p.kids = p.kids[:base]
		clear(p.names[nbase:])
		p.names = p.names[:nbase]
	}
	return n, nil
}

// sortByName orders member indices by name bytes: insertion sort for the
// small objects that make up most documents, the library sort otherwise.
func sortByName(order []int32, names []string) {
	if len(order) > 12 {
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(names[a], names[b]) })
		return
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && names[order[j]] < names[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

// str reads a string starting at the opening quote and returns its value.
func (p *parser) str() (string, error) {
	data := p.data
	start := p.pos + 1
	ascii := true
	for i := start; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			raw := data[start:i]
			if !ascii && !utf8.Valid(raw) {
				p.pos = start + invalidUTF8At(raw)
				return "", p.fail(ErrInvalidUTF8, "in string")
			}
			p.pos = i + 1
			return p.src[start:i], nil
		case c == '\\':
			return p.strEscaped(start, i)
		case c < 0x20:
			p.pos = i
			return "", p.fail(ErrControlCharacter, "")
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	p.pos = len(data)
	return "", p.fail(ErrUnexpectedEnd, "in string")
}

// strEscaped continues str from the first backslash at i.
func (p *parser) strEscaped(start, i int) (string, error) {
	data := p.data
	buf := p.buf[:0]
	runStart := start
	flush := func(end int) error {
		raw := data[runStart:end]
		if !utf8.Valid(raw) {
			p.pos = runStart + invalidUTF8At(raw)
			return p.fail(ErrInvalidUTF8, "in string")
		}
		buf = append(buf, raw...)
		return nil
	}
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			if err := flush(i); err != nil {
				return "", err
			}
			p.pos = i + 1
			p.buf = buf
			return string(buf), nil
		case c < 0x20:
			p.pos = i
			return "", p.fail(ErrControlCharacter, "")
		case c != '\\':
			i++
			continue
		}
		if err := flush(i); err != nil {
			return "", err
		}
		if i+1 >= len(data) {
			p.pos = len(data)
			return "", p.fail(ErrUnexpectedEnd, "in string escape")
		}
		esc := data[i+1]
		i += 2
		switch esc {
		case '"', '\\', '/':
			buf = append(buf, esc)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, next, err := p.unicodeEscape(i - 2)
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
			i = next
		default:
			p.pos = i - 2
			return "", p.fail(ErrInvalidEscape, quoteDetail(`\`+string(rune(esc))))
		}
		runStart = i
	}
	p.pos = len(data)
	return "", p.fail(ErrUnexpectedEnd, "in string")
}

// unicodeEscape decodes \uXXXX at at, joining a surrogate pair; it returns the
// rune and the offset after the escape(s).
func (p *parser) unicodeEscape(at int) (rune, int, error) {
	r, ok := hex4(p.data, at+2)
	if !ok {
		p.pos = at
		if at+6 > len(p.data) {
			return 0, 0, p.fail(ErrUnexpectedEnd, "in \\u escape")
		}
		return 0, 0, p.fail(ErrInvalidEscape, quoteDetail(string(p.data[at:at+6])))
	}
	next := at + 6
	if !utf16.IsSurrogate(r) {
		return r, next, nil
	}
	if r >= 0xDC00 { // a low surrogate with no high one before it
		p.pos = at
		return 0, 0, p.fail(ErrLoneSurrogate, quoteDetail(string(p.data[at:next])))
	}
	if next+1 < len(p.data) && p.data[next] == '\\' && p.data[next+1] == 'u' {
		if lo, ok := hex4(p.data, next+2); ok && 0xDC00 <= lo && lo <= 0xDFFF {
			return utf16.DecodeRune(r, lo), next + 6, nil
		}
	}
	p.pos = at
	return 0, 0, p.fail(ErrLoneSurrogate, quoteDetail(string(p.data[at:next])))
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// invalidUTF8At returns the offset of the first invalid byte of b.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

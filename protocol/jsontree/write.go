package jsontree

// AppendJSON appends the compact JSON text of n: no whitespace, object
// members in member order, numbers as their literal, strings escaped by
// AppendQuoted.
func (n *Node) AppendJSON(dst []byte) []byte {
	switch n.kind {
	case String:
		return AppendQuoted(dst, n.text)
	case Array:
		dst = append(dst, '[')
		for i, e := range n.elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.AppendJSON(dst)
		}
		return append(dst, ']')
	case Object:
		dst = append(dst, '{')
		for i, e := range n.elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendQuoted(dst, n.obj.names[i])
			dst = append(dst, ':')
			dst = e.AppendJSON(dst)
		}
		return append(dst, '}')
	default:
		return append(dst, n.text...)
	}
}

// MarshalJSON returns the compact JSON text of n.
func (n *Node) MarshalJSON() ([]byte, error) { return n.AppendJSON(nil), nil }

// String returns the compact JSON text of n.
func (n *Node) String() string { return string(n.AppendJSON(nil)) }

// AppendQuoted appends s as a JSON string with the escaping of DashStream's
// canonical form (the serde_json and JSON.stringify rule): '"' and '\' are
// escaped; control characters below 0x20 become \b \f \n \r \t or \u00xx
// with lowercase hex; everything else, including '/', DEL, U+2028 and
// U+2029, is written as raw UTF-8. s must be valid UTF-8 (every string in a
// tree is).
func AppendQuoted(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

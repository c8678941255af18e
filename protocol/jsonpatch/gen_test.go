package jsonpatch

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Random documents and patches for the differential and property tests.
// Tokens and values are drawn from small sets full of edge cases, so that
// generated paths often hit existing members, array bounds and the index
// syntax corners.

var (
	genKeys        = []string{"a", "b", "c", "0", "1", "-", "", "~", "/", "a/b", "m~n", "é", "__proto__"}
	genIndexTokens = []string{"0", "1", "2", "3", "-", "01", "00", "+1", "-1", " 1", "1 ", "1e0", "0x1", "1.0", "18446744073709551616", "99999999999999999999999"}
	genScalars     = []string{"null", "true", "false", "0", "-0", "1", "1.0", "1e0", "12345678901234567890", "12345678901234567891", "0.1", `""`, `"x"`, `"1"`, `"é😀"`}
)

func genValue(r *rand.Rand, depth int) string {
	if depth <= 0 || r.IntN(3) == 0 {
		return genScalars[r.IntN(len(genScalars))]
	}
	n := r.IntN(4)
	if r.IntN(2) == 0 {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = genValue(r, depth-1)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	seen := map[string]bool{}
	var parts []string
	for range n {
		k := genKeys[r.IntN(len(genKeys)-1)] // documents never hold __proto__
		if seen[k] {
			continue
		}
		seen[k] = true
		parts = append(parts, fmt.Sprintf("%q:%s", k, genValue(r, depth-1)))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func escapeToken(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

func genPointer(r *rand.Rand) string {
	n := 1 + r.IntN(3)
	if r.IntN(12) == 0 {
		n = 0 // the root, now and then
	}
	var b strings.Builder
	for range n {
		b.WriteByte('/')
		if r.IntN(2) == 0 {
			b.WriteString(genIndexTokens[r.IntN(len(genIndexTokens))])
		} else {
			b.WriteString(escapeToken(genKeys[r.IntN(len(genKeys))]))
		}
	}
	return b.String()
}

func genPatch(r *rand.Rand) string {
	ops := []string{"add", "remove", "replace", "move", "copy", "test"}
	n := 1 + r.IntN(3)
	parts := make([]string, n)
	for i := range parts {
		op := ops[r.IntN(len(ops))]
		s := fmt.Sprintf(`{"op":%q,"path":%q`, op, genPointer(r))
		switch op {
		case "move", "copy":
			s += fmt.Sprintf(`,"from":%q`, genPointer(r))
		case "add", "replace", "test":
			s += `,"value":` + genValue(r, 2)
		}
		parts[i] = s + "}"
	}
	return "[" + strings.Join(parts, ",") + "]"
}

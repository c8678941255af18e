package jsontree

import (
	"errors"
	"runtime"
	"testing"
)

func mustParse(t testing.TB, s string) *Node {
	t.Helper()
	n, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return n
}

func TestEqual(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":[1,2]}`, `{"b":[1.0,2e0],"a":1}`, true},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`{"a":1}`, `{"b":1}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`[]`, `{}`, false},
		{`null`, `null`, true},
		{`true`, `false`, false},
		{`"1"`, `1`, false},
		{`"a"`, `"a"`, true},
		{`12345678901234567890`, `12345678901234567891`, false},
		{`{"x":{"y":{"z":[null,true,"s",-0]}}}`, `{"x":{"y":{"z":[null,true,"s",0]}}}`, true},
	}
	for _, c := range cases {
		if got := Equal(mustParse(t, c.a), mustParse(t, c.b)); got != c.want {
			t.Errorf("Equal(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestUpdate_NeverModifiesTheReceiver(t *testing.T) {
	orig := `{"a":[1,2,3],"b":{"c":true,"d":null},"e":"x"}`
	root := mustParse(t, orig)
	a, _ := root.Get("a")
	b, _ := root.Get("b")
	five := mustParse(t, "5")

	steps := map[string]func() *Node{
		"ArraySet":     func() *Node { return a.ArraySet(1, five) },
		"ArrayInsert":  func() *Node { return a.ArrayInsert(0, five) },
		"ArrayAppend":  func() *Node { return a.ArrayInsert(3, five) },
		"ArrayRemove":  func() *Node { return a.ArrayRemove(2) },
		"ObjectSetNew": func() *Node { return b.ObjectSet("z", five) },
		"ObjectSetOld": func() *Node { return b.ObjectSet("c", five) },
		"ObjectRemove": func() *Node { n, _ := b.ObjectRemove("c"); return n },
		"RootSet":      func() *Node { return root.ObjectSet("a", five) },
	}
	want := map[string]string{
		"ArraySet":     `[1,5,3]`,
		"ArrayInsert":  `[5,1,2,3]`,
		"ArrayAppend":  `[1,2,3,5]`,
		"ArrayRemove":  `[1,2]`,
		"ObjectSetNew": `{"c":true,"d":null,"z":5}`,
		"ObjectSetOld": `{"c":5,"d":null}`,
		"ObjectRemove": `{"d":null}`,
		"RootSet":      `{"a":5,"b":{"c":true,"d":null},"e":"x"}`,
	}
	for name, step := range steps {
		if got := step().String(); got != want[name] {
			t.Errorf("%s gave %s, want %s", name, got, want[name])
		}
		if got := root.String(); got != orig {
			t.Fatalf("%s modified the original: %s", name, got)
		}
	}
}

func TestUpdate_ObjectIndexStaysSortedThroughChanges(t *testing.T) {
	n := EmptyObject()
	names := []string{"m", "c", "x", "a", "é", "b", "z", "A"}
	for i, name := range names {
		v, _ := NumberNode(string(rune('0' + i)))
		n = n.ObjectSet(name, v)
	}
	n, _ = n.ObjectRemove("x")
	n, _ = n.ObjectRemove("A")
	if _, ok := n.ObjectRemove("nope"); ok {
		t.Error("removing a missing member reported success")
	}
	if got, want := n.String(), `{"m":0,"c":1,"a":3,"é":4,"b":5,"z":6}`; got != want {
		t.Errorf("member order %s, want %s", got, want)
	}
	var prev string
	for i := range n.Len() {
		name, v := n.SortedMember(i)
		if i > 0 && name <= prev {
			t.Errorf("sorted view out of order: %q after %q", name, prev)
		}
		if got, ok := n.Get(name); !ok || got != v {
			t.Errorf("Get(%q) disagrees with the sorted view", name)
		}
		prev = name
	}
	if n2, _ := EmptyObject().ObjectSet("a", NullNode()).ObjectRemove("a"); n2.String() != "{}" {
		t.Errorf("removing the only member gave %s", n2)
	}
}

func TestUpdate_HeightTracksDeepestChild(t *testing.T) {
	root := mustParse(t, `{"shallow":1,"deep":[[[1]]]}`)
	if root.Height() != 5 {
		t.Fatalf("height %d, want 5", root.Height())
	}
	shrunk := root.ObjectSet("deep", NullNode())
	if shrunk.Height() != 2 {
		t.Errorf("after replacing the deep member: height %d, want 2", shrunk.Height())
	}
	removed, _ := root.ObjectRemove("deep")
	if removed.Height() != 2 {
		t.Errorf("after removing the deep member: height %d, want 2", removed.Height())
	}
	arr := mustParse(t, `[1,[2,[3]]]`)
	if h := arr.ArrayRemove(1).Height(); h != 2 {
		t.Errorf("array after removing the deep element: height %d, want 2", h)
	}
	if h := arr.ArrayInsert(0, root).Height(); h != 6 {
		t.Errorf("array after inserting a deep value: height %d, want 6", h)
	}
}

func TestAppendQuoted_CanonicalEscaping(t *testing.T) {
	cases := map[string]string{
		"plain":        `"plain"`,
		`q"b\`:         `"q\"b\\"`,
		"\b\f\n\r\t":   `"\b\f\n\r\t"`,
		"\x00\x01\x1f": `"\u0000\u0001\u001f"`,
		"\x7f":         "\"\x7f\"",
		"/</>&":        `"/</>&"`,
		"\u2028\u2029": "\"\u2028\u2029\"",
		"é😀":           `"é😀"`,
		"\x1a\x0b\x0e": `"\u001a\u000b\u000e"`,
	}
	for in, want := range cases {
		if got := string(AppendQuoted(nil, in)); got != want {
			t.Errorf("AppendQuoted(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAccessors_PanicOnWrongKind(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Index on an object did not panic")
		}
	}()
	mustParse(t, `{}`).Index(0)
}

func TestConstructors(t *testing.T) {
	var se *SyntaxError
	if _, err := StringNode("ab\xffc"); !errors.As(err, &se) || !errors.Is(err, ErrInvalidUTF8) || se.Offset != 2 {
		t.Errorf("StringNode(invalid UTF-8) = %v, want ErrInvalidUTF8 at offset 2", err)
	}
	s, err := StringNode("ok")
	if err != nil || s.String() != `"ok"` {
		t.Errorf("StringNode(ok) = %v, %v", s, err)
	}
	if BoolNode(true).String() != "true" || BoolNode(false).String() != "false" || NullNode().String() != "null" {
		t.Error("scalar constructors wrote the wrong text")
	}
	if EmptyArray().String() != "[]" || EmptyObject().String() != "{}" {
		t.Error("empty containers wrote the wrong text")
	}
	if Kind(99).String() != "invalid" || Object.String() != "object" {
		t.Error("Kind names")
	}
}

func TestParse_SmallValuesDoNotPinLargeSlabs(t *testing.T) {
	// Patch values are parsed one by one and kept in the state tree for a
	// long time: a one-byte value must cost about one node, not a slab.
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Parse([]byte("7")); err != nil {
			t.Fatal(err)
		}
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		Parse([]byte("7"))
	}
	runtime.ReadMemStats(&after)
	if perValue := (after.TotalAlloc - before.TotalAlloc) / 100; perValue > 128 || allocs > 3 {
		t.Errorf("parsing a one-byte number allocates %d bytes in %.0f allocations", perValue, allocs)
	}
}

package jsonpatch

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dashstream/dashstream/protocol/internal/fixture"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/statehash"
)

func mustParse(t testing.TB, s string) *jsontree.Node {
	t.Helper()
	n, err := jsontree.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return n
}

// TestDiff_EmitsTheUpstreamOperations pins the operation list, operation by
// operation, to the upstream generator's algorithm (producer note §5.2).
func TestDiff_EmitsTheUpstreamOperations(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		want     string
	}{
		{"identical documents give an empty patch", `{"a":[1,{"b":null}]}`, `{"a":[1,{"b":null}]}`, `[]`},
		{"the upstream example: replace a counter, add at an explicit index",
			`{"counter":5,"messages":["Hello"]}`, `{"counter":6,"messages":["Hello","World"]}`,
			`[{"op":"replace","path":"/counter","value":6},{"op":"add","path":"/messages/1","value":"World"}]`},
		{"adds and replaces in byte order of new names, then removes in byte order",
			`{"c":1,"b":1,"a":1}`, `{"d":1,"a":2}`,
			`[{"op":"replace","path":"/a","value":2},{"op":"add","path":"/d","value":1},{"op":"remove","path":"/b"},{"op":"remove","path":"/c"}]`},
		{"a shrinking array removes repeatedly at the shifted index",
			`[1,2,3,4]`, `[1]`,
			`[{"op":"remove","path":"/1"},{"op":"remove","path":"/1"},{"op":"remove","path":"/1"}]`},
		{"a growing array adds at explicit indices, never -",
			`[1]`, `[1,2,3]`,
			`[{"op":"add","path":"/1","value":2},{"op":"add","path":"/2","value":3}]`},
		{"arrays compare by index without looking for moves",
			`["a","b"]`, `["b","a"]`,
			`[{"op":"replace","path":"/0","value":"b"},{"op":"replace","path":"/1","value":"a"}]`},
		{"1 and 1.0 differ: the hash covers literals", `{"score":1}`, `{"score":1.0}`,
			`[{"op":"replace","path":"/score","value":1.0}]`},
		{"-0 and 0 differ", `[0]`, `[-0]`, `[{"op":"replace","path":"/0","value":-0}]`},
		{"a big integer keeps every digit", `{"id":12345678901234567890}`, `{"id":12345678901234567891}`,
			`[{"op":"replace","path":"/id","value":12345678901234567891}]`},
		{"a type change replaces the whole value", `{"a":{"b":1}}`, `{"a":[1]}`,
			`[{"op":"replace","path":"/a","value":[1]}]`},
		{"the string \"1\" is not the number 1", `["1"]`, `[1]`, `[{"op":"replace","path":"/0","value":1}]`},
		{"a root type change replaces \"\"", `{"a":1}`, `[1]`, `[{"op":"replace","path":"","value":[1]}]`},
		{"a root scalar change replaces \"\"", `true`, `false`, `[{"op":"replace","path":"","value":false}]`},
		{"names are escaped as RFC 6901 says; the empty name is /",
			`{"a/b":1,"m~n":1,"":1}`, `{"a/b":2,"m~n":2,"":2}`,
			`[{"op":"replace","path":"/","value":2},{"op":"replace","path":"/a~1b","value":2},{"op":"replace","path":"/m~0n","value":2}]`},
		{"names sort by UTF-8 bytes (z before é)", `{}`, `{"é":1,"z":2}`,
			`[{"op":"add","path":"/z","value":2},{"op":"add","path":"/é","value":1}]`},
		{"nested changes carry the full path",
			`{"messages":[{"role":"user","content":"hi"}],"n":{"x":{"y":true}}}`,
			`{"messages":[{"role":"user","content":"hé 東京 😀"}],"n":{"x":{"y":false,"z":null}}}`,
			`[{"op":"replace","path":"/messages/0/content","value":"hé 東京 😀"},{"op":"replace","path":"/n/x/y","value":false},{"op":"add","path":"/n/x/z","value":null}]`},
		{"array elements that are objects recurse, surplus ones go",
			`[{"a":1},{"a":2},{"a":3}]`, `[{"a":1},{"a":5}]`,
			`[{"op":"replace","path":"/1/a","value":5},{"op":"remove","path":"/2"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := mustParse(t, tt.from), mustParse(t, tt.to)
			p := Diff(from, to)
			if got := string(p.AppendJSON(nil)); got != tt.want {
				t.Fatalf("Diff(%s, %s)\n got %s\nwant %s", tt.from, tt.to, got, tt.want)
			}
			assertReaches(t, from, to, p)
		})
	}
}

// TestDiff_UpstreamExampleSizes checks the sizes the upstream note gives for
// its example, which decide between a patch and a full state.
func TestDiff_UpstreamExampleSizes(t *testing.T) {
	from := mustParse(t, `{"counter":5,"messages":["Hello"]}`)
	to := mustParse(t, `{"counter":6,"messages":["Hello","World"]}`)
	if got := len(Diff(from, to).AppendJSON(nil)); got != 96 {
		t.Errorf("patch size %d, upstream measures 96", got)
	}
	if got := len(to.AppendJSON(nil)); got != 42 {
		t.Errorf("state size %d, upstream measures 42", got)
	}
}

// TestDiff_SharedSubtreesAreNotWalked: a subtree that to shares with from is
// skipped by pointer, so a change deep in a big state costs its path only.
func TestDiff_SharedSubtreesAreNotWalked(t *testing.T) {
	from := mustParse(t, string(fixture.State(20_000)))
	msgs, _ := from.Get("messages")
	newMsg := mustParse(t, `{"id":1,"score":1.0}`)
	to := from.ObjectSet("messages", msgs.ArraySet(3, newMsg))
	p := Diff(from, to)
	want := `[{"op":"replace","path":"/messages/3/id","value":1}`
	if got := string(p.AppendJSON(nil)); !strings.HasPrefix(got, want) {
		t.Fatalf("got %s, want a patch starting %s", got, want)
	}
	assertReaches(t, from, to, p)
	if p := Diff(to, to); len(p) != 0 {
		t.Fatalf("a document diffed with itself gave %d operations", len(p))
	}
	allocs := testing.AllocsPerRun(20, func() { Diff(from, from) })
	if allocs != 0 {
		t.Fatalf("diffing a tree with itself allocated %v times", allocs)
	}
}

// TestDiff_ReachesTargetForRandomPairs is the property test: for random pairs
// (related by random edits, and unrelated), applying Diff(a, b) to a gives a
// document whose canonical JSON, literals included, is b's.
func TestDiff_ReachesTargetForRandomPairs(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := range 5000 {
		a := mustParse(t, genValue(r, 4))
		var b *jsontree.Node
		if i%4 == 0 {
			b = mustParse(t, genValue(r, 4))
		} else {
			b = mutate(r, a, 1+r.IntN(4))
		}
		p := Diff(a, b)
		assertReaches(t, a, b, p)
		// The wire forms round-trip to the same effect.
		if p.CheckLimits() == nil {
			parsed, err := Parse(p.AppendJSON(nil))
			if err != nil {
				t.Fatalf("patch %s does not parse back: %v", p.AppendJSON(nil), err)
			}
			assertReaches(t, a, b, parsed)
			fromOps, err := FromDiffOperations(p.ToDiffOperations())
			if err != nil {
				t.Fatalf("DiffOperations of %s do not convert back: %v", p.AppendJSON(nil), err)
			}
			assertReaches(t, a, b, fromOps)
		}
	}
}

// assertReaches fails unless p applied to from gives to, literal for literal.
func assertReaches(t *testing.T, from, to *jsontree.Node, p Patch) {
	t.Helper()
	got, err := p.Apply(from)
	if err != nil {
		t.Fatalf("patch %s does not apply to %s: %v", p.AppendJSON(nil), from, err)
	}
	if g, w := statehash.CanonicalizeTree(got), statehash.CanonicalizeTree(to); string(g) != string(w) {
		t.Fatalf("from %s, patch %s\n gives %s\n want  %s", from, p.AppendJSON(nil), g, w)
	}
}

// mutate returns n with k random edits made through jsontree's update
// methods, so the result shares its untouched subtrees with n.
func mutate(r *rand.Rand, n *jsontree.Node, k int) *jsontree.Node {
	for range k {
		n = mutateOnce(r, n, 0)
	}
	return n
}

func mutateOnce(r *rand.Rand, n *jsontree.Node, depth int) *jsontree.Node {
	newValue := func() *jsontree.Node {
		v, err := jsontree.Parse([]byte(genValue(r, 2)))
		if err != nil {
			panic(err)
		}
		return v
	}
	switch n.Kind() {
	case jsontree.Object:
		if n.Len() > 0 && r.IntN(3) > 0 {
			name, v := n.Member(r.IntN(n.Len()))
			switch r.IntN(4) {
			case 0:
				out, _ := n.ObjectRemove(name)
				return out
			case 1:
				return n.ObjectSet(name, newValue())
			default:
				return n.ObjectSet(name, mutateOnce(r, v, depth+1))
			}
		}
		return n.ObjectSet(genKeys[r.IntN(len(genKeys)-1)], newValue())
	case jsontree.Array:
		if n.Len() > 0 && r.IntN(3) > 0 {
			i := r.IntN(n.Len())
			switch r.IntN(4) {
			case 0:
				return n.ArrayRemove(i)
			case 1:
				return n.ArraySet(i, newValue())
			default:
				return n.ArraySet(i, mutateOnce(r, n.Index(i), depth+1))
			}
		}
		return n.ArrayInsert(r.IntN(n.Len()+1), newValue())
	case jsontree.Number:
		// The same value under another literal must still be sent.
		if lit := n.Literal(); !strings.ContainsAny(lit, ".eE") && r.IntN(2) == 0 {
			v, _ := jsontree.NumberNode(lit + ".0")
			return v
		}
	}
	return newValue()
}

// TestPatch_CheckLimits: what consumers refuse is reported with the right
// cause; everything else passes.
func TestPatch_CheckLimits(t *testing.T) {
	long := strings.Repeat("x", MaxPathChars)
	manyOps := mustParse(t, "["+strings.TrimSuffix(strings.Repeat("0,", MaxOps+1), ",")+"]")
	tests := []struct {
		name     string
		from, to *jsontree.Node
		want     error
	}{
		{"an ordinary patch passes", mustParse(t, `{"a":1}`), mustParse(t, `{"a":2,"b":[]}`), nil},
		{"a __proto__ member is refused", mustParse(t, `{}`), mustParse(t, `{"__proto__":{"x":1}}`), ErrForbiddenSegment},
		{"a constructor member deep down is refused", mustParse(t, `{"a":{"constructor":1}}`), mustParse(t, `{"a":{"constructor":2}}`), ErrForbiddenSegment},
		{"a prototype member being removed is refused", mustParse(t, `{"prototype":1}`), mustParse(t, `{}`), ErrForbiddenSegment},
		{"a path of exactly MaxPathChars passes", mustParse(t, `{}`), mustParse(t, `{"`+long[:MaxPathChars-1]+`":1}`), nil},
		{"a path over MaxPathChars is refused", mustParse(t, `{}`), mustParse(t, `{"`+long+`":1}`), ErrPathTooLong},
		{"characters, not bytes, are counted", mustParse(t, `{}`), mustParse(t, `{"`+strings.Repeat("é", MaxPathChars-1)+`":1}`), nil},
		{"more than MaxOps operations are refused", mustParse(t, `[]`), manyOps, ErrTooManyOps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Diff(tt.from, tt.to).CheckLimits()
			if tt.want == nil && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestPatch_AppendJSON_WritesEveryOperationKind covers move, copy and test,
// which Diff never emits but a Patch may hold.
func TestPatch_AppendJSON_WritesEveryOperationKind(t *testing.T) {
	src := `[{"op":"move","path":"/b","from":"/a"},{"op":"copy","path":"/c","from":"/b"},{"op":"test","path":"/c","value":{"x":1.0}},{"op":"remove","path":"/c"}]`
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.AppendJSON(nil)); got != src {
		t.Fatalf("got  %s\nwant %s", got, src)
	}
}

// FuzzDiff: for any two JSON documents, Diff never panics and its patch
// takes the first to the second, literal for literal; when consumers accept
// it, its JSON and DiffOperation forms parse back to the same effect.
func FuzzDiff(f *testing.F) {
	seeds := [][2]string{
		{`{"counter":5,"messages":["Hello"]}`, `{"counter":6,"messages":["Hello","World"]}`},
		{`{"a":1}`, `{"a":1.0}`},
		{`[1,2,3,4]`, `[1]`},
		{`{"a":{"b":[1,{"c":null}]}}`, `["x"]`},
		{`{"a/b":{"m~n":""}}`, `{"a/b":{"m~n":"é"}}`},
		{`{"__proto__":1}`, `{"__proto__":2}`},
		{`12345678901234567890`, `12345678901234567891`},
		{`{"z":1,"é":2,"":3}`, `{"":[],"y":{}}`},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, aBytes, bBytes []byte) {
		a, err := jsontree.Parse(aBytes)
		if err != nil {
			return
		}
		b, err := jsontree.Parse(bBytes)
		if err != nil {
			return
		}
		p := Diff(a, b)
		assertReaches(t, a, b, p)
		if p.CheckLimits() != nil {
			return
		}
		parsed, err := Parse(p.AppendJSON(nil))
		if err != nil {
			t.Fatalf("patch %s does not parse back: %v", p.AppendJSON(nil), err)
		}
		assertReaches(t, a, b, parsed)
		fromOps, err := FromDiffOperations(p.ToDiffOperations())
		if err != nil {
			t.Fatalf("DiffOperations do not convert back: %v", err)
		}
		assertReaches(t, a, b, fromOps)
	})
}

// Diffing a ~100 KB state after a 10-operation change, the work a producer
// does at each node (bench10Changes: counters, an appended message, a plan
// step, scores, a removed element). Shared: the new state was made with the
// tree's update methods, as a producer that keeps its state as a tree does
// (unchanged subtrees are skipped by pointer). Reparsed: the new state
// arrives as fresh bytes, so every member is compared. InsertShift: the
// fixture's Patch10, whose insert at /messages/1 shifts every later message,
// which an index-based diff (upstream's algorithm) turns into a replace per
// changed member of every shifted element.

const bench10Changes = `[
{"op":"replace","path":"/run/step","value":8},
{"op":"add","path":"/messages/-","value":{"id":100000,"role":"assistant","content":"Summary ready.","tokens":42,"score":1.0}},
{"op":"replace","path":"/messages/3/content","value":"revised: 東京 ✓"},
{"op":"replace","path":"/plan/4/done","value":true},
{"op":"replace","path":"/scores/accuracy","value":0.9375},
{"op":"add","path":"/scores/confidence","value":0.75},
{"op":"remove","path":"/tool_results/search/last/hits/0"},
{"op":"replace","path":"/scratchpad/notes","value":"next: write the report"},
{"op":"add","path":"/scratchpad/summary","value":{"words":120,"ok":true}},
{"op":"remove","path":"/scratchpad/iteration"}
]`

func BenchmarkDiff100KB10Changes(b *testing.B) {
	from, to := diffBenchPair(b, bench10Changes)
	benchDiff(b, from, to)
}

func BenchmarkDiff100KB10Changes_Reparsed(b *testing.B) {
	from, to := diffBenchPair(b, bench10Changes)
	benchDiff(b, from, mustParse(b, to.String()))
}

func BenchmarkDiff100KB10Changes_InsertShift(b *testing.B) {
	from, to := diffBenchPair(b, fixture.Patch10)
	benchDiff(b, from, to)
}

func benchDiff(b *testing.B, from, to *jsontree.Node) {
	b.ReportAllocs()
	var ops int
	for b.Loop() {
		ops = len(Diff(from, to))
	}
	b.ReportMetric(float64(ops), "ops")
}

func diffBenchPair(b *testing.B, patch string) (from, to *jsontree.Node) {
	from = mustParse(b, string(fixture.State(100_000)))
	p, err := Parse([]byte(patch))
	if err != nil {
		b.Fatal(err)
	}
	if to, err = p.Apply(from); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(from.AppendJSON(nil))))
	return from, to
}

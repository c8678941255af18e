package statehash

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

func mustParse(t testing.TB, s string) *jsontree.Node {
	t.Helper()
	n, err := jsontree.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var (
	mutScalars = []string{`1`, `1.0`, `-0.0`, `12345678901234567890`, `"x"`, `"é \"q\" \u0001 東京"`, `null`, `true`, `false`, `""`}
	mutKeys    = []string{"a", "b", "messages", "z", "é", "😀", "｡", "", "a\"b", "long_key_" + strings.Repeat("k", 40)}
)

// mutValue returns a random value; about one in four is a container
// large enough to be remembered by a chain.
func mutValue(r *rand.Rand, depth int) *jsontree.Node {
	if depth <= 0 || r.IntN(3) > 0 {
		if r.IntN(6) == 0 {
			n, _ := jsontree.StringNode(strings.Repeat("v", 40+r.IntN(100)))
			return n
		}
		n, _ := jsontree.Parse([]byte(mutScalars[r.IntN(len(mutScalars))]))
		return n
	}
	if r.IntN(2) == 0 {
		v := jsontree.EmptyArray()
		for i := range r.IntN(5) {
			v = v.ArrayInsert(i, mutValue(r, depth-1))
		}
		return v
	}
	v := jsontree.EmptyObject()
	for range r.IntN(5) {
		v = v.ObjectSet(mutKeys[r.IntN(len(mutKeys))], mutValue(r, depth-1))
	}
	return v
}

// mutate returns doc with one random change somewhere along a random path:
// a member set or removed, an element set, inserted or removed, or a
// subtree of doc copied to another place (so one node appears twice).
func mutate(r *rand.Rand, doc *jsontree.Node, choose func(n int) int) *jsontree.Node {
	var pick func(n *jsontree.Node, depth int) *jsontree.Node
	pick = func(n *jsontree.Node, depth int) *jsontree.Node {
		if n.Len() == 0 || depth > 3 || choose(3) == 0 {
			return n
		}
		if n.Kind() == jsontree.Array {
			return pick(n.Index(choose(n.Len())), depth+1)
		}
		_, v := n.Member(choose(n.Len()))
		return pick(v, depth+1)
	}
	var change func(n *jsontree.Node, depth int) *jsontree.Node
	change = func(n *jsontree.Node, depth int) *jsontree.Node {
		v := mutValue(r, 2)
		if choose(5) == 0 {
			v = pick(doc, 0) // a shared subtree
		}
		switch n.Kind() {
		case jsontree.Array:
			if n.Len() > 0 && depth < 4 && choose(2) == 0 {
				i := choose(n.Len())
				if c := n.Index(i); c.Kind() == jsontree.Array || c.Kind() == jsontree.Object {
					return n.ArraySet(i, change(c, depth+1))
				}
			}
			switch {
			case n.Len() > 0 && choose(3) == 0:
				return n.ArrayRemove(choose(n.Len()))
			case n.Len() > 0 && choose(2) == 0:
				return n.ArraySet(choose(n.Len()), v)
			}
			return n.ArrayInsert(choose(n.Len()+1), v)
		case jsontree.Object:
			if n.Len() > 0 && depth < 4 && choose(2) == 0 {
				name, c := n.Member(choose(n.Len()))
				if c.Kind() == jsontree.Array || c.Kind() == jsontree.Object {
					return n.ObjectSet(name, change(c, depth+1))
				}
			}
			if n.Len() > 0 && choose(4) == 0 {
				name, _ := n.Member(choose(n.Len()))
				out, _ := n.ObjectRemove(name)
				return out
			}
			return n.ObjectSet(mutKeys[choose(len(mutKeys))], v)
		}
		return v
	}
	if doc.Height() >= 12 {
		return jsontree.EmptyObject().ObjectSet("reset", mutValue(r, 2))
	}
	return change(doc, 0)
}

// The chain's hash and text are SumTree's and CanonicalizeTree's, whatever
// the history of versions: changes anywhere, shared subtrees, versions
// parsed afresh, the chain switching its subtree cache off and on.
func TestChain_EqualsSumTreeOverAHistory(t *testing.T) {
	for seed := range uint64(6) {
		r := rand.New(rand.NewPCG(seed, 77))
		var h Hasher
		h.init()
		if !h.compact {
			t.Fatal("hash states are not kept compact")
		}
		if seed%2 == 1 { // the fallback: whole saved states
			h.compact, h.midSize = false, stateSize
		}
		var c Chain
		doc := mustParse(t, `{"messages":[],"stable":{"conversation":[{"role":"user","content":"plan a search over recent filings"}]},"z":0}`)
		for v := range 300 {
			switch {
			case v%50 == 49:
				doc = mustParse(t, doc.String()) // every node new
			case v%70 == 69:
				c.NoSubtreeCache = !c.NoSubtreeCache
			default:
				doc = mutate(r, doc, r.IntN)
			}
			got := h.Sum(&c, doc)
			if want := SumTree(doc); got != want {
				t.Fatalf("seed %d version %d: %x, want %x\n%s", seed, v, got, want, doc)
			}
			if want := CanonicalizeTree(doc); !bytes.Equal(h.Text(), want) {
				t.Fatalf("seed %d version %d: text\n%s\nwant\n%s", seed, v, h.Text(), want)
			}
			if h.Bytes() != c.Bytes() {
				t.Fatalf("hasher counts %d bytes, its only chain %d", h.Bytes(), c.Bytes())
			}
		}
		if c.hits == 0 || h.resumed == 0 {
			t.Fatalf("seed %d: %d subtrees copied, %d bytes resumed", seed, c.hits, h.resumed)
		}
		h.Release(&c)
		if h.Bytes() != 0 || c.Bytes() != 0 {
			t.Fatalf("%d bytes after Release", h.Bytes())
		}
	}
}

func TestChain_ResumesFromTheSharedPrefix(t *testing.T) {
	var h Hasher
	var c Chain
	// Canonical order puts "a_long" first and "z" last: a change of "z"
	// leaves the first kilobytes of the text as they were.
	state := mustParse(t, `{"a_long":"`+strings.Repeat("x", 3000)+`","m":{"k":1.0,"pad":"`+strings.Repeat("p", 100)+`"},"z":0}`)
	cases := []struct {
		name       string
		change     func(*jsontree.Node) *jsontree.Node
		wantResume bool
	}{
		{"first pass hashes everything", func(n *jsontree.Node) *jsontree.Node { return n }, false},
		{"the same version again resumes", func(n *jsontree.Node) *jsontree.Node { return n }, true},
		{"a change at the end resumes", func(n *jsontree.Node) *jsontree.Node { return n.ObjectSet("z", mustParse(t, "1")) }, true},
		{"a change in the middle resumes", func(n *jsontree.Node) *jsontree.Node { return n.ObjectSet("m", mustParse(t, `{"k":2.50}`)) }, true},
		{"a change at the first byte does not", func(n *jsontree.Node) *jsontree.Node { return n.ObjectSet("_", mustParse(t, "null")) }, false},
		{"the text shrinking below a saved state", func(n *jsontree.Node) *jsontree.Node {
			return n.ObjectSet("a_long", mustParse(t, `"short"`))
		}, false},
		{"and growing again", func(n *jsontree.Node) *jsontree.Node {
			return n.ObjectSet("a_long", mustParse(t, `"`+strings.Repeat("y", 5000)+`"`))
		}, false},
		{"then a change at the end resumes again", func(n *jsontree.Node) *jsontree.Node { return n.ObjectSet("z", mustParse(t, "12345678901234567890")) }, true},
		{"a version parsed afresh resumes too", func(n *jsontree.Node) *jsontree.Node {
			return mustParse(t, n.ObjectSet("z", mustParse(t, "2")).String())
		}, true},
	}
	for _, tc := range cases {
		state = tc.change(state)
		before := h.resumed
		if got, want := h.Sum(&c, state), SumTree(state); got != want {
			t.Fatalf("%s: %x != %x", tc.name, got, want)
		}
		if resumed := h.resumed > before; resumed != tc.wantResume {
			t.Errorf("%s: resumed %v (%d bytes), want %v", tc.name, resumed, h.resumed-before, tc.wantResume)
		}
	}
}

// Several chains share one Hasher and its bound: none keeps more than the
// bound allows, each still hashes right, and released chains give their
// bytes back.
func TestChain_StaysWithinMaxBytes(t *testing.T) {
	h := Hasher{MaxBytes: 6000}
	chains := make([]Chain, 4)
	docs := make([]*jsontree.Node, len(chains))
	for i := range docs {
		docs[i] = mustParse(t, fmt.Sprintf(`{"id":%d,"text":"%s","list":[]}`, i, strings.Repeat("t", 1500)))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for v := range 200 {
		i := v % len(chains)
		docs[i] = mutate(r, docs[i], r.IntN)
		if got, want := h.Sum(&chains[i], docs[i]), SumTree(docs[i]); got != want {
			t.Fatalf("version %d of %d: %x != %x", v, i, got, want)
		}
		total := 0
		for j := range chains {
			total += chains[j].Bytes()
		}
		if h.Bytes() != total || total > h.MaxBytes {
			t.Fatalf("version %d: hasher counts %d, chains hold %d, bound %d", v, h.Bytes(), total, h.MaxBytes)
		}
	}
	for i := range chains {
		h.Release(&chains[i])
	}
	if h.Bytes() != 0 {
		t.Fatalf("%d bytes after releasing every chain", h.Bytes())
	}
}

// FuzzChain: any history of versions, driven by the fuzzer's bytes, hashes
// as SumTree does.
func FuzzChain(f *testing.F) {
	f.Add(`{"b":2,"a":1,"nested":{"z":"x","y":[true,null]}}`, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(`{"messages":[{"role":"user","content":"`+strings.Repeat("c", 80)+`"}],"score":1.0}`, []byte{0, 0, 0, 9, 9, 9, 200, 13})
	f.Add(`[]`, []byte{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5})
	f.Fuzz(func(t *testing.T, doc string, steps []byte) {
		root, err := jsontree.Parse([]byte(doc))
		if err != nil || len(steps) > 512 {
			return
		}
		r := rand.New(rand.NewPCG(uint64(len(doc)), uint64(len(steps))))
		i := 0
		choose := func(n int) int { // the fuzzer's bytes pick
			if n <= 1 {
				return 0
			}
			b := 0
			if i < len(steps) {
				b = int(steps[i])
			}
			i++
			return b % n
		}
		var h Hasher
		var c Chain
		for v := 0; v < 1+len(steps)/3; v++ {
			if got, want := h.Sum(&c, root), SumTree(root); got != want {
				t.Fatalf("version %d: %x != %x", v, got, want)
			}
			if root.Kind() != jsontree.Array && root.Kind() != jsontree.Object {
				return
			}
			root = mutate(r, root, choose)
		}
	})
}

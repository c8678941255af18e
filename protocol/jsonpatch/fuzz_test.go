package jsonpatch

import (
	"testing"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// FuzzApply: no input panics; a failed patch leaves the document as it was;
// a successful one yields a document that writes and parses back equal, and
// equals applying the operations one at a time.
func FuzzApply(f *testing.F) {
	seeds := [][2]string{
		{`{"a":[1,2,3]}`, `[{"op":"add","path":"/a/1","value":9}]`},
		{`{"a":[1,2,3]}`, `[{"op":"remove","path":"/a/01"}]`},
		{`{"a":{"b":1}}`, `[{"op":"move","from":"/a","path":"/a/b/c"}]`},
		{`{"a":{"b":1}}`, `[{"op":"copy","from":"/a","path":"/c"},{"op":"add","path":"/c/d","value":[]}]`},
		{`{}`, `[{"op":"add","path":"/__proto__/polluted","value":true}]`},
		{`[1.0]`, `[{"op":"test","path":"/0","value":1}]`},
		{`{"":{"~":[]}}`, `[{"op":"add","path":"//~0/-","value":"x"}]`},
		{`[]`, `[{"op":"add","path":"/18446744073709551616","value":0}]`},
		{`{"a":1}`, `[{"op":"remove","path":""}]`},
		{`0`, `[{"op":"replace","path":"","value":{"a":[{"b":null}]}}]`},
		{`{"a":1}`, `not json`},
		{`{"a":1,"a":2}`, `[]`},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, docBytes, patchBytes []byte) {
		out, err := Apply(docBytes, patchBytes)
		doc, derr := jsontree.Parse(docBytes)
		p, perr := Parse(patchBytes)
		if derr != nil || perr != nil {
			if err == nil {
				t.Fatalf("Apply succeeded on unparsable input: doc err %v, patch err %v", derr, perr)
			}
			return
		}
		before := doc.String()
		tree, terr := p.Apply(doc)
		if doc.String() != before {
			t.Fatalf("document changed: %s -> %s", before, doc)
		}
		if (err == nil) != (terr == nil) {
			t.Fatalf("Apply and Patch.Apply disagree: %v / %v", err, terr)
		}
		if err != nil {
			return
		}
		if string(out) != tree.String() {
			t.Fatalf("byte and tree results differ: %s / %s", out, tree)
		}
		back, err := jsontree.Parse(out)
		if err != nil || !jsontree.Equal(back, tree) {
			t.Fatalf("result %s does not parse back equal: %v", out, err)
		}
		step := doc
		for i := range p {
			if step, err = p[i : i+1].Apply(step); err != nil {
				t.Fatalf("op %d alone fails after the whole patch succeeded: %v", i, err)
			}
		}
		if !jsontree.Equal(step, tree) {
			t.Fatalf("one at a time gives %s, whole patch %s", step, tree)
		}
	})
}

package statehash

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// FuzzCanonicalize: no input panics; the canonical form is a fixed point,
// parses to an equal value, and Sum is SHA-256 of it, whichever API.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{
		`{"b":2,"a":1,"nested":{"z":"x","y":[true,null]}}`,
		`{"score":1.0,"big":12345678901234567890}`,
		`{"😀":1,"｡":2,"é":3,"":4}`,
		`"\u0000\u001f\u007f\u2028\/"`,
		`{"a":1,"a":2}`, `"\ud800"`, "\"\xff\"", `[1,]`, ``, `   7   `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		canon, err := Canonicalize(doc)
		sum, serr := Sum(doc)
		if (err == nil) != (serr == nil) {
			t.Fatalf("Canonicalize and Sum disagree: %v / %v", err, serr)
		}
		if err != nil {
			return
		}
		if sum != sha256.Sum256(canon) {
			t.Fatal("Sum is not SHA-256 of the canonical form")
		}
		again, err := Canonicalize(canon)
		if err != nil || !bytes.Equal(again, canon) {
			t.Fatalf("canonical form %q is not a fixed point: %q, %v", canon, again, err)
		}
		a, _ := jsontree.Parse(doc)
		b, _ := jsontree.Parse(canon)
		if !jsontree.Equal(a, b) || SumTree(a) != sum {
			t.Fatalf("canonical form %q changed the value of %q", canon, doc)
		}
	})
}

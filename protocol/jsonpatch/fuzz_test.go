package jsonpatch

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
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

// FuzzFromDiffOperations: any one DiffOperation converts without a panic; a
// RAW add is exactly the string of its bytes when they are UTF-8 and an
// ErrInvalidValue otherwise; only JSON and RAW convert at all.
func FuzzFromDiffOperations(f *testing.F) {
	f.Add(int32(0), int32(3), "/a", []byte("plain text"))
	f.Add(int32(2), int32(3), "/a", []byte{})
	f.Add(int32(0), int32(3), "/a", []byte("quote \" backslash \\ nul \x00 tab \t"))
	f.Add(int32(0), int32(3), "/a", []byte("bad \xff utf-8"))
	f.Add(int32(0), int32(3), "/a", []byte("\xed\xa0\x80"))
	f.Add(int32(5), int32(3), "/a", []byte(`{"a":1.0}`))
	f.Add(int32(0), int32(0), "/a", []byte(`{"a":1.0}`))
	f.Add(int32(0), int32(0), "/a", []byte{})
	f.Add(int32(0), int32(1), "/a", []byte{0x81, 0xa1, 0x61, 0x01})
	f.Add(int32(0), int32(2), "/a", []byte("x"))
	f.Add(int32(1), int32(99), "/a", []byte(nil))
	f.Add(int32(0), int32(3), "/__proto__", []byte("x"))
	f.Fuzz(func(t *testing.T, op, enc int32, path string, value []byte) {
		d := &pb.DiffOperation{Op: pb.DiffOperation_OpType(op), Path: path, Value: value, Encoding: pb.DiffOperation_ValueEncoding(enc)}
		p, err := FromDiffOperations([]*pb.DiffOperation{d})
		e := d.GetEncoding()
		if e != pb.DiffOperation_VALUE_ENCODING_JSON && e != pb.DiffOperation_VALUE_ENCODING_RAW {
			if op >= 0 && op <= 5 && !errors.Is(err, ErrUnsupportedEncoding) {
				t.Fatalf("encoding %d: error %v, want ErrUnsupportedEncoding", enc, err)
			}
			return
		}
		if e != pb.DiffOperation_VALUE_ENCODING_RAW || op != 0 {
			return
		}
		if _, perr := ParsePointer(path); perr != nil {
			return
		}
		if !utf8.Valid(value) {
			if !errors.Is(err, ErrInvalidValue) || !errors.Is(err, jsontree.ErrInvalidUTF8) {
				t.Fatalf("RAW %q: error %v, want ErrInvalidValue (invalid UTF-8)", value, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("RAW %q: %v", value, err)
		}
		v := p[0].Value
		if v.Kind() != jsontree.String || v.Literal() != string(value) {
			t.Fatalf("RAW %q became %v %q", value, v.Kind(), v.Literal())
		}
		back, err := jsontree.Parse([]byte(v.String()))
		if err != nil || back.Literal() != string(value) {
			t.Fatalf("RAW %q writes as %s, which does not parse back: %v", value, v, err)
		}
	})
}

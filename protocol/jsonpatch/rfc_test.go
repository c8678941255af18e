package jsonpatch

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

type applyCase struct {
	name  string
	doc   string
	patch string
	want  string // the result, when err is nil
	err   error
}

// runApplyCases checks each case through both APIs and that a failure
// leaves the document untouched.
func runApplyCases(t *testing.T, cases []applyCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, err := jsontree.Parse([]byte(c.doc))
			if err != nil {
				t.Fatalf("bad test doc: %v", err)
			}
			before := doc.String()
			out, err := Apply([]byte(c.doc), []byte(c.patch))
			p, perr := Parse([]byte(c.patch))
			var tree *jsontree.Node
			if perr == nil {
				tree, perr = p.Apply(doc)
			}
			if doc.String() != before {
				t.Fatalf("document changed to %s", doc)
			}
			if c.err != nil {
				if !errors.Is(err, c.err) || !errors.Is(perr, c.err) {
					t.Fatalf("errors %v / %v, want %v (result %s)", err, perr, c.err, out)
				}
				if out != nil || tree != nil {
					t.Fatalf("failed apply returned a document: %s / %v", out, tree)
				}
				return
			}
			if err != nil || perr != nil {
				t.Fatalf("errors %v / %v", err, perr)
			}
			if string(out) != c.want || tree.String() != c.want {
				t.Fatalf("got %s / %s, want %s", out, tree, c.want)
			}
		})
	}
}

func TestApply_ArrayAddInsertsAndShifts(t *testing.T) { // M-708
	runApplyCases(t, []applyCase{
		{"insert in the middle", `[1,2,3]`, `[{"op":"add","path":"/1","value":9}]`, `[1,9,2,3]`, nil},
		{"insert at the front", `[1,2,3]`, `[{"op":"add","path":"/0","value":9}]`, `[9,1,2,3]`, nil},
		{"index equal to length appends", `[1,2,3]`, `[{"op":"add","path":"/3","value":9}]`, `[1,2,3,9]`, nil},
		{"dash appends", `[1,2,3]`, `[{"op":"add","path":"/-","value":9}]`, `[1,2,3,9]`, nil},
		{"dash appends to empty", `{"a":[]}`, `[{"op":"add","path":"/a/-","value":{"x":1}}]`, `{"a":[{"x":1}]}`, nil},
		{"beyond length fails", `[1,2,3]`, `[{"op":"add","path":"/4","value":9}]`, "", ErrIndexOutOfRange},
		{"replace assigns", `[1,2,3]`, `[{"op":"replace","path":"/1","value":9}]`, `[1,9,3]`, nil},
		{"replace at length fails", `[1,2,3]`, `[{"op":"replace","path":"/3","value":9}]`, "", ErrIndexOutOfRange},
		{"remove shifts", `[1,2,3]`, `[{"op":"remove","path":"/0"},{"op":"remove","path":"/0"}]`, `[3]`, nil},
		{"remove at length fails", `[1,2,3]`, `[{"op":"remove","path":"/3"}]`, "", ErrIndexOutOfRange},
		{"nested insert", `{"a":{"b":[[0,2]]}}`, `[{"op":"add","path":"/a/b/0/1","value":1}]`, `{"a":{"b":[[0,1,2]]}}`, nil},
		{"patches match a snapshot", `{"m":["a","b"]}`,
			`[{"op":"add","path":"/m/1","value":"x"},{"op":"remove","path":"/m/0"},{"op":"add","path":"/m/-","value":"c"}]`,
			`{"m":["x","b","c"]}`, nil},
	})
}

func TestApply_StrictArrayIndices(t *testing.T) { // M-709
	bad := []string{"01", "00", "+1", "-1", " 1", "1 ", "1e0", "0x1", "1.0", "", "١", "1_0", "0b1", "NaN", "--"}
	var cases []applyCase
	for _, tok := range bad {
		for _, op := range []string{
			`{"op":"remove","path":"/a/%s"}`,
			`{"op":"replace","path":"/a/%s","value":0}`,
			`{"op":"add","path":"/a/%s","value":0}`,
			`{"op":"test","path":"/a/%s","value":1}`,
			`{"op":"copy","from":"/a/%s","path":"/b"}`,
			`{"op":"move","from":"/a/%s","path":"/b"}`,
			`{"op":"add","path":"/a/%s/x","value":0}`,
		} {
			patch := "[" + fmt.Sprintf(op, escapeToken(tok)) + "]"
			cases = append(cases, applyCase{patch, `{"a":[1,2,3]}`, patch, "", ErrInvalidIndex})
		}
	}
	for _, tok := range []string{"3", "4", "18446744073709551616", "99999999999999999999999999999999999999"} {
		patch := `[{"op":"remove","path":"/a/` + tok + `"}]`
		cases = append(cases, applyCase{patch, `{"a":[1,2,3]}`, patch, "", ErrIndexOutOfRange})
	}
	runApplyCases(t, cases)
}

func TestApply_DashOnlyWhereAValueIsAdded(t *testing.T) {
	runApplyCases(t, []applyCase{
		{"remove dash", `[1]`, `[{"op":"remove","path":"/-"}]`, "", ErrInvalidIndex},
		{"replace dash", `[1]`, `[{"op":"replace","path":"/-","value":2}]`, "", ErrInvalidIndex},
		{"test dash", `[1]`, `[{"op":"test","path":"/-","value":1}]`, "", ErrInvalidIndex},
		{"copy from dash", `{"a":[1],"b":0}`, `[{"op":"copy","from":"/a/-","path":"/b"}]`, "", ErrInvalidIndex},
		{"dash inside a path", `[[1]]`, `[{"op":"add","path":"/-/0","value":2}]`, "", ErrInvalidIndex},
		{"copy to dash appends", `{"a":[1],"b":2}`, `[{"op":"copy","from":"/b","path":"/a/-"}]`, `{"a":[1,2],"b":2}`, nil},
		{"move to dash appends", `{"a":[1],"b":2}`, `[{"op":"move","from":"/b","path":"/a/-"}]`, `{"a":[1,2]}`, nil},
		{"dash is a plain key in objects", `{"-":1}`, `[{"op":"replace","path":"/-","value":2}]`, `{"-":2}`, nil},
	})
}

func TestApply_ForbiddenSegmentsRejected(t *testing.T) { // M-710
	var cases []applyCase
	for _, seg := range []string{"__proto__", "constructor", "prototype"} {
		for _, patch := range []string{
			`[{"op":"add","path":"/%s/polluted","value":true}]`,
			`[{"op":"add","path":"/%s","value":{"polluted":true}}]`,
			`[{"op":"replace","path":"/a/%s","value":1}]`,
			`[{"op":"remove","path":"/a/%s"}]`,
			`[{"op":"test","path":"/%s","value":1}]`,
			`[{"op":"copy","from":"/%s","path":"/b"}]`,
			`[{"op":"move","from":"/a","path":"/x/%s"}]`,
		} {
			p := fmt.Sprintf(patch, seg)
			cases = append(cases, applyCase{p, `{"a":{"b":1}}`, p, "", ErrForbiddenSegment})
		}
	}
	// Forbidden only as a whole segment; as part of a key it is ordinary.
	cases = append(cases, applyCase{"substring is fine", `{}`, `[{"op":"add","path":"/my__proto__","value":1}]`, `{"my__proto__":1}`, nil})
	runApplyCases(t, cases)
}

func TestApply_TargetsMustExist(t *testing.T) {
	runApplyCases(t, []applyCase{
		{"remove missing member", `{"a":1}`, `[{"op":"remove","path":"/b"}]`, "", ErrNotFound},
		{"replace missing member", `{"a":1}`, `[{"op":"replace","path":"/b","value":1}]`, "", ErrNotFound},
		{"test missing member", `{"a":1}`, `[{"op":"test","path":"/b","value":null}]`, "", ErrNotFound},
		{"add under missing parent", `{"a":1}`, `[{"op":"add","path":"/b/c","value":1}]`, "", ErrNotFound},
		{"add through a scalar", `{"a":1}`, `[{"op":"add","path":"/a/c","value":1}]`, "", ErrNotContainer},
		{"remove through a scalar", `{"a":"s"}`, `[{"op":"remove","path":"/a/0"}]`, "", ErrNotContainer},
		{"copy from missing", `{"a":1}`, `[{"op":"copy","from":"/x","path":"/b"}]`, "", ErrNotFound},
		{"move from missing", `{"a":1}`, `[{"op":"move","from":"/x","path":"/b"}]`, "", ErrNotFound},
		{"move to itself needs an existing value", `{"a":1}`, `[{"op":"move","from":"/x","path":"/x"}]`, "", ErrNotFound},
		{"add replaces an existing member in place", `{"a":1,"b":2}`, `[{"op":"add","path":"/a","value":3}]`, `{"a":3,"b":2}`, nil},
		{"add of a new member appends it", `{"b":1}`, `[{"op":"add","path":"/a","value":2}]`, `{"b":1,"a":2}`, nil},
		{"empty key", `{"":1}`, `[{"op":"replace","path":"/","value":2}]`, `{"":2}`, nil},
		{"escaped keys", `{"a/b":1,"m~n":2}`, `[{"op":"remove","path":"/a~1b"},{"op":"replace","path":"/m~0n","value":3}]`, `{"m~n":3}`, nil},
		{"~01 is ~1, not /", `{"~1":1}`, `[{"op":"remove","path":"/~01"}]`, `{}`, nil},
	})
}

func TestApply_Root(t *testing.T) {
	runApplyCases(t, []applyCase{
		{"add replaces the document", `{"a":1}`, `[{"op":"add","path":"","value":[1]}]`, `[1]`, nil},
		{"replace with a scalar", `[1]`, `[{"op":"replace","path":"","value":"s"}]`, `"s"`, nil},
		{"remove the root fails", `{"a":1}`, `[{"op":"remove","path":""}]`, "", ErrRemoveRoot},
		{"test the root", `{"a":1}`, `[{"op":"test","path":"","value":{"a":1.0}}]`, `{"a":1}`, nil},
		{"copy the root into itself", `{"a":1}`, `[{"op":"copy","from":"","path":"/b"}]`, `{"a":1,"b":{"a":1}}`, nil},
		{"move the root into a child fails", `{"a":1}`, `[{"op":"move","from":"","path":"/b"}]`, "", ErrMoveIntoChild},
		{"move the root onto itself", `{"a":1}`, `[{"op":"move","from":"","path":""}]`, `{"a":1}`, nil},
		{"scalar documents", `1.0`, `[{"op":"test","path":"","value":1}]`, `1.0`, nil},
	})
}

func TestApply_MoveAndCopy(t *testing.T) {
	runApplyCases(t, []applyCase{
		{"move into own child fails", `{"a":{"b":{}}}`, `[{"op":"move","from":"/a","path":"/a/b/c"}]`, "", ErrMoveIntoChild},
		{"move into own array element fails", `{"a":[[1]]}`, `[{"op":"move","from":"/a","path":"/a/0/-"}]`, "", ErrMoveIntoChild},
		{"move to a sibling with a shared prefix", `{"a":1}`, `[{"op":"move","from":"/a","path":"/ab"}]`, `{"ab":1}`, nil},
		{"move up to the parent", `{"a":{"b":2}}`, `[{"op":"move","from":"/a/b","path":"/a"}]`, `{"a":2}`, nil},
		{"move onto itself is a no-op", `{"a":[1,2]}`, `[{"op":"move","from":"/a/1","path":"/a/1"}]`, `{"a":[1,2]}`, nil},
		{"move within an array", `[1,2,3,4]`, `[{"op":"move","from":"/0","path":"/2"}]`, `[2,3,1,4]`, nil},
		{"move to the end of an array", `[1,2,3]`, `[{"op":"move","from":"/0","path":"/-"}]`, `[2,3,1]`, nil},
		{"move replaces an existing member", `{"a":1,"b":2}`, `[{"op":"move","from":"/a","path":"/b"}]`, `{"b":1}`, nil},
		{"copy is deep", `{"a":{"x":[1]}}`,
			`[{"op":"copy","from":"/a","path":"/b"},{"op":"add","path":"/b/x/-","value":2},{"op":"replace","path":"/a/x/0","value":0}]`,
			`{"a":{"x":[0]},"b":{"x":[1,2]}}`, nil},
		{"copy into an array inserts", `{"a":[1,2],"v":9}`, `[{"op":"copy","from":"/v","path":"/a/1"}]`, `{"a":[1,9,2],"v":9}`, nil},
	})
}

func TestApply_TestComparesDeeply(t *testing.T) {
	runApplyCases(t, []applyCase{
		{"numbers by value", `{"n":1}`, `[{"op":"test","path":"/n","value":1.0},{"op":"test","path":"/n","value":1e0},{"op":"test","path":"/n","value":10e-1}]`, `{"n":1}`, nil},
		{"big integers exactly", `{"n":12345678901234567890}`, `[{"op":"test","path":"/n","value":12345678901234567891}]`, "", ErrTestFailed},
		{"negative zero", `{"n":-0.0}`, `[{"op":"test","path":"/n","value":0}]`, `{"n":-0.0}`, nil},
		{"objects ignore member order", `{"o":{"a":1,"b":[1,{"c":2,"d":3}]}}`, `[{"op":"test","path":"/o","value":{"b":[1,{"d":3,"c":2}],"a":1}}]`, `{"o":{"a":1,"b":[1,{"c":2,"d":3}]}}`, nil},
		{"arrays keep order", `{"a":[1,2]}`, `[{"op":"test","path":"/a","value":[2,1]}]`, "", ErrTestFailed},
		{"extra member differs", `{"o":{"a":1}}`, `[{"op":"test","path":"/o","value":{"a":1,"b":null}}]`, "", ErrTestFailed},
		{"string vs number", `{"s":"1"}`, `[{"op":"test","path":"/s","value":1}]`, "", ErrTestFailed},
		{"null vs missing", `{"s":null}`, `[{"op":"test","path":"/s","value":null}]`, `{"s":null}`, nil},
	})
}

func TestApply_IsAtomic(t *testing.T) {
	doc := `{"a":[1,2,3],"b":{"c":1}}`
	patch := `[{"op":"add","path":"/a/0","value":0},{"op":"remove","path":"/b/c"},{"op":"replace","path":"/a/1","value":9},{"op":"test","path":"/a/0","value":"fails"}]`
	tree, err := jsontree.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse([]byte(patch))
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply(tree)
	var oe *OpError
	if !errors.As(err, &oe) || oe.Index != 3 || oe.Op != "test" || !errors.Is(err, ErrTestFailed) {
		t.Fatalf("error %v, want an OpError for operation 3 (test)", err)
	}
	if out != nil {
		t.Errorf("failed patch returned %s", out)
	}
	if tree.String() != doc {
		t.Errorf("document changed to %s after a failed patch", tree)
	}
	// The first three operations alone succeed on the very same tree.
	ok, err := p[:3].Apply(tree)
	if err != nil || ok.String() != `{"a":[0,9,2,3],"b":{}}` {
		t.Errorf("prefix: %s, %v", ok, err)
	}
	if tree.String() != doc {
		t.Errorf("document changed to %s after a successful patch", tree)
	}
}

func TestParse_RejectsMalformedPatches(t *testing.T) {
	cases := []struct {
		patch string
		want  error
	}{
		{`{}`, ErrInvalidPatch},
		{`"x"`, ErrInvalidPatch},
		{`[1]`, ErrInvalidPatch},
		{`[{"path":"/a"}]`, ErrInvalidPatch},
		{`[{"op":1,"path":"/a"}]`, ErrInvalidPatch},
		{`[{"op":"frobnicate","path":"/a"}]`, ErrInvalidPatch},
		{`[{"op":"ADD","path":"/a","value":1}]`, ErrInvalidPatch},
		{`[{"op":"add","value":1}]`, ErrInvalidPatch},
		{`[{"op":"add","path":1,"value":1}]`, ErrInvalidPatch},
		{`[{"op":"add","path":"/a"}]`, ErrInvalidPatch},
		{`[{"op":"replace","path":"/a"}]`, ErrInvalidPatch},
		{`[{"op":"test","path":"/a"}]`, ErrInvalidPatch},
		{`[{"op":"move","path":"/a"}]`, ErrInvalidPatch},
		{`[{"op":"copy","path":"/a","from":null}]`, ErrInvalidPatch},
		{`[{"op":"add","path":"a","value":1}]`, ErrInvalidPointer},
		{`[{"op":"add","path":"/a~2","value":1}]`, ErrInvalidPointer},
		{`[{"op":"add","path":"/a~","value":1}]`, ErrInvalidPointer},
		{`[{"op":"move","from":"x","path":"/a"}]`, ErrInvalidPointer},
		{`[{"op":"add","op":"remove","path":"/a","value":1}]`, ErrInvalidPatch},
		{`[{"op":"add","path":"/a","value":1}`, ErrInvalidPatch},
		{`[{"op":"add","path":"/a","value":"\ud800"}]`, ErrInvalidPatch},
		{"", ErrInvalidPatch},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.patch))
		if !errors.Is(err, c.want) {
			t.Errorf("Parse(%s): error %v, want %v", c.patch, err, c.want)
		}
	}
	// Unknown members are ignored (RFC 6902 §4), and null is a value.
	p, err := Parse([]byte(`[{"op":"add","path":"/a","value":null,"comment":"x","from":7}]`))
	if err != nil || len(p) != 1 || p[0].Value.Kind() != jsontree.Null {
		t.Errorf("Parse with extra members: %v, %v", p, err)
	}
}

func TestLimits_CheckedBeforeWork(t *testing.T) {
	ops := strings.TrimSuffix(strings.Repeat(`{"op":"test","path":"","value":0},`, MaxOps+1), ",")
	// The document is not even JSON: the op count must fail first.
	if _, err := Apply([]byte(`not json`), []byte("["+ops+"]")); !errors.Is(err, ErrTooManyOps) {
		t.Errorf("%d ops: error %v, want ErrTooManyOps", MaxOps+1, err)
	}
	atLimit := strings.TrimSuffix(strings.Repeat(`{"op":"test","path":"","value":0},`, MaxOps), ",")
	if _, err := Apply([]byte(`0`), []byte("["+atLimit+"]")); err != nil {
		t.Errorf("%d ops rejected: %v", MaxOps, err)
	}
	long := "/" + strings.Repeat("é", MaxPathChars-1) // 1000 characters, 1999 bytes
	if _, err := ParsePointer(long); err != nil {
		t.Errorf("pointer of %d characters rejected: %v", MaxPathChars, err)
	}
	if _, err := ParsePointer(long + "x"); !errors.Is(err, ErrPathTooLong) {
		t.Errorf("pointer of %d characters: error %v, want ErrPathTooLong", MaxPathChars+1, err)
	}
	if _, err := ParsePointer(strings.Repeat("/", 1<<20)); !errors.Is(err, ErrPathTooLong) {
		t.Errorf("1 MiB pointer: error %v, want ErrPathTooLong", err)
	}
	if _, err := ParsePointer("/ok\xff"); !errors.Is(err, ErrInvalidPointer) {
		t.Errorf("invalid UTF-8 pointer: error %v", err)
	}
}

func TestApply_DepthBoundIsKept(t *testing.T) {
	// Each op nests the document one level deeper; the result may never
	// exceed what jsontree.Parse accepts back.
	var b strings.Builder
	b.WriteString("[")
	for i := range jsontree.MaxDepth {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"op":"move","from":"","path":""},{"op":"copy","from":"","path":"/x"},{"op":"remove","path":"/a"},{"op":"move","from":"/x","path":"/a"}`)
	}
	b.WriteString("]")
	doc := `{"a":0}`
	_, err := Apply([]byte(doc), []byte(b.String()))
	if !errors.Is(err, ErrTooDeep) {
		t.Fatalf("error %v, want ErrTooDeep", err)
	}
}

func TestOpError_NamesTheOperation(t *testing.T) {
	_, err := Apply([]byte(`{"a":[]}`), []byte(`[{"op":"add","path":"/a/-","value":1},{"op":"remove","path":"/a/5"}]`))
	want := `jsonpatch: operation 1 (remove "/a/5"): array index out of range: index 5, length 1`
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestPointer(t *testing.T) {
	p, err := ParsePointer("/a~1b/~0/0/")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Tokens(), "|"); got != "a/b|~|0|" {
		t.Errorf("tokens %q", got)
	}
	if p.String() != "/a~1b/~0/0/" || p.IsRoot() {
		t.Errorf("String %q IsRoot %v", p, p.IsRoot())
	}
	root, _ := ParsePointer("")
	if !root.IsRoot() || len(root.Tokens()) != 0 {
		t.Error("empty pointer is not the root")
	}
}

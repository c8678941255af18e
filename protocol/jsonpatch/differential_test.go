package jsonpatch

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"testing"

	evanphx "github.com/evanphx/json-patch/v5"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// The differential test runs random documents and patches through this engine
// and through github.com/evanphx/json-patch/v5 (used here only as an oracle)
// and explains every disagreement. A disagreement that no rule below
// explains fails the test, so a change of behaviour on either side surfaces.

// disagreementReasons explains each class of known disagreement: in each,
// this engine follows RFC 6902/6901 (or a DashStream safety rule) and the
// oracle does not.
var disagreementReasons = map[string]string{
	"root-pointer": `evanphx reads the pointer "" as the member "" of the root, or refuses it for ` +
		`move/copy/replace; RFC 6901 §5 says "" is the whole document, so add/replace/copy/move/test at "" ` +
		`act on the document and remove of "" is an error here.`,
	"scalar-document": "evanphx only handles documents whose root is an object or an array (and panics on " +
		"some); RFC 8259 allows any value at the root and RFC 6902 may replace the root with one.",
	"lenient-index": `evanphx parses array indices with strconv.Atoi and, by default, accepts negative ` +
		`indices, so "01", "+1" and "-1" name elements there; RFC 6901 §4 allows only "0" or a digit string ` +
		`without a leading zero (M-709), and "-" only where a value is added.`,
	"forbidden-segment": `we reject __proto__, constructor and prototype path segments (M-710: they ` +
		`pollute JavaScript consumers); RFC 6902 itself has no such rule.`,
	"number-value": "test compares numbers by their exact decimal value here (RFC 6902 §4.6: numerically " +
		"equal), so 1 equals 1.0 and 1e0; evanphx compares their literal text, so they differ there.",
	"empty-key-segment": `evanphx mishandles the empty reference token (the member named ""): it reads "/" ` +
		`as the whole document and skips or drops "" inside a path (sometimes returning the document ` +
		`unchanged without an error); RFC 6901 §3-4 make "/" and "//x" name the member "".`,
	"test-missing-target": "evanphx lets test of null pass when the target does not exist; RFC 6902 §4.6 " +
		"requires the target location to exist.",
	"oracle-panic": "evanphx panicked on this input (nil dereference in partialArray); ours returned a result.",
}

// oracle applies the patch with evanphx, turning its panics into errors.
func oracle(doc, patch []byte) (out []byte, panicked bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked, err = true, fmt.Errorf("oracle panic: %v", r)
		}
	}()
	p, err := evanphx.DecodePatch(patch)
	if err != nil {
		return nil, false, err
	}
	out, err = p.Apply(doc)
	return out, false, err
}

var lenientIndex = regexp.MustCompile(`^(-[0-9]+|\+[0-9]+|0[0-9]+)$`)

// classify names the reason for a disagreement, or "" if none applies.
func classify(doc, patch string, oerr, terr error, panicked bool) string {
	p, err := Parse([]byte(patch))
	if err != nil {
		if errors.Is(err, ErrForbiddenSegment) {
			return "forbidden-segment"
		}
		return ""
	}
	for _, op := range p {
		if op.Path.IsRoot() || ((op.Op == OpMove || op.Op == OpCopy) && op.From.IsRoot()) {
			return "root-pointer"
		}
	}
	for _, op := range p {
		for _, tok := range append(op.Path.Tokens(), op.From.Tokens()...) {
			if tok == "" {
				return "empty-key-segment"
			}
		}
	}
	if d := strings.TrimSpace(doc); d == "" || (d[0] != '{' && d[0] != '[') {
		return "scalar-document"
	}
	if panicked {
		return "oracle-panic"
	}
	switch {
	case errors.Is(oerr, ErrInvalidIndex) || errors.Is(oerr, ErrIndexOutOfRange):
		for _, op := range p {
			for _, tok := range append(op.Path.Tokens(), op.From.Tokens()...) {
				if lenientIndex.MatchString(tok) {
					return "lenient-index"
				}
			}
		}
	case errors.Is(oerr, ErrTestFailed):
		return "number-value"
	case errors.Is(oerr, ErrNotFound) && failedOp(oerr) == "test":
		return "test-missing-target"
	case oerr == nil && terr != nil && strings.Contains(terr.Error(), "test failed"):
		return "number-value"
	}
	// A lenient index the oracle accepted can also turn a later error of ours
	// into a different path: look for the token anywhere.
	for _, op := range p {
		for _, tok := range append(op.Path.Tokens(), op.From.Tokens()...) {
			if lenientIndex.MatchString(tok) {
				return "lenient-index"
			}
		}
	}
	return ""
}

// failedOp names the operation an apply error came from.
func failedOp(err error) string {
	var oe *OpError
	if errors.As(err, &oe) {
		return oe.Op
	}
	return ""
}

func sameResult(ours, theirs []byte) bool {
	a, err := jsontree.Parse(ours)
	if err != nil {
		return false
	}
	b, err := jsontree.Parse(theirs)
	if err != nil {
		return false
	}
	return jsontree.Equal(a, b)
}

func TestDifferential_AgainstEvanphxJSONPatch(t *testing.T) {
	const cases = 10000
	r := rand.New(rand.NewPCG(6902, 6901))
	counts := map[string]int{}
	examples := map[string]string{}
	agree := 0
	for range cases {
		doc, patch := genValue(r, 4), genPatch(r)
		ours, oerr := Apply([]byte(doc), []byte(patch))
		theirs, panicked, terr := oracle([]byte(doc), []byte(patch))
		if (oerr == nil) == (terr == nil) && (oerr != nil || sameResult(ours, theirs)) {
			agree++
			continue
		}
		why := classify(doc, patch, oerr, terr, panicked)
		if why == "" {
			t.Errorf("unexplained disagreement:\n doc   %s\n patch %s\n ours  %s (err %v)\n evanphx %s (err %v)", doc, patch, ours, oerr, theirs, terr)
			continue
		}
		counts[why]++
		if examples[why] == "" {
			examples[why] = fmt.Sprintf("doc %s patch %s: ours %s (err %v); evanphx %s (err %v)", doc, patch, ours, oerr, theirs, terr)
		}
	}
	t.Logf("%d random cases: %d agree", cases, agree)
	var names []string
	for name := range counts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Logf("%5d disagree: %s — %s\n        e.g. %s", counts[name], name, disagreementReasons[name], examples[name])
	}
}

// TestDifferential_KnownCases pins one hand-written case per class, so each
// explanation above is checked against the oracle's real behaviour.
func TestDifferential_KnownCases(t *testing.T) {
	cases := []struct {
		doc, patch, class string
	}{
		{`{"a":[1,2]}`, `[{"op":"add","path":"/a/1","value":9}]`, "agree"},
		{`{"a":[1,2]}`, `[{"op":"add","path":"/a/-1","value":9}]`, "lenient-index"},
		{`{"a":[1,2]}`, `[{"op":"remove","path":"/a/01"}]`, "lenient-index"},
		{`{"a":[1,2]}`, `[{"op":"replace","path":"/a/+1","value":0}]`, "lenient-index"},
		{`{"a":{}}`, `[{"op":"add","path":"/a/__proto__","value":{"x":1}}]`, "forbidden-segment"},
		{`{"a":1}`, `[{"op":"replace","path":"","value":[1]}]`, "agree"},
		{`{"a":1}`, `[{"op":"replace","path":"","value":true}]`, "root-pointer"},
		{`{"a":1}`, `[{"op":"copy","from":"","path":""}]`, "root-pointer"},
		{`[1]`, `[{"op":"add","path":"","value":"s"}]`, "root-pointer"},
		{`{"":{"x":1},"a":2}`, `[{"op":"copy","from":"/","path":"/b"}]`, "empty-key-segment"},
		{`{}`, `[{"op":"test","path":"/missing","value":null}]`, "test-missing-target"},
		{`[1]`, `[{"op":"test","path":"/0","value":1e0}]`, "number-value"},
		{`[1.0]`, `[{"op":"test","path":"/0","value":1}]`, "number-value"},
		{`[12345678901234567890]`, `[{"op":"test","path":"/0","value":12345678901234567891}]`, "agree"},
		{`[12345678901234567890]`, `[{"op":"test","path":"/0","value":12345678901234567890}]`, "agree"},
	}
	for _, c := range cases {
		ours, oerr := Apply([]byte(c.doc), []byte(c.patch))
		theirs, panicked, terr := oracle([]byte(c.doc), []byte(c.patch))
		got := "agree"
		if (oerr == nil) != (terr == nil) || (oerr == nil && !sameResult(ours, theirs)) {
			got = classify(c.doc, c.patch, oerr, terr, panicked)
		}
		if got != c.class {
			t.Errorf("doc %s patch %s: class %q, want %q (ours %s err %v; evanphx %s err %v)", c.doc, c.patch, got, c.class, ours, oerr, theirs, terr)
		}
	}
}

package jsonpatch

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

// conformanceDir finds the public RFC 6902 vectors: $DASHSTREAM_SHARED/
// conformance/rfc6902, else ../shared/conformance/rfc6902 beside the
// repository (they are read in place, never copied into the project).
func conformanceDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("DASHSTREAM_SHARED")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared")
	}
	dir := filepath.Join(root, "conformance", "rfc6902")
	if _, err := os.Stat(filepath.Join(dir, "tests.json")); err != nil {
		t.Skipf("NOTICE: RFC 6902 conformance vectors not found at %s (%v); set DASHSTREAM_SHARED to the shared folder to run them", dir, err)
	}
	return dir
}

type conformanceCase struct {
	Comment  string          `json:"comment"`
	Doc      json.RawMessage `json:"doc"`
	Patch    json.RawMessage `json:"patch"`
	Expected json.RawMessage `json:"expected"`
	Error    string          `json:"error"`
	Disabled bool            `json:"disabled"`
}

// stricterRules lists records whose expectation conflicts with a rule this
// engine enforces on purpose, keyed by file and comment, with the reason.
// It is empty: no record of the public suite conflicts with the stricter
// rules (M-709 index syntax, M-710 forbidden segments, duplicate keys, the
// limits). The test fails if a record disagrees without an entry here.
var stricterRules = map[string]string{}

func TestConformance_RFC6902Vectors(t *testing.T) {
	dir := conformanceDir(t)
	files, err := fs.Glob(os.DirFS(dir), "*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vector files in %s: %v", dir, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var cases []conformanceCase
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var ran, passed, disabledPassed, disabled int
		for i, c := range cases {
			if c.Doc == nil || c.Patch == nil {
				continue // a heading
			}
			problem := checkConformanceCase(c)
			if c.Disabled {
				// Disabled records are not required; report how we do on them.
				disabled++
				if problem == "" {
					disabledPassed++
				} else {
					t.Logf("%s #%d (disabled) %q: %s", name, i, c.Comment, problem)
				}
				continue
			}
			ran++
			key := name + ": " + c.Comment
			switch reason, known := stricterRules[key]; {
			case problem == "" && known:
				t.Errorf("%s #%d %q now passes; remove its stricterRules entry", name, i, c.Comment)
			case problem == "":
				passed++
			case known:
				t.Logf("%s #%d %q conflicts with a stricter rule: %s (%s)", name, i, c.Comment, reason, problem)
			default:
				t.Errorf("%s #%d %q: %s\n doc %s\n patch %s", name, i, c.Comment, problem, c.Doc, c.Patch)
			}
		}
		t.Logf("%s: %d enabled records, %d pass, %d conflict with stricter rules; %d of %d disabled records pass too",
			name, ran, passed, ran-passed, disabledPassed, disabled)
	}
}

// checkConformanceCase returns "" when the engine does what the record says,
// through both APIs, and leaves the input untouched.
func checkConformanceCase(c conformanceCase) string {
	docTree, err := jsontree.Parse(c.Doc)
	if err != nil {
		return "document does not parse: " + err.Error()
	}
	before := docTree.String()
	out, applyErr := Apply(c.Doc, c.Patch)
	var treeErr error
	patch, perr := Parse(c.Patch)
	if perr != nil {
		treeErr = perr
	} else {
		_, treeErr = patch.Apply(docTree)
	}
	if docTree.String() != before {
		return "the input tree changed"
	}
	if (applyErr == nil) != (treeErr == nil) {
		return "Apply and Patch.Apply disagree: " + errString(applyErr) + " / " + errString(treeErr)
	}
	if c.Error != "" {
		if applyErr == nil {
			return "succeeded with " + string(out) + ", want an error (" + c.Error + ")"
		}
		return ""
	}
	if applyErr != nil {
		return "unexpected error: " + applyErr.Error()
	}
	if c.Expected == nil {
		return ""
	}
	want, err := jsontree.Parse(c.Expected)
	if err != nil {
		return "expected document does not parse: " + err.Error()
	}
	got, err := jsontree.Parse(out)
	if err != nil {
		return "output does not parse: " + err.Error()
	}
	if !jsontree.Equal(got, want) {
		return "got " + string(out) + ", want " + string(c.Expected)
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func TestConformance_ErrorRecordsFailWithATypedCause(t *testing.T) {
	dir := conformanceDir(t)
	data, err := os.ReadFile(filepath.Join(dir, "tests.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []conformanceCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	typed := []error{ErrInvalidPatch, ErrInvalidPointer, ErrForbiddenSegment, ErrPathTooLong, ErrTooManyOps,
		ErrNotFound, ErrInvalidIndex, ErrIndexOutOfRange, ErrNotContainer, ErrMoveIntoChild, ErrRemoveRoot,
		ErrTestFailed, ErrTooDeep, ErrInvalidValue}
	for _, c := range cases {
		if c.Error == "" || c.Disabled || c.Doc == nil {
			continue
		}
		_, err := Apply(c.Doc, c.Patch)
		found := false
		for _, e := range typed {
			found = found || errors.Is(err, e)
		}
		if !found {
			t.Errorf("%q: error %v has no typed cause", c.Comment, err)
		}
	}
}

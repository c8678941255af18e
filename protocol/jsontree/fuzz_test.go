package jsontree

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParse: Parse never panics; whatever it accepts is valid JSON to
// encoding/json, writes back as text that parses to an equal tree, and that
// text is a fixed point.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"b":2,"a":1,"nested":{"z":"x","y":[true,null]}}`,
		`[1.0,-0,1e21,12345678901234567890]`,
		`"\ud83d\ude00\u00e9\n"`, `"\ud800"`, "\"\xff\"", `{"a":1,"a":2}`,
		`[[[[[[[[[[]]]]]]]]]]`, `{"":{"":{"":null}}}`, ` 0 `, `01`, `1.`, `-`, `[1,]`,
		`{"k":"\u0000\u001f\u007f\u2028"}`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("Parse accepted %q, which is not JSON", data)
		}
		out := n.AppendJSON(nil)
		n2, err := Parse(out)
		if err != nil {
			t.Fatalf("written form %q does not parse: %v", out, err)
		}
		if !Equal(n, n2) {
			t.Fatalf("round trip changed the value: %q -> %q", data, out)
		}
		if out2 := n2.AppendJSON(nil); !bytes.Equal(out, out2) {
			t.Fatalf("written form is not a fixed point: %q -> %q", out, out2)
		}
	})
}

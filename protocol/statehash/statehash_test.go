package statehash

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/dashstream/dashstream/protocol/jsontree"
)

func TestSum_GoldenVectors(t *testing.T) {
	cases := []struct{ doc, canonical, sum string }{
		{ // DESIGN §3 / the upstream Rust unit test
			`{"b":2,"a":1,"nested":{"z":"x","y":[true,null]}}`,
			`{"a":1,"b":2,"nested":{"y":[true,null],"z":"x"}}`,
			"f35279c8aa6b00bc82d43a191596cc3b41b7de7899ee16e36a08efe3afc45103",
		},
		{ // producer note §5.4, second vector
			`{"counter":6,"messages":["Hello","World"]}`,
			`{"counter":6,"messages":["Hello","World"]}`,
			"529cd9536255ec1c3c253c2cfb5879f52bdd74d4a5d33d30d9e93490da186c30",
		},
	}
	for _, c := range cases {
		canon, err := Canonicalize([]byte(c.doc))
		if err != nil || string(canon) != c.canonical {
			t.Errorf("Canonicalize(%s) = %s, %v; want %s", c.doc, canon, err, c.canonical)
		}
		sum, err := Sum([]byte(c.doc))
		if err != nil || hex.EncodeToString(sum[:]) != c.sum {
			t.Errorf("Sum(%s) = %x, %v; want %s", c.doc, sum, err, c.sum)
		}
		tree, err := jsontree.Parse([]byte(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := SumTree(tree); got != sum {
			t.Errorf("SumTree(%s) = %x, want %x", c.doc, got, sum)
		}
		if got := string(CanonicalizeTree(tree)); got != c.canonical {
			t.Errorf("CanonicalizeTree(%s) = %s", c.doc, got)
		}
	}
}

func TestCanonicalize_Rules(t *testing.T) {
	cases := map[string]string{
		// Numbers exactly as their literal arrived.
		`{"score":1.0,"big":12345678901234567890,"e":1E+21,"neg":-0.0}`: `{"big":12345678901234567890,"e":1E+21,"neg":-0.0,"score":1.0}`,
		`[1, 1.0, 1e0, 10E-1]`: `[1,1.0,1e0,10E-1]`,
		// Keys sorted by UTF-8 bytes: uppercase before lowercase, é (C3 A9)
		// after z, U+FF61 (EF BD A1) before U+1F600 (F0 9F 98 80) although
		// UTF-16 order would put the surrogate pair first.
		`{"z":1,"é":2,"Z":3,"a":4,"😀":5,"｡":6,"":7}`: `{"":7,"Z":3,"a":4,"z":1,"é":2,"｡":6,"😀":5}`,
		// Escaping: only '"', '\' and control characters; lowercase hex.
		`"\u00e9\/\u001F\u007f\u2028\u2029<>&"`: "\"é/\\u001f\x7f\u2028\u2029<>&\"",
		`"\b\f\n\r\t\u000b"`:                    `"\b\f\n\r\t\u000b"`,
		`{"a\"b":"c\\d"}`:                       `{"a\"b":"c\\d"}`,
		// Whitespace anywhere disappears.
		" { \"a\" : [ 1 , { } , [ ] ] , \"b\" : null } \n": `{"a":[1,{},[]],"b":null}`,
		`"top-level string"`: `"top-level string"`,
		`true`:               `true`,
	}
	for in, want := range cases {
		got, err := Canonicalize([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("Canonicalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSum_IntegralFloatsKeepTheirLiteral(t *testing.T) {
	// A Rust producer writes 1.0; a consumer that re-serialised through
	// float64 would hash "1" and report false corruption.
	a, _ := Sum([]byte(`{"score":1.0}`))
	b, _ := Sum([]byte(`{"score":1}`))
	if a == b {
		t.Error("1.0 and 1 hash the same: literals are not preserved")
	}
	want := sha256.Sum256([]byte(`{"score":1.0}`))
	if a != want {
		t.Errorf("Sum = %x, want %x", a, want)
	}
}

func TestSum_RejectsAmbiguousInput(t *testing.T) {
	cases := map[string]error{
		`{"a":1,"a":2}`:    jsontree.ErrDuplicateKey,
		`{"a":1`:           jsontree.ErrUnexpectedEnd,
		`{"a":1} x`:        jsontree.ErrTrailingData,
		`{"a":1}{}`:        jsontree.ErrTrailingData,
		`"\ud800"`:         jsontree.ErrLoneSurrogate,
		`{"\udfff":1}`:     jsontree.ErrLoneSurrogate,
		"{\"a\":\"\xc3\"}": jsontree.ErrInvalidUTF8,
		"{\"\xff\":1}":     jsontree.ErrInvalidUTF8,
		``:                 jsontree.ErrUnexpectedEnd,
		`NaN`:              jsontree.ErrSyntax,
		`{"a":01}`:         jsontree.ErrInvalidNumber,
		"{\"a\":\"\t\"}":   jsontree.ErrControlCharacter,
		`{"a":"\q"}`:       jsontree.ErrInvalidEscape,
		`[` + deep(2000):   jsontree.ErrTooDeep,
	}
	for in, want := range cases {
		if _, err := Sum([]byte(in)); !errors.Is(err, want) {
			t.Errorf("Sum(%.40q): error %v, want %v", in, err, want)
		}
		if c, err := Canonicalize([]byte(in)); !errors.Is(err, want) || c != nil {
			t.Errorf("Canonicalize(%.40q) = %q, %v; want %v", in, c, err, want)
		}
	}
}

func deep(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '['
	}
	return string(b)
}

func TestCanonicalize_IsIdempotent(t *testing.T) {
	in := `{"b":[{"y":2,"x":1.50}],"a":"\u00e9\n"}`
	once, err := Canonicalize([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	twice, err := Canonicalize(once)
	if err != nil || string(twice) != string(once) {
		t.Errorf("canonical form is not a fixed point: %s -> %s (%v)", once, twice, err)
	}
}

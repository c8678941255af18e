package jsontree

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParse_KeepsNumberLiteralsExactly(t *testing.T) {
	for _, lit := range []string{
		"0", "-0", "-0.0", "1", "1.0", "1.50", "12345678901234567890", "-9223372036854775809",
		"1e21", "1E+21", "1e-7", "0.1", "3.141592653589793238462643383279", "18446744073709551616",
	} {
		doc := `{"n":` + lit + `,"a":[` + lit + `]}`
		n, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("Parse(%s): %v", doc, err)
		}
		if got := n.String(); got != doc {
			t.Errorf("round trip of %s gave %s", doc, got)
		}
		v, _ := n.Get("n")
		if v.Kind() != Number || v.Literal() != lit {
			t.Errorf("number %s read as %v %q", lit, v.Kind(), v.Literal())
		}
	}
}

func TestParse_AcceptsEveryJSONValue(t *testing.T) {
	cases := map[string]string{
		`null`:                         `null`,
		` true `:                       `true`,
		"\t\n\r false \n":              `false`,
		`"x"`:                          `"x"`,
		`[]`:                           `[]`,
		`{}`:                           `{}`,
		`[ 1 , [ ] , { } ]`:            `[1,[],{}]`,
		`{"b":1,"a":{"c":[null]}}`:     `{"b":1,"a":{"c":[null]}}`,
		`"\u00e9\ud83d\ude00\/\n\t\""`: `"é😀/\n\t\""`,
		`"\u0000\u001F\u007f"`:         `"\u0000\u001f` + "\x7f" + `"`,
		`{"":0}`:                       `{"":0}`,
		`"\u2028\u2029"`:               "\"\u2028\u2029\"",
	}
	for in, want := range cases {
		n, err := Parse([]byte(in))
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got := n.String(); got != want {
			t.Errorf("Parse(%q) wrote %q, want %q", in, got, want)
		}
	}
}

func TestParse_RejectsInvalidInputWithTypedErrors(t *testing.T) {
	cases := []struct {
		in   string
		want error
	}{
		{``, ErrUnexpectedEnd},
		{`   `, ErrUnexpectedEnd},
		{`{`, ErrUnexpectedEnd},
		{`[1,`, ErrUnexpectedEnd},
		{`"abc`, ErrUnexpectedEnd},
		{`"\u12`, ErrUnexpectedEnd},
		{`{"a"`, ErrUnexpectedEnd},
		{`{"a":`, ErrUnexpectedEnd},
		{`tru`, ErrUnexpectedEnd},
		{`-`, ErrUnexpectedEnd},
		{`1.`, ErrUnexpectedEnd},
		{`1e`, ErrUnexpectedEnd},
		{`[1 2]`, ErrSyntax},
		{`{"a" 1}`, ErrSyntax},
		{`{a:1}`, ErrSyntax},
		{`{"a":1,}`, ErrSyntax},
		{`[1,]`, ErrSyntax},
		{`nul`, ErrUnexpectedEnd},
		{`nulL`, ErrSyntax},
		{`True`, ErrSyntax},
		{`NaN`, ErrSyntax},
		{`Infinity`, ErrSyntax},
		{`'a'`, ErrSyntax},
		{`01`, ErrInvalidNumber},
		{`-01`, ErrInvalidNumber},
		{`+1`, ErrSyntax},
		{`.5`, ErrSyntax},
		{`1.e5`, ErrInvalidNumber},
		{`1e+`, ErrUnexpectedEnd},
		{`0x10`, ErrTrailingData},
		{`1 2`, ErrTrailingData},
		{`{} {}`, ErrTrailingData},
		{`null x`, ErrTrailingData},
		{`{"a":1,"a":2}`, ErrDuplicateKey},
		{`{"a":{"b":1,"c":2,"b":3}}`, ErrDuplicateKey},
		{`{"\u0061":1,"a":2}`, ErrDuplicateKey},
		{"\"\xff\"", ErrInvalidUTF8},
		{"\"ok\xc3\"", ErrInvalidUTF8},
		{"\"\xed\xa0\x80\"", ErrInvalidUTF8}, // UTF-8 encoded surrogate
		{"\"a\\n\xff\"", ErrInvalidUTF8},
		{`"\ud800"`, ErrLoneSurrogate},
		{`"\udc00"`, ErrLoneSurrogate},
		{`"\ud800\u0041"`, ErrLoneSurrogate},
		{`"\ud800\ud800"`, ErrLoneSurrogate},
		{`"\ud800x"`, ErrLoneSurrogate},
		{`"\x41"`, ErrInvalidEscape},
		{`"\u00g0"`, ErrInvalidEscape},
		{`"\U0041"`, ErrInvalidEscape},
		{"\"a\tb\"", ErrControlCharacter},
		{"\"a\nb\"", ErrControlCharacter},
		{"\"\x00\"", ErrControlCharacter},
		{"\xef\xbb\xbf{}", ErrSyntax}, // a byte order mark is not JSON
	}
	for _, c := range cases {
		n, err := Parse([]byte(c.in))
		if err == nil {
			t.Errorf("Parse(%q) = %s, want error %v", c.in, n, c.want)
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("Parse(%q) error %v, want %v", c.in, err, c.want)
		}
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(c.in) {
			t.Errorf("Parse(%q) error %v is not a SyntaxError with a valid offset", c.in, err)
		}
	}
}

func TestParse_DepthLimit(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	n, err := Parse([]byte(deep))
	if err != nil {
		t.Fatalf("nesting of exactly MaxDepth rejected: %v", err)
	}
	if n.Height() != MaxDepth {
		t.Errorf("height %d, want %d", n.Height(), MaxDepth)
	}
	tooDeep := strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth)
	if _, err := Parse([]byte(tooDeep)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("MaxDepth objects around a scalar: error %v, want ErrTooDeep", err)
	}
	// Far deeper than the limit: must fail fast, not exhaust the stack.
	hostile := strings.Repeat("[", 10_000_000)
	if _, err := Parse([]byte(hostile)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("10M open brackets: error %v, want ErrTooDeep", err)
	}
}

func TestParse_ErrorMessagesStayShortForHugeInput(t *testing.T) {
	huge := `{"` + strings.Repeat("k", 1<<20) + `":1,"` + strings.Repeat("k", 1<<20) + `":2}`
	_, err := Parse([]byte(huge))
	if !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("error %v, want ErrDuplicateKey", err)
	}
	if len(err.Error()) > 200 {
		t.Errorf("error message is %d bytes long", len(err.Error()))
	}
}

func TestParse_MemberOrderKeptAndSortedViewIsByteOrder(t *testing.T) {
	n, err := Parse([]byte(`{"b":1,"a":2,"é":3,"B":4,"\uff61":5,"\ud83d\ude00":6}`))
	if err != nil {
		t.Fatal(err)
	}
	var order, sorted []string
	for i := range n.Len() {
		name, _ := n.Member(i)
		order = append(order, name)
		name, _ = n.SortedMember(i)
		sorted = append(sorted, name)
	}
	if got, want := strings.Join(order, ","), "b,a,é,B,｡,😀"; got != want {
		t.Errorf("member order %s, want %s", got, want)
	}
	// UTF-8 byte order: U+FF61 (EF BD A1) sorts before U+1F600 (F0 9F 98 80),
	// although UTF-16 order would put the surrogate pair first.
	if got, want := strings.Join(sorted, ","), "B,a,b,é,｡,😀"; got != want {
		t.Errorf("sorted order %s, want %s", got, want)
	}
	for _, name := range order {
		if _, ok := n.Get(name); !ok {
			t.Errorf("Get(%q) missed", name)
		}
	}
	if _, ok := n.Get("zz"); ok {
		t.Error("Get of a missing name succeeded")
	}
}

func TestParse_AgreesWithEncodingJSONOnValidity(t *testing.T) {
	// Parse is stricter than encoding/json (duplicates, UTF-8, surrogates), so
	// everything it accepts must be valid for encoding/json too.
	for _, in := range []string{`{"a":[1,2,{"b":null}]}`, `"\ud83d\ude00"`, `-0.0e-0`, `[[[]]]`} {
		if _, err := Parse([]byte(in)); err != nil {
			t.Fatalf("Parse(%s): %v", in, err)
		}
		if !json.Valid([]byte(in)) {
			t.Errorf("Parse accepted %s, which encoding/json rejects", in)
		}
	}
}

package pricing

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestLookup_VersionedNamesFindTheirBaseModelOnly(t *testing.T) {
	tb := Builtin()
	cases := []struct {
		model string
		want  string // the listed model whose price applies; "" for none
	}{
		{"gpt-4o-mini", "gpt-4o-mini"},
		{"GPT-4o-Mini", "gpt-4o-mini"},
		{"gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"openai/gpt-4o", "gpt-4o"},
		{"gpt-4o-2024-08-06", "gpt-4o"},
		{"claude-3-5-sonnet-20241022", "claude-3-5-sonnet"},
		{"claude-3-5-sonnet-latest", "claude-3-5-sonnet"},
		{"anthropic/claude-3-5-sonnet@20240620", "claude-3-5-sonnet"},
		{"mistral-large-2407", "mistral-large"},
		{"o1-preview", "o1"},
		// Variants that are other models are never priced as their prefix.
		{"gpt-4o-audio", ""},
		{"gpt-4o-minix", ""},
		{"gpt-4", ""},
		{"llama-3.1-70b-instruct", ""},
		{"", ""},
		{"-", ""},
		{"gpt-4o-", ""},
		{"gpt-4o-v", ""},
	}
	for _, c := range cases {
		got, ok := tb.Lookup(c.model)
		if c.want == "" {
			if ok {
				t.Errorf("Lookup(%q) = %v, want no price", c.model, got)
			}
			continue
		}
		if !ok || got != builtin[c.want] {
			t.Errorf("Lookup(%q) = %v, %v; want %s's %v", c.model, got, ok, c.want, builtin[c.want])
		}
	}
}

func TestCost_PerMillionTokens(t *testing.T) {
	usd, ok := Builtin().Cost("gpt-4o-mini", 1_000_000, 2_000_000)
	if !ok || math.Abs(usd-(0.15+2*0.60)) > 1e-12 {
		t.Fatalf("Cost = %v, %v; want 1.35", usd, ok)
	}
	if usd, ok := Builtin().Cost("llama-3.1-70b-instruct", 1000, 1000); ok || usd != 0 {
		t.Fatalf("an unknown model got a cost: %v", usd)
	}
	var nilTable *Table
	if _, ok := nilTable.Cost("gpt-4o", 1, 1); ok {
		t.Fatal("a nil table priced a call")
	}
}

func TestParse_OverridesAndExtendsTheBuiltinTable(t *testing.T) {
	over, err := Parse([]byte(`{"GPT-4o": {"input_per_million": 1, "output_per_million": 2},
		"llama-3.1-70b-instruct": {"input_per_million": 0.88, "output_per_million": 0.88}}`))
	if err != nil {
		t.Fatal(err)
	}
	tb := Builtin().Merge(over)
	if p, _ := tb.Lookup("gpt-4o"); p != (Price{1, 2}) {
		t.Errorf("override not applied: %v", p)
	}
	if p, ok := tb.Lookup("llama-3.1-70b-instruct"); !ok || p.Input != 0.88 {
		t.Errorf("extension not applied: %v %v", p, ok)
	}
	if p, _ := Builtin().Lookup("gpt-4o"); p != builtin["gpt-4o"] {
		t.Error("Merge changed the built-in table")
	}
	if tb.Len() != len(builtin)+1 {
		t.Errorf("Len = %d", tb.Len())
	}
}

func TestParse_RoundTripsMarshalJSON(t *testing.T) {
	b, err := json.Marshal(Builtin())
	if err != nil {
		t.Fatal(err)
	}
	var back Table
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Len() != len(builtin) {
		t.Fatalf("round trip kept %d of %d models", back.Len(), len(builtin))
	}
	for name, p := range builtin {
		if got, _ := back.Lookup(name); got != p {
			t.Errorf("%s: %v after the round trip, want %v", name, got, p)
		}
	}
}

func TestParse_BadInputIsAnErrorNamingTheProblem(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"not json", `{`, ""},
		{"array", `[]`, "JSON object"},
		{"empty", ``, ""},
		{"missing output", `{"m": {"input_per_million": 1}}`, `"m" needs`},
		{"unknown member", `{"m": {"input_per_million": 1, "output_per_million": 1, "cached": 1}}`, `"m"`},
		{"negative", `{"m": {"input_per_million": -1, "output_per_million": 1}}`, "not between"},
		{"absurd", `{"m": {"input_per_million": 1e9, "output_per_million": 1}}`, "not between"},
		{"string price", `{"m": {"input_per_million": "1", "output_per_million": 1}}`, `"m"`},
		{"duplicate", `{"m": {"input_per_million": 1, "output_per_million": 1}, "M": {"input_per_million": 1, "output_per_million": 1}}`, "twice"},
		{"empty name", `{"": {"input_per_million": 1, "output_per_million": 1}}`, "empty"},
		{"long name", `{"` + strings.Repeat("x", 300) + `": {"input_per_million": 1, "output_per_million": 1}}`, "longer"},
		{"trailing", `{} {}`, "after"},
		{"trailing garbage", `{} x`, ""},
		{"oversized", `{"m":` + strings.Repeat(" ", MaxFileBytes) + `{}}`, "bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	b, _ := json.Marshal(Builtin())
	f.Add(b)
	f.Add([]byte(`{"a/b": {"input_per_million": 0, "output_per_million": 0}}`))
	f.Add([]byte(`{"m": {"input_per_million": 1e400, "output_per_million": 1}}`))
	f.Add([]byte(`{"m": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Parse(data)
		if err != nil {
			return
		}
		// What parses marshals to a table that parses to the same prices.
		out, err := json.Marshal(tb)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		for name, p := range tb.prices {
			if q, ok := back.prices[name]; !ok || q != p {
				t.Fatalf("%q: %v became %v", name, p, q)
			}
		}
	})
}

// Package pricing turns an LLM call's token counts into a cost in US
// dollars, from a table of list prices per million tokens.
//
// The built-in table holds the published API list prices of common models
// (see Builtin for the date); a deployment overrides or extends it with a
// JSON file (Parse, Table.Merge). A model the table does not know has no
// cost: callers show its tokens without one, never a guess. Dated or
// versioned names ("gpt-4o-mini-2024-07-18", "claude-3-5-sonnet-20241022",
// "openai/gpt-4o") find their base model; other variants do not
// ("gpt-4o-mini" is never priced as "gpt-4o").
//
// The server prices its run catalog and the browser prices the calls on a
// run page with the same table (the server publishes the effective one), so
// both show the same figures.
package pricing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Price is a model's list price in US dollars per million tokens.
type Price struct {
	// Input is the price of prompt tokens, Output of completion tokens.
	Input  float64 `json:"input_per_million"`
	Output float64 `json:"output_per_million"`
}

// Table maps model names to prices. The zero value is an empty table; a
// Table is read-only once built and safe for concurrent use.
type Table struct {
	prices map[string]Price // keys normalised with normalise
}

// BuiltinDate is when the built-in prices were read off the vendors' price
// pages.
const BuiltinDate = "2026-11"

// builtin holds list prices (USD per million tokens, standard tier, no
// caching or batch discounts) of widely used hosted models. Open-weight
// models (Llama, Qwen, ...) are left out on purpose: their price depends
// on who hosts them.
var builtin = map[string]Price{
	"gpt-4o":            {2.50, 10.00},
	"gpt-4o-mini":       {0.15, 0.60},
	"gpt-4.1":           {2.00, 8.00},
	"gpt-4.1-mini":      {0.40, 1.60},
	"gpt-4.1-nano":      {0.10, 0.40},
	"gpt-4-turbo":       {10.00, 30.00},
	"gpt-3.5-turbo":     {0.50, 1.50},
	"o1":                {15.00, 60.00},
	"o1-mini":           {1.10, 4.40},
	"o3":                {2.00, 8.00},
	"o3-mini":           {1.10, 4.40},
	"o4-mini":           {1.10, 4.40},
	"claude-3-5-sonnet": {3.00, 15.00},
	"claude-3-7-sonnet": {3.00, 15.00},
	"claude-sonnet-4":   {3.00, 15.00},
	"claude-3-5-haiku":  {0.80, 4.00},
	"claude-3-haiku":    {0.25, 1.25},
	"claude-3-opus":     {15.00, 75.00},
	"claude-opus-4":     {15.00, 75.00},
	"gemini-1.5-pro":    {1.25, 5.00},
	"gemini-1.5-flash":  {0.075, 0.30},
	"gemini-2.0-flash":  {0.10, 0.40},
	"mistral-large":     {2.00, 6.00},
	"mistral-small":     {0.20, 0.60},
}

// Builtin returns the built-in table.
func Builtin() *Table { return &Table{prices: maps.Clone(builtin)} }

// MaxModels bounds a table, and MaxFileBytes the override file Parse reads.
const (
	MaxModels    = 1000
	MaxFileBytes = 1 << 20
	maxNameBytes = 200
	// maxPrice (USD per million tokens) catches a file written in dollars
	// per token by mistake the other way round, and absurd values.
	maxPrice = 10_000
)

// ErrInvalid is wrapped by every error Parse returns.
var ErrInvalid = errors.New("pricing: invalid price table")

// Parse reads a price table in the JSON form Table.MarshalJSON writes:
//
//	{"gpt-4o": {"input_per_million": 2.5, "output_per_million": 10}}
//
// Model names are matched case-insensitively. Unknown members, negative or
// absurd prices, duplicate models and names over 200 bytes are errors that
// name the model.
func Parse(data []byte) (*Table, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalid, len(data), MaxFileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: want a JSON object of models, got %v", ErrInvalid, tok)
	}
	t := &Table{prices: map[string]Price{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		name, _ := tok.(string)
		key := normalise(name)
		if key == "" || len(name) > maxNameBytes {
			return nil, fmt.Errorf("%w: model name %.40q is empty or longer than %d bytes", ErrInvalid, name, maxNameBytes)
		}
		if _, dup := t.prices[key]; dup {
			return nil, fmt.Errorf("%w: model %q listed twice", ErrInvalid, name)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: model %q: %w", ErrInvalid, name, err)
		}
		var p struct {
			Input  *float64 `json:"input_per_million"`
			Output *float64 `json:"output_per_million"`
		}
		pd := json.NewDecoder(bytes.NewReader(raw))
		pd.DisallowUnknownFields()
		if err := pd.Decode(&p); err != nil {
			return nil, fmt.Errorf("%w: model %q: %w", ErrInvalid, name, err)
		}
		if p.Input == nil || p.Output == nil {
			return nil, fmt.Errorf("%w: model %q needs input_per_million and output_per_million", ErrInvalid, name)
		}
		for _, v := range []float64{*p.Input, *p.Output} {
			if v < 0 || v > maxPrice || math.IsNaN(v) {
				return nil, fmt.Errorf("%w: model %q: price %v is not between 0 and %d dollars per million tokens", ErrInvalid, name, v, maxPrice)
			}
		}
		if len(t.prices) == MaxModels {
			return nil, fmt.Errorf("%w: more than %d models", ErrInvalid, MaxModels)
		}
		t.prices[key] = Price{Input: *p.Input, Output: *p.Output}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the table", ErrInvalid)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("%w: data after the table", ErrInvalid)
	}
	return t, nil
}

// Merge returns a table with t's prices, replaced or extended by over's.
func (t *Table) Merge(over *Table) *Table {
	out := &Table{prices: maps.Clone(t.prices)}
	if out.prices == nil {
		out.prices = map[string]Price{}
	}
	maps.Copy(out.prices, over.prices)
	return out
}

// Len returns the number of models priced.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.prices)
}

// Lookup returns model's price: the exact name (case-insensitive, a
// provider prefix such as "openai/" ignored), else the longest listed name
// that model extends by a version or date suffix ("-2024-07-18",
// "-20241022", "-latest", "@20240620", "-v2", ":beta").
func (t *Table) Lookup(model string) (Price, bool) {
	if t == nil {
		return Price{}, false
	}
	key := normalise(model)
	if p, ok := t.prices[key]; ok {
		return p, true
	}
	best, bestLen := Price{}, 0
	for name, p := range t.prices {
		if len(name) > bestLen && len(key) > len(name) && strings.HasPrefix(key, name) && versionSuffix(key[len(name):]) {
			best, bestLen = p, len(name)
		}
	}
	return best, bestLen > 0
}

// Cost returns the cost of a call to model with the given token counts,
// and false when the model has no price.
func (t *Table) Cost(model string, prompt, completion uint64) (float64, bool) {
	p, ok := t.Lookup(model)
	if !ok {
		return 0, false
	}
	return (float64(prompt)*p.Input + float64(completion)*p.Output) / 1e6, true
}

// MarshalJSON writes the table in the form Parse reads, models sorted.
func (t *Table) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if t != nil {
		for i, name := range slices.Sorted(maps.Keys(t.prices)) {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(name)
			v, _ := json.Marshal(t.prices[name])
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes (and Parse accepts).
func (t *Table) UnmarshalJSON(data []byte) error {
	p, err := Parse(data)
	if err != nil {
		return err
	}
	*t = *p
	return nil
}

// normalise lower-cases a model name and drops a provider prefix.
func normalise(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	return m
}

// versionSuffix reports whether s (what follows a listed name) only names
// a version of that model: a separator, then digits, dashes and dots, or
// "latest", or a short "v"/"beta"/"preview" tag.
func versionSuffix(s string) bool {
	if len(s) < 2 || (s[0] != '-' && s[0] != '@' && s[0] != ':') {
		return false
	}
	rest := s[1:]
	switch rest {
	case "latest", "beta", "preview":
		return true
	}
	if rest[0] == 'v' {
		rest = rest[1:]
	}
	if rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if (c < '0' || c > '9') && c != '-' && c != '.' {
			return false
		}
	}
	return rest[0] >= '0' && rest[0] <= '9'
}

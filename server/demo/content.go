package demo

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fake credentials the demo puts in user content on purpose, to show that
// they leave the process redacted. They are not real keys; they only have
// the shape of one.
const (
	// FakeSecret has the shape of an OpenAI key ("sk-" and 20+ letters and
	// digits); some users paste one into their message.
	FakeSecret = "sk-DEMOfakeKEY0123456789abcdefXYZ"
	// FakeBearer is an Authorization header some tool calls carry.
	FakeBearer = "Bearer dEm0T0kenAbCdEfGhIjKlMnOpQr"
)

var (
	words = strings.Fields(`the agent compares quarterly revenue growth across regions and notes that
		margins improved while churn stayed flat; sources include filings press releases analyst notes
		and customer interviews which together suggest demand remains resilient despite pricing pressure
		in several markets so the recommendation is to expand carefully while monitoring costs`)
	// Non-ASCII words appear in every text now and then.
	intlWords = []string{"café", "naïve", "München", "東京", "São Paulo", "Zoë", "façade", "Ελλάδα", "🚀", "✨", "日本語", "Ærøskøbing"}
	names     = []string{"Zoë Müller", "Kenji Tanaka", "Amélie Laurent", "Olu Adeyemi", "Priya Natarajan", "Lars Ødegård"}
	questions = []string{
		"How did the European subscription business perform last quarter?",
		"Which competitor gained share in 東京 and Osaka this year?",
		"What are the main risks in the café chain's expansion plan?",
		"Summarise the regulatory changes affecting payments in São Paulo.",
		"Why did support tickets about billing double in München?",
	}
	tickets = []string{
		"I was charged twice for my subscription this month, please refund one of the charges.",
		"The export to CSV fails with a timeout since yesterday's update.",
		"This is the third time I contact you — nobody answers! Fix my account NOW.",
		"Can I move my plan from monthly to yearly billing without losing credits?",
		"The API returns 502 errors for requests from our Tokyo (東京) region.",
	}
	topics = []string{
		"electric scooters in European cities", "plant-based coffee creamers", "AI copilots for accountants",
		"second-hand luxury watches", "heat pumps in cold climates",
	}
	models = []string{"gpt-4o-mini", "claude-3-5-sonnet", "llama-3.1-70b-instruct", "mistral-large"}
)

// sentence returns n words, some of them non-ASCII.
func sentence(r *rand.Rand, n int) string {
	ws := make([]string, n)
	for i := range ws {
		if r.IntN(12) == 0 {
			ws[i] = intlWords[r.IntN(len(intlWords))]
		} else {
			ws[i] = words[r.IntN(len(words))]
		}
	}
	return strings.Join(ws, " ")
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// ratio returns a score in [lo, hi) written with two decimals, or as an
// integral float ("1.0") when it rounds to one: the literal a Rust producer
// would send, which the state hash must keep.
func ratio(r *rand.Rand, lo, hi float64) (float64, json.Number) {
	v := lo + r.Float64()*(hi-lo)
	cents := int(v*100 + 0.5)
	if cents >= 100 {
		return 1, json.Number("1.0")
	}
	return float64(cents) / 100, json.Number(fmt.Sprintf("0.%02d", cents))
}

// bigID returns an integer above 2^53 (so a float64 would round it), as an
// exact literal.
func bigID(r *rand.Rand) json.Number {
	base, _ := new(big.Int).SetString("12345678901234567890", 10)
	return json.Number(base.Add(base, big.NewInt(r.Int64N(1_000_000))).String())
}

// uuidFrom returns a version 4 UUID made of the generator's bytes, so a
// seed fixes every thread_id.
func uuidFrom(r *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// document is one search hit.
func document(r *rand.Rand, source string, n int) map[string]any {
	_, score := ratio(r, 0.55, 1.02)
	return map[string]any{
		"id":      fmt.Sprintf("%s-%04d", source, r.IntN(10000)),
		"source":  source,
		"title":   capitalize(sentence(r, 6)),
		"snippet": sentence(r, 28+r.IntN(20)),
		"url":     fmt.Sprintf("https://example.com/%s/%d", source, n),
		"score":   score,
	}
}

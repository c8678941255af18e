package control

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendString_EscapesLikeTheCanonicalForm(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain", `"plain"`},
		{`"quoted" \ slash /`, `"\"quoted\" \\ slash /"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x7f", "\"\x7f\""},
		{"<&>", `"<&>"`},
		{"日本 🎉 \u2028", "\"日本 🎉 \u2028\""},
		// Each run of invalid bytes becomes one raw U+FFFD.
		{"a\xffb", "\"a\ufffdb\""},
		{"\xc3", "\"\ufffd\""},         // truncated sequence
		{"\xed\xa0\x80", "\"\ufffd\""}, // encoded surrogate
		{"\xc0\xafz", "\"\ufffdz\""},   // overlong
	}
	for _, tt := range tests {
		got := string(appendString(nil, tt.in))
		if got != tt.want {
			t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("appendString(%q) = %s is not a JSON string: %v", tt.in, got, err)
		}
		if utf8.ValidString(tt.in) && back != tt.in {
			t.Errorf("appendString(%q) decodes to %q", tt.in, back)
		}
	}
}

// randomString returns a string of random bytes biased towards the
// characters that need care: quotes, backslashes, control characters,
// invalid UTF-8 and multi-byte characters.
func randomString(r *rand.Rand) string {
	pieces := []string{`"`, `\`, "\x00", "\n", "\x1f", "\x7f", "\xff", "\xc3", "\xe2\x82", "é", "€", "🎉",
		"\u2028", "\ufffd", "a", "0", "/", "<", "\xed\xa0\x80", "\\u0000"}
	var b strings.Builder
	for range r.IntN(20) {
		if r.IntN(3) == 0 {
			b.WriteByte(byte(r.IntN(256)))
		} else {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
	}
	return b.String()
}

func TestAppendJSON_ValidForRandomStrings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		s := func() string { return randomString(r) }
		msgs := []Message{
			&Gap{Count: 1, Severity: s(), Message: s(), ThreadID: s()},
			&CursorStale{Message: s()},
			&ReplayComplete{Mode: s(), Reason: s()},
			&Disconnect{Reason: s(), Message: s()},
			&Error{Code: s(), Message: s()},
			&CursorReset{AdminToken: s()},
			&CursorResetComplete{Message: s()},
			&Resume{Mode: s(), From: s(), ThreadID: s(), LastSequencesByThread: map[string]uint64{s(): 1, s(): 2}},
		}
		for _, m := range msgs {
			out := m.AppendJSON(nil)
			if !json.Valid(out) || !utf8.Valid(out) {
				t.Fatalf("%T: invalid JSON output %q", m, out)
			}
			back, err := Parse(out)
			if err != nil && m.Type() != TypeResume {
				t.Fatalf("%T: Parse(%q): %v", m, out, err)
			}
			if err == nil && back.Type() != m.Type() {
				t.Fatalf("%T parsed back as %T", m, back)
			}
		}
	}
}

func TestAppendJSON_StringsSurviveRoundTripWhenValidUTF8(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		s := strings.ToValidUTF8(randomString(r), "\uFFFD")
		roundTrip(t, &Error{Code: s, Message: s})
		roundTrip(t, &Gap{Count: 1, ThreadID: s, Message: s})
		roundTrip(t, NewThreadResume(map[string]uint64{s: 1}))
	}
}

func TestAppendOffsetMap_SortsNumerically(t *testing.T) {
	got := string(appendOffsetMap(nil, map[int32]int64{100: 1, 9: 2, 10: 3, 0: 4, 2147483647: 5}))
	want := `{"0":"4","9":"2","10":"3","100":"1","2147483647":"5"}`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if got := string(appendOffsetMap(nil, nil)); got != `{}` {
		t.Fatalf("nil map written as %s", got)
	}
}

func TestAppendSequenceMap_SortsBytewise(t *testing.T) {
	got := string(appendSequenceMap(nil, map[string]uint64{"b": 1, "B": 2, "a\"": 3, "é": 4, "": 5}))
	want := `{"":"5","B":"2","a\"":"3","b":"1","é":"4"}`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

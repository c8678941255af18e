package control

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// comparable returns a copy of m without what AppendJSON deliberately does
// not write: Resume.Rejected, and a legacy LastSequence above
// MaxSafeInteger (upstream audit fix M-716).
func comparable(m Message) Message {
	r, ok := m.(*Resume)
	if !ok {
		return m
	}
	c := *r
	c.Rejected = nil
	if c.LastSequence != nil && *c.LastSequence > MaxSafeInteger {
		c.LastSequence = nil
	}
	return &c
}

// roundTrip checks that m writes valid JSON that parses back to an equal
// message, and returns the JSON.
func roundTrip(t *testing.T, m Message) []byte {
	t.Helper()
	out := m.AppendJSON(nil)
	if !json.Valid(out) {
		t.Fatalf("AppendJSON wrote invalid JSON: %q", out)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(%s) failed: %v", out, err)
	}
	if want := comparable(m); !reflect.DeepEqual(comparable(back), want) {
		t.Fatalf("round trip changed the message\n frame: %s\n  got: %#v\n want: %#v", out, back, want)
	}
	return out
}

func mustParse(t *testing.T, frame string) Message {
	t.Helper()
	m, err := Parse([]byte(frame))
	if err != nil {
		t.Fatalf("Parse(%s): %v", frame, err)
	}
	return m
}

// fieldErrorOf returns err as a *FieldError or fails the test.
func fieldErrorOf(t *testing.T, err error) *FieldError {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	return fe
}

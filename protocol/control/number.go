package control

import (
	"math"

	"github.com/tidwall/gjson"
)

// Largest values of the protocol's integer kinds, used as the max argument of
// readInteger.
const (
	maxOffset    = math.MaxInt64  // Kafka offsets, counts and totals (int64)
	maxSequence  = math.MaxUint64 // thread sequences (uint64)
	maxPartition = math.MaxInt32  // partitions (int32)
)

// numberError is a problem found by readInteger or readDecimalString. It is
// turned into a *FieldError by the caller, which knows the field's name.
type numberError struct {
	reason string
	class  error
}

// readInteger reads v as a non-negative integer not above max. v may be a
// JSON number or a JSON string holding a decimal integer; both are read from
// their literal text, never through float64, so the full uint64 range is
// exact. Booleans, null, objects and arrays are wrong types.
//
// This is the one integer parser of the package: int64 offsets, uint64
// sequences and int32 partitions all go through it with their own max.
func readInteger(v gjson.Result, max uint64) (uint64, *numberError) {
	switch v.Type {
	case gjson.Number:
		return classifyLiteral(v.Raw, false, max)
	case gjson.String:
		return readDecimalString(v.Str, max)
	default:
		return 0, &numberError{
			reason: "expected an integer (JSON number or decimal string), got " + jsonKind(v),
			class:  ErrWrongType,
		}
	}
}

// readDecimalString reads s, the content of a JSON string (or an object key),
// as a non-negative decimal integer not above max: "0" or a digit string
// without leading zeros. Nothing else is accepted: no sign, no spaces, no
// fraction or exponent, no other base.
func readDecimalString(s string, max uint64) (uint64, *numberError) {
	if s == "" {
		return 0, &numberError{reason: "empty string is not a decimal integer", class: ErrMalformedNumber}
	}
	if allDigits(s) && len(s) > 1 && s[0] == '0' {
		return 0, &numberError{
			reason: "string " + quoteForError(s) + " has leading zeros",
			class:  ErrMalformedNumber,
		}
	}
	if !isJSONNumber(s) {
		return 0, &numberError{
			reason: "string " + quoteForError(s) + " is not a decimal integer",
			class:  ErrMalformedNumber,
		}
	}
	return classifyLiteral(s, true, max)
}

// classifyLiteral reads lit, which follows the JSON number grammar, as a
// non-negative integer not above max. quoted tells whether lit came from a
// JSON string, which only changes how it is shown in error messages.
func classifyLiteral(lit string, quoted bool, max uint64) (uint64, *numberError) {
	// show formats lit for an error message; only called on failure.
	show := func() string {
		if quoted {
			return quoteForError(lit)
		}
		return shortLiteral(lit)
	}
	if lit != "" && lit[0] == '-' {
		return 0, &numberError{reason: "negative value " + show(), class: ErrNegative}
	}
	for i := 0; i < len(lit); i++ {
		switch lit[i] {
		case '.':
			return 0, &numberError{reason: "fraction " + show() + " is not an integer", class: ErrNotInteger}
		case 'e', 'E':
			return 0, &numberError{
				reason: "exponent form " + show() + " is not an integer literal",
				class:  ErrNotInteger,
			}
		}
	}
	if lit == "" || !allDigits(lit) {
		// Unreachable for input that passed the JSON grammar; kept so that a
		// surprise from the JSON reader can never be accepted as a number.
		return 0, &numberError{reason: "malformed number " + show(), class: ErrMalformedNumber}
	}
	var n uint64
	for i := 0; i < len(lit); i++ {
		d := uint64(lit[i] - '0')
		if n > (max-d)/10 {
			return 0, &numberError{
				reason: "value " + show() + " out of range (max " + formatUint(max) + ")",
				class:  ErrOutOfRange,
			}
		}
		n = n*10 + d
	}
	return n, nil
}

// allDigits reports whether s consists of ASCII digits only (true for "").
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isJSONNumber reports whether s is exactly one number in the JSON grammar
// (RFC 8259 §6): optional '-', int without leading zeros, optional fraction,
// optional exponent.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// jsonKind names the JSON type of v for error messages.
func jsonKind(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return "null"
	case gjson.True, gjson.False:
		return "boolean"
	case gjson.Number:
		return "number"
	case gjson.String:
		return "string"
	case gjson.JSON:
		if v.IsArray() {
			return "array"
		}
		return "object"
	}
	return "nothing"
}

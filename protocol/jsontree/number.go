package jsontree

import (
	"math/big"
	"strings"
)

// ValidNumber reports whether lit is exactly one JSON number
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?).
func ValidNumber(lit string) bool {
	end, ok := scanNumber([]byte(lit), 0)
	return ok && end == len(lit)
}

// scanNumber scans a number starting at start. On success it returns the
// offset after it; otherwise the offset of the offending byte.
func scanNumber(data []byte, start int) (int, bool) {
	i := start
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data):
		return i, false
	case data[i] == '0':
		i++
		if i < len(data) && isDigit(data[i]) {
			return i, false // leading zero
		}
	case isDigit(data[i]):
		i = skipDigits(data, i)
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return i, false
		}
		i = skipDigits(data, i)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return i, false
		}
		i = skipDigits(data, i)
	}
	return i, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func skipDigits(data []byte, i int) int {
	for i < len(data) && isDigit(data[i]) {
		i++
	}
	return i
}

// CompareNumbers compares two valid JSON number literals by their exact
// decimal value: -1 if a < b, 0 if equal, +1 if a > b. 1, 1.0, 10e-1 and 1E0
// are equal; -0 equals 0; 12345678901234567890 and 12345678901234567891
// differ (no float64 rounding); exponents of any size are handled.
func CompareNumbers(a, b string) int {
	x, y := decompose(a), decompose(b)
	if x.sign != y.sign {
		if x.sign < y.sign {
			return -1
		}
		return 1
	}
	if x.sign == 0 {
		return 0
	}
	// Both non-zero with the same sign: compare magnitudes, then flip for
	// negatives.
	c := x.exp.Cmp(y.exp)
	if c == 0 {
		c = compareDigits(x.digits, y.digits)
	}
	return c * x.sign
}

// decimal is a number's value as sign × 0.digits × 10^exp, with digits
// free of leading and trailing zeros, so equal values decompose identically.
type decimal struct {
	sign   int // -1, 0 or +1
	digits string
	exp    *big.Int
}

func decompose(lit string) decimal {
	neg := strings.HasPrefix(lit, "-")
	if neg {
		lit = lit[1:]
	}
	mant, expPart, _ := strings.Cut(strings.ReplaceAll(lit, "E", "e"), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	// Value = digits × 10^(e − len(frac)) = 0.digits × 10^(e − len(frac) + len(digits)).
	exp := new(big.Int)
	if expPart != "" {
		exp.SetString(strings.TrimPrefix(expPart, "+"), 10)
	}
	lead := len(digits) - len(strings.TrimLeft(digits, "0"))
	digits = strings.TrimRight(digits[lead:], "0")
	if digits == "" {
		return decimal{sign: 0}
	}
	exp.Add(exp, big.NewInt(int64(len(intPart)-lead)))
	sign := 1
	if neg {
		sign = -1
	}
	return decimal{sign: sign, digits: digits, exp: exp}
}

// compareDigits compares 0.a and 0.b as decimal fractions.
func compareDigits(a, b string) int {
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	// Neither has trailing zeros, so the longer one is larger.
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

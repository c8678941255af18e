package jsontree

import (
	"strings"
	"testing"
)

func TestCompareNumbers_ExactDecimalValue(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1", "1", 0},
		{"1", "1.0", 0},
		{"1", "1.000", 0},
		{"1", "10e-1", 0},
		{"1", "1E0", 0},
		{"1", "0.1e1", 0},
		{"100", "1e2", 0},
		{"100", "1E+2", 0},
		{"0", "-0", 0},
		{"0", "-0.0e5", 0},
		{"0", "0e-999999999999999999999", 0},
		{"12345678901234567890", "12345678901234567891", -1},
		{"12345678901234567890", "12345678901234567890.0", 0},
		{"9007199254740993", "9007199254740992", 1},
		{"1", "2", -1},
		{"-1", "-2", 1},
		{"-1", "1", -1},
		{"1", "-1", 1},
		{"0.1", "0.10000000000000001", -1},
		{"1e999999999999999999999", "1e999999999999999999998", 1},
		{"1e-999999999999999999999", "0", 1},
		{"-1e-999999999999999999999", "0", -1},
		{"2e10", "19999999999", 1},
		{"1.5", "1.49", 1},
		{"0.001", "1e-3", 0},
		{"123.456", "123456e-3", 0},
		{"5", "0.5", 1},
		{"-0.5", "-5", 1},
	}
	for _, c := range cases {
		if got := CompareNumbers(c.a, c.b); got != c.want {
			t.Errorf("CompareNumbers(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := CompareNumbers(c.b, c.a); got != -c.want {
			t.Errorf("CompareNumbers(%s, %s) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestValidNumber(t *testing.T) {
	for _, ok := range []string{"0", "-0", "1", "-1.5", "1e5", "1E-5", "0.0", "123456789012345678901234567890"} {
		if !ValidNumber(ok) {
			t.Errorf("ValidNumber(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "-", "01", "1.", ".1", "+1", "1e", "1e+", "0x1", "1_000", " 1", "1 ", "NaN", "Infinity", "--1", "1.2.3"} {
		if ValidNumber(bad) {
			t.Errorf("ValidNumber(%q) = true", bad)
		}
	}
}

func TestNumberNode_RejectsInvalidLiteral(t *testing.T) {
	if _, err := NumberNode("1.0"); err != nil {
		t.Errorf("NumberNode(1.0): %v", err)
	}
	if _, err := NumberNode(strings.Repeat("9", 10) + "x"); err == nil {
		t.Error("NumberNode accepted garbage")
	}
}

package control

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// member returns the gjson value of the JSON text v as it appears as a member
// value, the way the decoder sees it.
func member(v string) gjson.Result { return gjson.Get(`{"v":`+v+`}`, "v") }

func TestReadInteger_AcceptsNumbersAndDecimalStrings(t *testing.T) {
	tests := []struct {
		raw  string
		max  uint64
		want uint64
	}{
		{`0`, maxOffset, 0},
		{`"0"`, maxOffset, 0},
		{`42`, maxOffset, 42},
		{`"42"`, maxOffset, 42},
		{`"\u0034\u0032"`, maxOffset, 42}, // escapes are decoded first
		{`9223372036854775807`, maxOffset, 9223372036854775807},
		{`"9223372036854775807"`, maxOffset, 9223372036854775807},
		{`9007199254740993`, maxOffset, 9007199254740993}, // not representable as float64
		{`18446744073709551615`, maxSequence, 18446744073709551615},
		{`"18446744073709551615"`, maxSequence, 18446744073709551615},
		{`2147483647`, maxPartition, 2147483647},
		{`"2147483647"`, maxPartition, 2147483647},
	}
	for _, tt := range tests {
		got, err := readInteger(member(tt.raw), tt.max)
		if err != nil || got != tt.want {
			t.Errorf("readInteger(%s, max %d) = %d, %v; want %d", tt.raw, tt.max, got, err, tt.want)
		}
	}
}

func TestReadInteger_RejectsWithClearReasons(t *testing.T) {
	tests := []struct {
		raw    string
		max    uint64
		class  error
		reason string
	}{
		{`true`, maxOffset, ErrWrongType, "got boolean"},
		{`false`, maxOffset, ErrWrongType, "got boolean"},
		{`null`, maxOffset, ErrWrongType, "got null"},
		{`{}`, maxOffset, ErrWrongType, "got object"},
		{`[]`, maxOffset, ErrWrongType, "got array"},
		{`-5`, maxOffset, ErrNegative, "negative value -5"},
		{`-0`, maxOffset, ErrNegative, "negative value -0"},
		{`"-5"`, maxOffset, ErrNegative, `negative value "-5"`},
		{`-1.5`, maxOffset, ErrNegative, "negative value -1.5"},
		{`1.5`, maxOffset, ErrNotInteger, "fraction 1.5 is not an integer"},
		{`1.0`, maxOffset, ErrNotInteger, "fraction 1.0 is not an integer"},
		{`"1.0"`, maxOffset, ErrNotInteger, `fraction "1.0" is not an integer`},
		{`1e3`, maxOffset, ErrNotInteger, "exponent form 1e3 is not an integer literal"},
		{`1E+3`, maxOffset, ErrNotInteger, "exponent form 1E+3"},
		{`"1e3"`, maxOffset, ErrNotInteger, "exponent form"},
		{`9223372036854775808`, maxOffset, ErrOutOfRange, "value 9223372036854775808 out of range (max 9223372036854775807)"},
		{`"9223372036854775808"`, maxOffset, ErrOutOfRange, "max 9223372036854775807"},
		{`18446744073709551616`, maxSequence, ErrOutOfRange, "max 18446744073709551615"},
		{`99999999999999999999999999999`, maxSequence, ErrOutOfRange, "out of range"},
		{`2147483648`, maxPartition, ErrOutOfRange, "max 2147483647"},
		{`""`, maxOffset, ErrMalformedNumber, "empty string"},
		{`"abc"`, maxOffset, ErrMalformedNumber, `string "abc" is not a decimal integer`},
		{`" 5"`, maxOffset, ErrMalformedNumber, `string " 5"`},
		{`"5 "`, maxOffset, ErrMalformedNumber, `string "5 "`},
		{`"+5"`, maxOffset, ErrMalformedNumber, `string "+5"`},
		{`"0x10"`, maxOffset, ErrMalformedNumber, `string "0x10"`},
		{`"007"`, maxOffset, ErrMalformedNumber, `string "007" has leading zeros`},
		{`"00"`, maxOffset, ErrMalformedNumber, "leading zeros"},
		{`"1_000"`, maxOffset, ErrMalformedNumber, "not a decimal integer"},
		{`"٣"`, maxOffset, ErrMalformedNumber, "not a decimal integer"}, // Arabic-Indic digit
		{`"Infinity"`, maxOffset, ErrMalformedNumber, "not a decimal integer"},
		{`"NaN"`, maxOffset, ErrMalformedNumber, "not a decimal integer"},
		{`"5\u0000"`, maxOffset, ErrMalformedNumber, `"5\x00"`},
	}
	for _, tt := range tests {
		_, err := readInteger(member(tt.raw), tt.max)
		if err == nil {
			t.Errorf("readInteger(%s) succeeded", tt.raw)
			continue
		}
		if !errors.Is(err.class, tt.class) || !strings.Contains(err.reason, tt.reason) {
			t.Errorf("readInteger(%s) = %v %q; want %v containing %q", tt.raw, err.class, err.reason, tt.class, tt.reason)
		}
	}
}

func TestReadInteger_ShortensHugeValuesInReasons(t *testing.T) {
	huge := strings.Repeat("9", 100000)
	for _, raw := range []string{huge, `"` + huge + `"`, `"` + strings.Repeat("x", 100000) + `"`} {
		_, err := readInteger(member(raw), maxOffset)
		if err == nil || len(err.reason) > 200 {
			t.Fatalf("reason for a huge value is %d bytes", len(err.reason))
		}
	}
}

func TestFieldError_MessagesNameTheField(t *testing.T) {
	tests := []struct {
		frame, want string
	}{
		{`{"type":"cursor","partition":0,"offset":-5}`, `control: field "offset": negative value -5`},
		{`{"type":"cursor","partition":true,"offset":"1"}`,
			`control: field "partition": expected an integer (JSON number or decimal string), got boolean`},
		{`{"type":"cursor","partition":0,"offset":"007"}`, `control: field "offset": string "007" has leading zeros`},
		{`{"type":"cursor_stale","partition":0,"requested":1e3,"oldest":"1"}`,
			`control: field "requested": exponent form 1e3 is not an integer literal`},
		{`{"type":"error","code":5}`, `control: field "code": expected a string, got number`},
		{`{"type":"replay_complete","totalReplayed":1,"capped":"yes"}`, `control: field "capped": expected a boolean, got string`},
		{`{"type":"replay_complete","totalReplayed":1,"lastOffsetsByPartition":{"3":1.5}}`,
			`control: lastOffsetsByPartition["3"]: fraction 1.5 is not an integer`},
		{`{"type":"replay_complete","totalReplayed":1,"lastOffsetsByPartition":{"-1":"1"}}`,
			`control: lastOffsetsByPartition["-1"]: invalid partition key: negative value "-1"`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.frame))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%s)\n got: %v\nwant: %s", tt.frame, err, tt.want)
		}
	}
}

func TestFieldError_PathQuotesHostileKeys(t *testing.T) {
	fe := &FieldError{Field: "lastSequencesByThread", Key: "a\"b\n\xff" + strings.Repeat("k", 100), HasKey: true, Reason: "r"}
	got := fe.Error()
	if !strings.HasPrefix(got, `control: lastSequencesByThread["a\"b\n\xff`) || strings.ContainsAny(got, "\n\xff") ||
		len(got) > 150 {
		t.Fatalf("Error() = %q", got)
	}
}

func TestIsJSONNumber_FollowsTheGrammar(t *testing.T) {
	yes := []string{"0", "-0", "1", "10", "-1.5", "1e3", "1E-3", "0.0", "1.5e+10"}
	no := []string{"", "-", "+1", "01", "1.", ".1", "1e", "1e+", "0x1", " 1", "1 ", "--1", "1.2.3", "Infinity"}
	for _, s := range yes {
		if !isJSONNumber(s) {
			t.Errorf("isJSONNumber(%q) = false", s)
		}
	}
	for _, s := range no {
		if isJSONNumber(s) {
			t.Errorf("isJSONNumber(%q) = true", s)
		}
	}
}

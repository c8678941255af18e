package redisstore

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestKeyLayout(t *testing.T) {
	k := keys{prefix: "dashstream-replay:v1_abc"}
	for _, tc := range []struct{ got, want string }{
		{k.offset(3, 42), "dashstream-replay:v1_abc:partition:3:offset:42"},
		{k.offset(0, math.MaxInt64), "dashstream-replay:v1_abc:partition:0:offset:9223372036854775807"},
		{k.offsets(12), "dashstream-replay:v1_abc:partition:12:offsets"},
		{k.threadSeq("run-1", 7), "dashstream-replay:v1_abc:thread:run-1:seq:7"},
		{k.threadSeq("t", math.MaxUint64), "dashstream-replay:v1_abc:thread:t:seq:18446744073709551615"},
		{k.sequences("run-1"), "dashstream-replay:v1_abc:thread:run-1:sequences"},
		{k.partitions(), "dashstream-replay:v1_abc:partitions"},
		{k.offsetsPattern(), "dashstream-replay:v1_abc:partition:*:offsets"},
		{k.all(), "dashstream-replay:v1_abc:*"},
		{keys{prefix: `p:a*b?[c]\d^`}.all(), `p:a\*b\?\[c\]\\d\^:*`},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestSanitizeThreadID(t *testing.T) {
	b64 := func(s string) string { return "b64_" + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct{ id, want string }{
		{"run-1", "run-1"},
		{"A_z-09", "A_z-09"},
		{strings.Repeat("a", 128), strings.Repeat("a", 128)},
		{strings.Repeat("a", 129), b64(strings.Repeat("a", 129))},
		{"with:colon", b64("with:colon")},
		{"with space", b64("with space")},
		{"dot.ted", b64("dot.ted")},
		{"ünï", b64("ünï")},
		{"\x00", b64("\x00")},
		{"b64_x", b64("b64_x")}, // our deviation: the marker is always encoded
		{"", "b64_"},
	} {
		if got := sanitizeThreadID(tc.id); got != tc.want {
			t.Errorf("sanitizeThreadID(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}

func TestParseThreadSegment(t *testing.T) {
	for _, tc := range []struct {
		seg, want string
		ok        bool
	}{
		{"run-1", "run-1", true},
		{"b64_OjE", ":1", true},
		{"b64_", "", true},
		{"b64_YQ", "", false},   // "a" is written raw: ambiguous
		{"b64_OjE=", "", false}, // padding
		{"b64_OjF", "", false},  // non-canonical trailing bits
		{"b64_!!", "", false},
		{"has:colon", "", false},
		{strings.Repeat("a", 129), "", false},
		{"", "", false},
	} {
		got, err := parseThreadSegment(tc.seg)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseThreadSegment(%q) = %q, %v; want %q, ok=%v", tc.seg, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, errBadThreadSegment) {
			t.Errorf("parseThreadSegment(%q): error %v does not wrap errBadThreadSegment", tc.seg, err)
		}
	}
}

func TestParseMembers(t *testing.T) {
	for _, tc := range []struct {
		member string
		offset int64
		ok     bool
	}{
		{"p:partition:3:offset:42", 42, true},
		{"p:partition:3:offset:0", 0, true},
		{"a:offset:1:partition:3:offset:9223372036854775807", math.MaxInt64, true},
		{"p:partition:3:offset:9223372036854775808", 0, false},
		{"p:partition:3:offset:-1", 0, false},
		{"p:partition:3:offset:+1", 0, false},
		{"p:partition:3:offset:01", 0, false},
		{"p:partition:3:offset:", 0, false},
		{"p:partition:3:offsets", 0, false},
		{"", 0, false},
	} {
		got, err := parseOffsetMember(tc.member)
		if (err == nil) != tc.ok || got != tc.offset {
			t.Errorf("parseOffsetMember(%q) = %d, %v; want %d, ok=%v", tc.member, got, err, tc.offset, tc.ok)
		}
	}
	for _, tc := range []struct {
		member string
		seq    uint64
		ok     bool
	}{
		{"p:thread:run-1:seq:7", 7, true},
		{"p:thread:b64_OjE:seq:18446744073709551615", math.MaxUint64, true},
		{"p:thread:t:seq:18446744073709551616", 0, false},
		{"p:thread:t:seq:x", 0, false},
		{"7", 0, false},
		{":", 0, false},
	} {
		got, err := parseSeqMember(tc.member)
		if (err == nil) != tc.ok || got != tc.seq {
			t.Errorf("parseSeqMember(%q) = %d, %v; want %d, ok=%v", tc.member, got, err, tc.seq, tc.ok)
		}
	}
	for _, tc := range []struct {
		key string
		p   int32
		ok  bool
	}{
		{"dashstream-replay:v1_x:partition:7:offsets", 7, true},
		{"dashstream-replay:v1_x:partition:2147483647:offsets", math.MaxInt32, true},
		{"dashstream-replay:v1_x:partition:2147483648:offsets", 0, false},
		{"dashstream-replay:v1_x:partition:-1:offsets", 0, false},
		{"dashstream-replay:v1_x:partition:7:offset:1", 0, false},
		{"dashstream-replay:v1_x:thread:7:offsets", 0, false},
		{"partition:7:offsets", 0, false},
		{"x:partition:07:offsets", 0, false},
		{"x:partition:+7:offsets", 0, false},
	} {
		got, ok := parseOffsetsKey(tc.key)
		if ok != tc.ok || got != tc.p {
			t.Errorf("parseOffsetsKey(%q) = %d, %v; want %d, %v", tc.key, got, ok, tc.p, tc.ok)
		}
	}
}

func TestThreadValueHeader(t *testing.T) {
	b := encodeThreadValue(-2, math.MinInt64+5, []byte("v"))
	want := []byte{0xfe, 0xff, 0xff, 0xff, 5, 0, 0, 0, 0, 0, 0, 0x80, 'v'}
	if !bytes.Equal(b, want) {
		t.Fatalf("encode = %x, want %x", b, want)
	}
	p, o, v, err := decodeThreadValue(b)
	if err != nil || p != -2 || o != math.MinInt64+5 || string(v) != "v" {
		t.Fatalf("decode = %d, %d, %q, %v", p, o, v, err)
	}
	for n := range threadHeaderLen {
		if _, _, _, err := decodeThreadValue(make([]byte, n)); !errors.Is(err, errShortThreadValue) {
			t.Errorf("decode of %d bytes: %v", n, err)
		}
	}
}

func FuzzThreadKey(f *testing.F) {
	for _, s := range []string{"", "run-1", ":1", "b64_OjE", "b64_", "ünï", strings.Repeat("x", 129), "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		seg := sanitizeThreadID(id)
		if !safeKeySegment(seg) || strings.Contains(seg, ":") {
			t.Fatalf("sanitizeThreadID(%q) = %q holds unsafe bytes", id, seg)
		}
		back, err := parseThreadSegment(seg)
		if err != nil || back != id {
			t.Fatalf("parse(sanitize(%q)) = %q, %v", id, back, err)
		}
		// Read as a segment, id parses only if it is canonical.
		if got, err := parseThreadSegment(id); err == nil && sanitizeThreadID(got) != id {
			t.Fatalf("parseThreadSegment(%q) = %q, which sanitises to %q", id, got, sanitizeThreadID(got))
		}
		if utf8.ValidString(id) != utf8.ValidString(back) {
			t.Fatal("round trip changed UTF-8 validity")
		}
	})
}

func FuzzParseMember(f *testing.F) {
	for _, s := range []string{"p:partition:3:offset:42", "p:thread:t:seq:7", ":offset:", "::", "", "x:offset:01", "a:offset:9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, member string) {
		if o, err := parseOffsetMember(member); err == nil {
			if o < 0 || !strings.HasSuffix(member, ":offset:"+strconv.FormatInt(o, 10)) {
				t.Fatalf("parseOffsetMember(%q) = %d", member, o)
			}
		}
		if seq, err := parseSeqMember(member); err == nil {
			if !strings.HasSuffix(member, ":"+strconv.FormatUint(seq, 10)) {
				t.Fatalf("parseSeqMember(%q) = %d", member, seq)
			}
		}
		if p, ok := parseOffsetsKey(member); ok {
			if p < 0 || !strings.HasSuffix(member, ":partition:"+strconv.Itoa(int(p))+":offsets") {
				t.Fatalf("parseOffsetsKey(%q) = %d", member, p)
			}
		}
	})
}

func FuzzThreadValue(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 'v'})
	f.Add(bytes.Repeat([]byte{0xff}, 11))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, o, v, err := decodeThreadValue(b)
		if err != nil {
			if len(b) >= threadHeaderLen {
				t.Fatalf("decode of %d bytes failed: %v", len(b), err)
			}
			return
		}
		if again := encodeThreadValue(p, o, v); !bytes.Equal(again, b) {
			t.Fatalf("encode(decode(%x)) = %x", b, again)
		}
	})
}

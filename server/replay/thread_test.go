package replay

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeThreadID(t *testing.T) {
	if got := NormalizeThreadID("  run-1 \n"); got != "run-1" {
		t.Errorf("trim: %q", got)
	}
	if got := NormalizeThreadID(strings.Repeat("a", MaxThreadIDBytes)); len(got) != MaxThreadIDBytes {
		t.Errorf("an id of exactly the limit changed: %d bytes", len(got))
	}
	long := strings.Repeat("é", 200) // 400 bytes, every cut point risks splitting a character
	got := NormalizeThreadID(long)
	if len(got) > MaxThreadIDBytes || !utf8.ValidString(got) || !strings.Contains(got, "...") {
		t.Errorf("long id normalised to %d bytes, valid UTF-8 %v: %q", len(got), utf8.ValidString(got), got)
	}
	if NormalizeThreadID(long+"x") == got {
		t.Error("two long ids with the same prefix collide")
	}
	if NormalizeThreadID(long) != got {
		t.Error("normalisation is not deterministic")
	}
}

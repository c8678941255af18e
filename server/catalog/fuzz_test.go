package catalog

import (
	"net/url"
	"testing"
	"unicode/utf8"
)

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "limit=10", "limit=500&status=failed&graph=g&q=x", "since=2026-03-01T12:00:00Z&until=2026-03-02T00:00:00Z",
		"next=cjEuMTc5NjM5NDg3MTY4OTI5MC5hYmM", "limit=-1", "status=x&status=y", "q=%ff", "next=%00", "since=0001-01-01T00:00:00Z", "zz=1&token=t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			if _, ok := err.(*ParamError); !ok {
				t.Fatalf("%q: %T is not a ParamError", raw, err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > MaxLimit || !utf8.ValidString(q.Text) || !utf8.ValidString(q.Graph) ||
			(q.Since != 0 && q.Until != 0 && q.Until <= q.Since) {
			t.Fatalf("%q: accepted %+v", raw, q)
		}
		// Whatever is accepted can be served.
		c, _ := filled(3)
		_ = c.Query(q)
	})
}

func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []Cursor{{Start: 1, Thread: "t"}, {Start: 1 << 62, Thread: "a.b.c"}, {Thread: "é/ü"}} {
		f.Add(c.Encode())
	}
	f.Add("")
	f.Add("cjEu")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s)
		if err != nil {
			return
		}
		back, err := DecodeCursor(c.Encode())
		if err != nil || back != c {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, c, c.Encode(), back, err)
		}
	})
}

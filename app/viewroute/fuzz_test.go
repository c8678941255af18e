package viewroute

import (
	"net/url"
	"testing"
)

// FuzzParse: any address a user can type or paste gives a view without a
// panic, and the canonical URL of that view parses back to the same view
// (so the address bar, rewritten with replaceState, never drifts); an
// unknown path's canonical URL is the overview.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/", "/runs", "/runs?status=failed&q=a+b%26c", "/runs/t-1?seq=3&node=web+search&tab=tools",
		"/runs/a%2Fb%3Fc", "/runs/?seq=-1", "/runs/x?seq=99999999999999999999999", "/runs/x?tab=../../etc",
		"/runs/%ZZ", "//runs//x", "/runs/x?seq=3&seq=4", "/nope", "/runs/\u00e9t\u00e9?node=%00",
		"/runs/x?tab=timeline&q=a%26b&page=2", "/runs/x?page=0", "/compare?a=x&b=y", "/compare?a=&b=%2F", "/compare?b=only",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return // the browser never hands the app an unparsable location
		}
		v := Parse(u)
		back := Parse(v.URL())
		want := v
		if want.Page == NotFound { // an unknown path has no address of its own: it links home
			want = View{Page: Overview}
		}
		if back != want {
			t.Fatalf("%q parsed as %+v, whose URL %q parses as %+v", raw, v, v.String(), back)
		}
	})
}

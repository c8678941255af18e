package viewroute

import (
	"net/url"
	"testing"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestParse_ReadsEveryRouteAndDropsInvalidParameters(t *testing.T) {
	cases := []struct {
		url  string
		want View
	}{
		{"/", View{Page: Overview}},
		{"", View{Page: Overview}},
		{"/runs", View{Page: Runs}},
		{"/runs/", View{Page: Runs}},
		{"/runs?status=failed&q=sky", View{Page: Runs, Status: "failed", Query: "sky"}},
		{"/runs/abc", View{Page: Run, Thread: "abc"}},
		{"/runs/abc?seq=3", View{Page: Run, Thread: "abc", Seq: 3}},
		{"/runs/abc?seq=3&node=write&tab=diff", View{Page: Run, Thread: "abc", Seq: 3, Node: "write", Tab: TabDiff}},
		{"/runs/abc?tab=state", View{Page: Run, Thread: "abc", Tab: TabState}},
		{"/runs/abc?tab=timeline&q=llm+end&page=3", View{Page: Run, Thread: "abc", Tab: TabTimeline, Query: "llm end", ListPage: 3}},
		{"/runs/abc?page=1", View{Page: Run, Thread: "abc"}},
		{"/runs/abc?page=-4", View{Page: Run, Thread: "abc"}},
		{"/runs/abc?page=99999999999", View{Page: Run, Thread: "abc"}},
		{"/compare?a=t1&b=t%2F2", View{Page: Compare, A: "t1", B: "t/2"}},
		{"/compare", View{Page: Compare}},
		{"/compare/x", View{Page: NotFound}},
		{"/runs/abc?seq=abc&tab=bogus", View{Page: Run, Thread: "abc"}},
		{"/runs/abc?seq=-1", View{Page: Run, Thread: "abc"}},
		{"/runs/abc?seq=18446744073709551615", View{Page: Run, Thread: "abc", Seq: 18446744073709551615}},
		{"/runs/a%2Fb%20c", View{Page: Run, Thread: "a/b c"}},
		{"/runs/", View{Page: Runs}},
		{"/nope", View{Page: NotFound}},
	}
	for _, c := range cases {
		if got := Parse(mustURL(t, c.url)); got != c.want {
			t.Errorf("Parse(%q) = %+v, want %+v", c.url, got, c.want)
		}
	}
}

func TestString_BuildsCanonicalURLsThatParseBack(t *testing.T) {
	cases := []struct {
		view View
		want string
	}{
		{View{Page: Overview}, "/"},
		{View{Page: NotFound}, "/"},
		{View{Page: Runs}, "/runs"},
		{View{Page: Runs, Status: "failed", Query: "a b&c"}, "/runs?status=failed&q=a+b%26c"},
		{View{Page: Run, Thread: "t-1"}, "/runs/t-1"},
		{View{Page: Run, Thread: "t-1", Seq: 3}, "/runs/t-1?seq=3"},
		{View{Page: Run, Thread: "t-1", Seq: 3, Node: "web search", Tab: TabTools}, "/runs/t-1?seq=3&node=web+search&tab=tools"},
		{View{Page: Run, Thread: "t-1", Tab: TabState}, "/runs/t-1?tab=state"},
		{View{Page: Run, Thread: "t-1", Seq: 9, Tab: TabEvents, Query: "node end", ListPage: 2}, "/runs/t-1?seq=9&tab=events&q=node+end&page=2"},
		{View{Page: Compare, A: "a 1", B: "b&2"}, "/compare?a=a+1&b=b%262"},
		{View{Page: Run, Thread: "a/b?c"}, "/runs/a%2Fb%3Fc"},
	}
	for _, c := range cases {
		got := c.view.String()
		if got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.view, got, c.want)
			continue
		}
		back := Parse(c.view.URL())
		want := c.view
		if want.Page == NotFound {
			want = View{Page: Overview}
		}
		if back != want {
			t.Errorf("Parse(%q) = %+v, want %+v", got, back, want)
		}
	}
}

func TestView_LiveAndActiveTab(t *testing.T) {
	if !(View{}).Live() || (View{Seq: 1}).Live() {
		t.Error("Live must mean no seq")
	}
	if (View{}).ActiveTab() != TabState || (View{Tab: TabEvents}).ActiveTab() != TabEvents {
		t.Error("ActiveTab must default to state")
	}
	if (View{}).TabOr(TabTimeline) != TabTimeline || (View{Tab: TabState}).TabOr(TabTimeline) != TabState {
		t.Error("TabOr must give the run's default only when the URL names no tab")
	}
}

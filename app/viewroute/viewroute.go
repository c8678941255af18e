// Package viewroute turns dashboard URLs into the view they bookmark and
// back: `/`, `/runs`, `/runs/{thread_id}?seq=N&node=ID&tab=T&q=Q&page=P` and
// `/compare?a={thread_id}&b={thread_id}`. The
// address bar must always say what is on screen, so building and parsing
// are exact inverses for every view a user can reach.
package viewroute

import (
	"net/url"
	"strconv"
	"strings"
)

// Page is which page a URL shows.
type Page uint8

// The pages. NotFound is any path the dashboard does not serve.
const (
	Overview Page = iota
	Runs
	Run
	NotFound
	Compare
)

// Tab is the panel of the run view below the graph.
type Tab string

// The run view's tabs, in the order they are shown.
const (
	TabTimeline Tab = "timeline"
	TabState    Tab = "state"
	TabDiff     Tab = "diff"
	TabEvents   Tab = "events"
	TabTokens   Tab = "tokens"
	TabTools    Tab = "tools"
	TabMetrics  Tab = "metrics"
)

// Tabs lists the tabs in display order.
var Tabs = []Tab{TabTimeline, TabState, TabDiff, TabEvents, TabTokens, TabTools, TabMetrics}

// DefaultTab is shown when the URL names none, for a run that sent its
// graph's schema; a run without one opens on TabTimeline (the page knows
// which, see TabOr). The URL leaves the run's default tab out.
const DefaultTab = TabState

// ComparePath is the path of the comparison of two runs.
const ComparePath = "/compare"

// RunsPrefix is the path of the runs list; a run is RunsPrefix + "/" + id.
const RunsPrefix = "/runs"

// View is everything a URL says about what is on screen.
type View struct {
	Page Page
	// Thread is the run's thread_id (Page Run).
	Thread string
	// Seq is the sequence the run view is paused at; 0 means live.
	Seq uint64
	// Node is the selected graph node, "" for none.
	Node string
	// Tab is the run view's panel; "" means DefaultTab.
	Tab Tab
	// Status and Query filter the runs list; on a run's page Query is the
	// events search.
	Status string
	Query  string
	// ListPage is the run view's events page, counted from 1; 0 is the
	// first page (and is left out of the URL).
	ListPage int
	// A and B are the threads of the two runs a comparison shows.
	A, B string
}

// Live reports whether the run view follows the run as it happens.
func (v View) Live() bool { return v.Seq == 0 }

// ActiveTab returns the tab to show for a run with a schema.
func (v View) ActiveTab() Tab { return v.TabOr(DefaultTab) }

// TabOr returns the tab to show when the run's default tab is def.
func (v View) TabOr(def Tab) Tab {
	if v.Tab == "" {
		return def
	}
	return v.Tab
}

// ParseTab returns the tab named s, and false for an unknown name.
func ParseTab(s string) (Tab, bool) {
	for _, t := range Tabs {
		if string(t) == s {
			return t, true
		}
	}
	return "", false
}

// Parse reads a URL. Invalid parameters are dropped rather than rejected:
// a hand-edited bookmark with seq=abc still opens the run, live.
func Parse(u *url.URL) View {
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	q := u.Query()
	switch {
	case path == "/":
		return View{Page: Overview}
	case path == RunsPrefix || path == RunsPrefix+"/":
		return View{Page: Runs, Status: q.Get("status"), Query: q.Get("q")}
	case path == ComparePath:
		return View{Page: Compare, A: q.Get("a"), B: q.Get("b")}
	case strings.HasPrefix(path, RunsPrefix+"/"):
		id, err := url.PathUnescape(strings.TrimSuffix(path[len(RunsPrefix)+1:], "/"))
		if err != nil || id == "" {
			return View{Page: NotFound}
		}
		v := View{Page: Run, Thread: id, Node: q.Get("node"), Query: q.Get("q")}
		if n, err := strconv.ParseUint(q.Get("seq"), 10, 64); err == nil {
			v.Seq = n
		}
		// An explicit tab is kept even when it is a run's default: which tab
		// is the default depends on the run, which the URL does not know.
		if t, ok := ParseTab(q.Get("tab")); ok {
			v.Tab = t
		}
		if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && n <= maxListPage {
			v.ListPage = n
		}
		return v
	}
	return View{Page: NotFound}
}

// maxListPage bounds the events page a URL may name.
const maxListPage = 1 << 20

// CompareURL returns the address of the comparison of runs a and b.
func CompareURL(a, b string) string { return View{Page: Compare, A: a, B: b}.String() }

// RunPath returns the path of a run's page.
func RunPath(thread string) string { return RunsPrefix + "/" + url.PathEscape(thread) }

// String returns the URL (path and query) of the view, parameters in the
// order seq, node, tab, q, page so bookmarks read naturally; defaults are
// left out.
func (v View) String() string {
	switch v.Page {
	case Runs:
		var q []string
		if v.Status != "" {
			q = append(q, "status="+url.QueryEscape(v.Status))
		}
		if v.Query != "" {
			q = append(q, "q="+url.QueryEscape(v.Query))
		}
		return join(RunsPrefix, q)
	case Run:
		var q []string
		if v.Seq != 0 {
			q = append(q, "seq="+strconv.FormatUint(v.Seq, 10))
		}
		if v.Node != "" {
			q = append(q, "node="+url.QueryEscape(v.Node))
		}
		if v.Tab != "" {
			q = append(q, "tab="+url.QueryEscape(string(v.Tab)))
		}
		if v.Query != "" {
			q = append(q, "q="+url.QueryEscape(v.Query))
		}
		if v.ListPage > 1 {
			q = append(q, "page="+strconv.Itoa(v.ListPage))
		}
		return join(RunPath(v.Thread), q)
	case Compare:
		var q []string
		if v.A != "" {
			q = append(q, "a="+url.QueryEscape(v.A))
		}
		if v.B != "" {
			q = append(q, "b="+url.QueryEscape(v.B))
		}
		return join(ComparePath, q)
	}
	return "/"
}

// URL returns the view as a *url.URL (path and query only).
func (v View) URL() *url.URL {
	u, err := url.Parse(v.String())
	if err != nil {
		// Unreachable: String escapes every part it writes.
		return &url.URL{Path: "/"}
	}
	return u
}

func join(path string, q []string) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + strings.Join(q, "&")
}

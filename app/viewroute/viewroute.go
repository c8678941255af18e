// Package viewroute turns dashboard URLs into the view they bookmark and
// back: `/`, `/runs` and `/runs/{thread_id}?seq=N&node=ID&tab=T`. The
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
)

// Tab is the panel of the run view below the graph.
type Tab string

// The run view's tabs, in the order they are shown.
const (
	TabState   Tab = "state"
	TabDiff    Tab = "diff"
	TabEvents  Tab = "events"
	TabTokens  Tab = "tokens"
	TabTools   Tab = "tools"
	TabMetrics Tab = "metrics"
)

// Tabs lists the tabs in display order.
var Tabs = []Tab{TabState, TabDiff, TabEvents, TabTokens, TabTools, TabMetrics}

// DefaultTab is shown when the URL names none (and is then left out of it).
const DefaultTab = TabState

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
	// Status and Query filter the runs list.
	Status string
	Query  string
}

// Live reports whether the run view follows the run as it happens.
func (v View) Live() bool { return v.Seq == 0 }

// ActiveTab returns the tab to show.
func (v View) ActiveTab() Tab {
	if v.Tab == "" {
		return DefaultTab
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
	case strings.HasPrefix(path, RunsPrefix+"/"):
		id, err := url.PathUnescape(strings.TrimSuffix(path[len(RunsPrefix)+1:], "/"))
		if err != nil || id == "" {
			return View{Page: NotFound}
		}
		v := View{Page: Run, Thread: id, Node: q.Get("node")}
		if n, err := strconv.ParseUint(q.Get("seq"), 10, 64); err == nil {
			v.Seq = n
		}
		if t, ok := ParseTab(q.Get("tab")); ok && t != DefaultTab {
			v.Tab = t
		}
		return v
	}
	return View{Page: NotFound}
}

// RunPath returns the path of a run's page.
func RunPath(thread string) string { return RunsPrefix + "/" + url.PathEscape(thread) }

// String returns the URL (path and query) of the view, parameters in the
// order seq, node, tab so bookmarks read naturally; defaults are left out.
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
		if v.Tab != "" && v.Tab != DefaultTab {
			q = append(q, "tab="+url.QueryEscape(string(v.Tab)))
		}
		return join(RunPath(v.Thread), q)
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

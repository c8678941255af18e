package applybench

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// profileRun is run with the page's CPU profile taken by Chromium's own
// profiler (the DevTools protocol) over the timed passes, after one
// unprofiled round to warm the page up. It writes the functions with the
// most samples, self and inclusive, to w.
func (h *harness) profileRun(tb testing.TB, w io.Writer, page, stream string, passes, top int) {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(h.ctx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(h.url+page)); err != nil {
		tb.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.benchReady === true`)); err != nil {
		tb.Fatal(err)
	}
	var last passResult
	eval := func() {
		var err error
		if last, err = chromedp.Run(ctx, chromedp.Evaluate[passResult](fmt.Sprintf(`benchRun(%q, %d)`, stream+".bin", passes), chromedp.EvalAwaitPromise)); err != nil {
			tb.Fatal(err)
		}
	}
	eval()
	for _, step := range []func() error{
		func() error { _, err := chromedp.Call(ctx, profiler.Enable, cdp.Empty{}); return err },
		func() error {
			_, err := chromedp.Call(ctx, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 100})
			return err
		},
		func() error { _, err := chromedp.Call(ctx, profiler.Start, cdp.Empty{}); return err },
	} {
		if err := step(); err != nil {
			tb.Fatal(err)
		}
	}
	eval()
	res, err := chromedp.Call(ctx, profiler.Stop, cdp.Empty{})
	if err != nil {
		tb.Fatal(err)
	}
	self, incl, total := summarize(res.Profile)
	fmt.Fprintf(w, "profile of %s on %s: %d samples\n", page, stream, total)
	if gc := last.Result.GC; gc != nil {
		fmt.Fprintf(w, "  garbage collection in the last pass: %.0f cycles, %.0f MB allocated, heap %.0f MB after\n",
			gc["cycles"], gc["allocatedMB"], gc["heapMB"])
	}
	for _, list := range []struct {
		name string
		m    map[string]int64
	}{{"self", self}, {"inclusive", incl}} {
		names := make([]string, 0, len(list.m))
		for n := range list.m {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int { return cmp.Compare(list.m[b], list.m[a]) })
		fmt.Fprintf(w, "  top %s:\n", list.name)
		for _, n := range names[:min(top, len(names))] {
			fmt.Fprintf(w, "    %5.1f%%  %s\n", 100*float64(list.m[n])/float64(total), n)
		}
	}
}

// summarize sums a profile's samples per function: self (on top of the
// stack) and inclusive (anywhere on it, once per stack).
func summarize(p *profiler.Profile) (self, incl map[string]int64, total int64) {
	self, incl = map[string]int64{}, map[string]int64{}
	byID := map[int64]*profiler.ProfileNode{}
	for _, n := range p.Nodes {
		byID[n.ID] = n
	}
	name := func(n *profiler.ProfileNode) string {
		if n.CallFrame.FunctionName == "" {
			return "(anonymous) " + n.CallFrame.URL
		}
		return n.CallFrame.FunctionName
	}
	var walk func(n *profiler.ProfileNode, onStack map[string]int) int64
	walk = func(n *profiler.ProfileNode, onStack map[string]int) int64 {
		nm := name(n)
		sum := n.HitCount
		self[nm] += n.HitCount
		onStack[nm]++
		for _, c := range n.Children {
			sum += walk(byID[c], onStack)
		}
		onStack[nm]--
		if onStack[nm] == 0 {
			incl[nm] += sum
		}
		return sum
	}
	total = walk(p.Nodes[0], map[string]int{})
	for _, k := range []string{"(idle)", "(program)", "(root)"} {
		total -= self[k]
		delete(self, k)
		delete(incl, k)
	}
	return self, incl, total
}

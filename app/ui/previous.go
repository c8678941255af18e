package ui

import (
	"context"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/dashstream/dashstream/app/catalog"
)

// previousRun finds the run a run page compares with: the latest run of
// the same graph that started before it. The gateway's catalog knows
// every retained run, so it is asked once per run page; the runs this tab
// holds answer until it has, or when it cannot be reached.
type previousRun struct {
	thread  string // the run asked about
	asked   time.Time
	pending bool
	known   bool   // the catalog answered for thread
	answer  string // its answer ("" when there is no earlier run)
}

// retryAfter spaces the questions while the catalog cannot answer (an
// error, or a catalog still reading its history).
const retryAfter = 10 * time.Second

// pick returns the catalog's answer once it has one, else local's (a
// scan of the tab's runs, skipped once the catalog has answered).
func (pr *previousRun) pick(thread string, local func() string) (prev string, fromCatalog bool) {
	if pr.thread == thread && pr.known {
		return pr.answer, true
	}
	return local(), false
}

// ask asks the catalog, unless it has answered for thread or a question
// is on its way; done runs on the UI goroutine with the answer stored.
func (pr *previousRun) ask(ctx app.Context, src Source, thread, graph string, start time.Time, done func(app.Context)) {
	if thread == "" || graph == "" || start.IsZero() {
		return
	}
	if pr.thread != thread {
		*pr = previousRun{thread: thread}
	}
	if pr.known || pr.pending || (!pr.asked.IsZero() && time.Since(pr.asked) < retryAfter) {
		return
	}
	pr.pending, pr.asked = true, time.Now()
	q := catalog.Query{Filter: catalog.Filter{Graph: graph}, Limit: 1, Until: start}
	ctx.Async(func() {
		c, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		page, err := src.CatalogRuns(c, q)
		cancel()
		ctx.Dispatch(func(ctx app.Context) {
			if pr.thread != thread {
				return // the page moved on to another run
			}
			pr.pending = false
			if err != nil || page.Building {
				return // asked again after retryAfter
			}
			pr.known = true
			if len(page.Runs) > 0 {
				pr.answer = page.Runs[0].ThreadID
			}
			done(ctx)
		})
	})
}

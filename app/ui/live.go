package ui

import (
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// liveness keeps a page current: it re-renders after store changes (the
// session coalesces them) and once a second for clocks and health, and
// stops both when the page goes away.
type liveness struct {
	cancel func()
	done   chan struct{}
}

// start subscribes refresh; refresh runs on the UI goroutine. The ticker
// is a plain goroutine rather than ctx.After: the engine waits for its own
// asynchronous work, and a clock that reschedules itself never finishes.
func (l *liveness) start(ctx app.Context, src Source, refresh func(app.Context)) {
	if l.done != nil {
		return
	}
	l.done = make(chan struct{})
	l.cancel = src.Subscribe(func() { ctx.Dispatch(refresh) })
	if !app.IsClient {
		return
	}
	done := l.done
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ctx.Dispatch(refresh)
			}
		}
	}()
}

func (l *liveness) stop() {
	if l.done == nil {
		return
	}
	close(l.done)
	l.done = nil
	if l.cancel != nil {
		l.cancel()
		l.cancel = nil
	}
}

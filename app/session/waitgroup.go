package session

import (
	"sync"
	"time"
)

// waitGroup is a sync.WaitGroup whose Wait can give up: a goroutine stuck in
// a decode that hangs (the reason for the watchdog) cannot be interrupted,
// and the session must not hang with it.
type waitGroup struct{ wg sync.WaitGroup }

func (w *waitGroup) Go(fn func()) { w.wg.Go(fn) }

// waitFor waits at most d and reports whether every goroutine ended.
func (w *waitGroup) waitFor(d time.Duration) bool {
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }() // ends with the last goroutine it waits for
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

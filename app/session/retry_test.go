//go:build !(js && wasm)

package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestRetryNow_CutsTheBackoffShort(t *testing.T) {
	p := newPeer(t, func(ctx context.Context, ws *websocket.Conn) {})
	p.refuse.Store(true)
	s, err := New(Config{BaseURL: p.srv.URL, Logger: quiet, BackoffBase: time.Hour, BackoffMax: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	eventually(t, "a first failed attempt", func() bool { return s.Health().Attempt >= 1 })
	if h := s.Health(); h.State != Reconnecting || !h.Unreachable || time.Until(h.NextRetry) < 10*time.Minute {
		t.Fatalf("waiting an hour to retry: %+v", h)
	}
	s.RetryNow()
	// Without it the next attempt would come in half an hour at the
	// soonest.
	eventually(t, "a second attempt at once", func() bool { return s.Health().Attempt >= 2 })
}

package session

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dashstream/dashstream/app/cursors"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// Session is the dashboard's live connection and its run store. Create it
// with New, start it with Run, and read it with Read, Health and Subscribe.
type Session struct {
	cfg Config
	rng *rand.Rand // only the Run goroutine uses it

	// mu is the store lock: the apply loop holds it to mutate the store and
	// the thread→partition map; Read holds it for views.
	mu          sync.Mutex
	store       *runstate.Store
	threadPart  map[string]int32 // which partition each thread's records come from
	pinned      []string
	hist        map[string]*history // the followed runs' history, by thread
	followQueue []string            // threads Follow wants replayed, taken by the apply loop

	// hmu guards h; health is separate from the store lock so a long Read
	// never delays Health.
	hmu sync.Mutex
	h   Health

	// cur is the cursor store of the current namespace; it is safe for
	// concurrent use, but replaced only by the Run goroutine.
	cur     atomic.Pointer[cursors.Store]
	release func()

	// epochs counts connections; live is the epoch whose frames may still
	// apply and commit (0: none). See the package documentation.
	epochs atomic.Uint64
	live   atomic.Uint64

	// Subscribers and the coalescing signal.
	smu    sync.Mutex
	subs   map[int]func()
	nextID int
	dirty  chan struct{}
	wake   chan struct{} // Follow → apply loop

	// loop is the apply loop's own bookkeeping: only the Run goroutine
	// touches it, and publish copies it into h.
	loop loopState
	heal healer

	// test hooks (set only by this package's tests).
	hookBeforeApply func(d *decoded)
	hookApplied     func(d *decoded, out runstate.Outcome)
	hookQuarantine  func(threads []string)

	// Written by the reader goroutine, read by the apply loop and publish.
	frames, badControl  atomic.Uint64
	lastFrame, lastData atomic.Int64 // UnixNano of the last frame / data frame

	running atomic.Bool

	// The gateway's LLM prices (prices.go) and the way to cut a reconnect
	// back-off short (retry.go).
	pricesOnce sync.Once
	prices     *Prices
	retryNow   chan struct{}
}

// New checks cfg and returns a Session that does nothing until Run.
func New(cfg Config) (*Session, error) {
	cfg = cfg.withDefaults()
	if cfg.BaseURL == "" {
		return nil, ErrNoBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("session: BaseURL %q is not an http(s) origin: %w", cfg.BaseURL, ErrNoBaseURL)
	}
	s := &Session{
		cfg:        cfg,
		rng:        rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed)),
		store:      runstate.NewStore(cfg.Store),
		threadPart: map[string]int32{},
		hist:       map[string]*history{},
		subs:       map[int]func(){},
		dirty:      make(chan struct{}, 1),
		wake:       make(chan struct{}, 1),
		retryNow:   make(chan struct{}, 1),
		loop:       newLoopState(),
	}
	s.h = Health{State: Connecting, Since: time.Now(), DecodeErrors: map[string]uint64{}}
	// A store usable before the first /version (legacy keys); replaced by
	// the namespaced one as soon as the namespace is known.
	s.cur.Store(cursors.Open(cursors.Options{Storage: cfg.Storage, Namespace: "", Warn: s.warn}))
	return s, nil
}

func (s *Session) warn(msg string) { s.cfg.Logger.Warn("cursor store: " + msg) }

// wsURL is the /ws address of the gateway.
func (s *Session) wsURL() string {
	base := strings.TrimRight(s.cfg.BaseURL, "/")
	if strings.HasPrefix(base, "https://") {
		return "wss://" + strings.TrimPrefix(base, "https://") + "/ws"
	}
	return "ws://" + strings.TrimPrefix(base, "http://") + "/ws"
}

// Read runs fn with the run store, holding the lock the apply loop holds
// while it applies: the store is single-owner, so fn must not keep
// anything it returns beyond the call (state trees excepted: they are
// immutable). fn must not call other Session methods that take the lock
// (Follow, Unfollow).
func (s *Session) Read(fn func(*runstate.Store)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.store)
}

// Health returns a snapshot of the health model.
func (s *Session) Health() Health {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	h := s.h
	h.DecodeErrors = make(map[string]uint64, len(s.h.DecodeErrors))
	for k, v := range s.h.DecodeErrors {
		h.DecodeErrors[k] = v
	}
	h.ReplayingThreads = append([]string(nil), s.h.ReplayingThreads...)
	h.Flow = make(map[int32]PartitionFlow, len(s.h.Flow))
	for k, v := range s.h.Flow {
		h.Flow[k] = v
	}
	return h
}

// Cursors returns the cursor store the session commits to (it changes when
// the server's resume_namespace does).
func (s *Session) Cursors() *cursors.Store { return s.cur.Load() }

// updateHealth changes the health model under its lock and tells the
// subscribers.
func (s *Session) updateHealth(fn func(h *Health)) {
	s.hmu.Lock()
	fn(&s.h)
	s.hmu.Unlock()
	s.changed()
}

// setState enters st (keeping Since when the state does not change).
func (s *Session) setState(st State) {
	s.updateHealth(func(h *Health) {
		if h.State != st {
			h.State, h.Since = st, time.Now()
		}
	})
}

// Subscribe registers fn, called after the store or the health changed:
// coalesced, at most once per Config.NotifyEvery, never under the store
// lock, from the session's notifier goroutine. cancel removes it.
func (s *Session) Subscribe(fn func()) (cancel func()) {
	s.smu.Lock()
	id := s.nextID
	s.nextID++
	s.subs[id] = fn
	s.smu.Unlock()
	return func() {
		s.smu.Lock()
		delete(s.subs, id)
		s.smu.Unlock()
	}
}

// changed marks that subscribers should be told; it never blocks.
func (s *Session) changed() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

// notify is the notifier goroutine: one call of every subscriber per
// change burst, then a pause, so views redraw at most ~10 times a second.
func (s *Session) notify(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.dirty:
		}
		s.smu.Lock()
		fns := make([]func(), 0, len(s.subs))
		for _, fn := range s.subs {
			fns = append(fns, fn)
		}
		s.smu.Unlock()
		for _, fn := range fns {
			fn()
		}
		t.Reset(s.cfg.NotifyEvery)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MaxFollowed is the most runs Follow keeps complete at once (a run page
// follows one, the compare page two).
const MaxFollowed = 4

// Follow pins the runs of threads (at most MaxFollowed; the previous set is
// replaced) and makes each one whole: unless the session already holds a
// run from its first message, it asks the server to replay the thread
// from its start, and asks again until the history from the first message
// the server retains is applied, whatever the live stream does meanwhile.
// History tells how far each one got. Follow() with no thread releases
// them all.
func (s *Session) Follow(threads ...string) {
	var set []string
	for _, t := range threads {
		if t != "" && !slices.Contains(set, t) && len(set) < MaxFollowed {
			set = append(set, t)
		}
	}
	s.mu.Lock()
	for _, t := range s.pinned {
		if !slices.Contains(set, t) {
			s.store.Unpin(t)
			delete(s.hist, t)
		}
	}
	for _, t := range set {
		s.store.Pin(t)
		if s.hist[t] != nil {
			continue
		}
		h := &history{}
		s.hist[t] = h
		if needsHistory(s.store, t) {
			s.followQueue = append(s.followQueue, t)
		} else {
			h.complete = true
		}
	}
	s.pinned = set
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	s.changed()
}

// Unfollow releases every followed run (Follow with no thread).
func (s *Session) Unfollow() { s.Follow() }

// HistoryStatus is how much of a followed run's history the session holds.
type HistoryStatus struct {
	// Followed: the thread is one Follow asked for (the rest is zero
	// otherwise).
	Followed bool
	// Loading: the run's history is being fetched (a thread replay is
	// asked for, under way, or about to be asked again); what the store
	// holds of the run is not all of it yet.
	Loading bool
	// Complete: every message the server retains of the run, from the
	// first, is applied (new ones keep arriving live).
	Complete bool
	// MissingBefore: sequences 1..MissingBefore of the run are gone from
	// the server's retention, so the history starts after them (0: none).
	MissingBefore uint64
	// Attempts counts the thread replays asked for; Err says why the last
	// one did not complete the history (it is asked again).
	Attempts int
	Err      string
}

// History returns the history status of a followed thread.
func (s *Session) History(thread string) HistoryStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hist[thread]
	if h == nil {
		return HistoryStatus{}
	}
	return HistoryStatus{Followed: true, Loading: !h.complete, Complete: h.complete, MissingBefore: h.missingBefore,
		Attempts: h.attempts, Err: h.err}
}

// needsHistory reports whether a run lacks messages from its start: it is
// unknown here, was joined mid-stream, or the store wants it replayed.
func needsHistory(st *runstate.Store, thread string) bool {
	r := st.Run(thread)
	if r == nil {
		return true
	}
	for _, rr := range st.RunsNeedingReplay() {
		if rr.Thread == thread {
			return true
		}
	}
	// A log that still holds its oldest event but starts after 1 was
	// joined mid-stream (a trimmed log says nothing either way).
	if n := r.EventCount(); n > 0 && n < st.Config().MaxEventsPerRun {
		for i := 0; i < n; i++ {
			if seq := r.Event(i).Seq; seq > 0 {
				return seq > 1
			}
		}
	}
	return false
}

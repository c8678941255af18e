package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/app/cursors"
	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/pb"
)

// connect runs one connection from /version to its end. healthy reports
// whether it got as far as a completed resume (which resets the back-off).
func (s *Session) connect(ctx context.Context) (healthy bool, err error) {
	v, err := fetchVersion(ctx, s.cfg.BaseURL, s.cfg.RequestTimeout)
	if err != nil {
		return false, &connError{Reason: "version", Err: err}
	}
	s.adoptVersion(v)
	decode := s.cfg.Decode
	if decode == nil {
		decode = protocol.NewDecoder(protocol.WithMaxPayloadBytes(v.MaxPayloadBytes)).Decode
	}

	dctx, dcancel := ctx, context.CancelFunc(func() {})
	if dialTimeout > 0 {
		dctx, dcancel = context.WithTimeout(ctx, dialTimeout)
	}
	ws, _, err := websocket.Dial(dctx, s.wsURL(), nil)
	dcancel()
	if err != nil {
		return false, &connError{Reason: "dial", Err: err}
	}
	// No read limit: coder/websocket would close an oversized frame with
	// 1009, which a browser refuses; the decoder enforces the payload
	// limit itself and classifies the frame as too_large.
	ws.SetReadLimit(-1)

	epoch := s.epochs.Add(1)
	s.live.Store(epoch)
	s.loop.connects++
	now := time.Now()
	s.lastFrame.Store(now.UnixNano())
	s.lastData.Store(now.UnixNano())
	s.updateHealth(func(h *Health) {
		h.Epoch = epoch
		h.State, h.Since = Replaying, now
		h.Attempt, h.NextRetry, h.LastError, h.Unreachable = 0, time.Time{}, "", false
	})

	cctx, cancel := context.WithCancel(ctx)
	var wg waitGroup
	p := &pipeline{in: make(chan job, s.cfg.QueueSize), out: make(chan decoded, s.cfg.QueueSize)}
	defer func() {
		s.live.CompareAndSwap(epoch, 0)
		s.heal.requeue()
		var ce *connError
		code := CloseReconnect
		reason := "reconnect"
		if errors.As(err, &ce) && ce.Code != 0 {
			code, reason = ce.Code, ce.Reason
		}
		if ctx.Err() != nil {
			code, reason = CloseNormal, "session stopped"
		}
		closeSocket(ws, code, reason, 3*time.Second)
		cancel()
		if !wg.waitFor(5*time.Second) || !p.wg.waitFor(time.Second) {
			s.cfg.Logger.Warn("session: a connection goroutine is still running after close (a hung decode?)")
		}
		s.cur.Load().Flush()
	}()

	if err := s.sendResume(ws); err != nil {
		return false, &connError{Reason: "resume", Err: err}
	}
	if err := s.pumpHeal(ws, epoch); err != nil {
		return false, &connError{Reason: "thread resume", Err: err}
	}

	readErr := make(chan error, 1)
	wg.Go(func() { readErr <- s.read(cctx, ws, epoch, p.in) })
	docs := make(chan serverTraffic, 1)
	wg.Go(func() { s.pollHealth(cctx, docs) })
	p.start(cctx, decode)

	tick := time.NewTicker(s.cfg.Tick)
	defer tick.Stop()
	lastPing := now
	var stalledSince time.Time
	for {
		select {
		case <-ctx.Done():
			return s.loop.healthy(epoch), &connError{Code: CloseNormal, Reason: "session stopped", Err: ctx.Err()}
		case err := <-readErr:
			return s.loop.healthy(epoch), err
		case d := <-p.out:
			if d.gen != p.dec.gen {
				continue // from a decoder generation the watchdog retired
			}
			if err := s.handle(ws, d); err != nil {
				return s.loop.healthy(epoch), err
			}
			if s.live.Load() != epoch {
				return s.loop.healthy(epoch), errRetired
			}
			if len(p.out) == 0 {
				s.publish(time.Now(), len(p.in)+len(p.out), false)
			}
		case <-s.wake:
			s.mu.Lock()
			q := s.followQueue
			s.followQueue = nil
			s.mu.Unlock()
			s.heal.add(q, true)
			if err := s.pumpHeal(ws, epoch); err != nil {
				return s.loop.healthy(epoch), &connError{Reason: "thread resume", Err: err}
			}
			s.publish(time.Now(), len(p.in)+len(p.out), true)
		case tr := <-docs:
			s.updateHealth(func(h *Health) { h.ServerRate = tr.rate })
		case now := <-tick.C:
			if j, hung := p.dec.hung(now, s.cfg.DecodeTimeout); hung && j != nil && j.epoch == epoch {
				// What the decoder finished before it hung precedes the
				// hung frame: apply it before that generation is retired.
				for len(p.out) > 0 {
					if d := <-p.out; d.gen == p.dec.gen {
						if err := s.handle(ws, d); err != nil {
							return s.loop.healthy(epoch), err
						}
					}
				}
				out := s.decodeTimeout(cctx, p, j, epoch, decode)
				if out.err != nil {
					return s.loop.healthy(epoch), out.err
				}
				s.markHandled(epoch, out.skip.cur)
			}
			if s.live.Load() != epoch {
				return s.loop.healthy(epoch), errRetired
			}
			s.housekeeping(now, epoch)
			if due := s.dueRetries(now); len(due) > 0 {
				s.heal.add(due, true)
				if err := s.pumpHeal(ws, epoch); err != nil {
					return s.loop.healthy(epoch), &connError{Reason: "thread resume", Err: err}
				}
			}
			if len(p.in)+len(p.out) > 0 || p.dec.busy.Load() != 0 {
				// Frames wait for the apply loop, so the reader may be
				// blocked on the queue: the page is busy, the socket not
				// silent. Neither the heartbeat nor the stall check may
				// take this for a dead connection.
				s.lastFrame.Store(now.UnixNano())
				s.lastData.Store(now.UnixNano())
			}
			if now.Sub(lastPing) >= s.cfg.Heartbeat {
				lastPing = now
				if err := writeText(ws, (&control.Ping{}).AppendJSON(nil), s.cfg.RequestTimeout); err != nil {
					return s.loop.healthy(epoch), &connError{Reason: "ping", Err: err}
				}
			}
			if silent := now.Sub(time.Unix(0, s.lastFrame.Load())); silent > s.cfg.HeartbeatTimeout {
				return s.loop.healthy(epoch), &connError{Code: CloseHeartbeat, Reason: "heartbeat_timeout", Err: fmt.Errorf("no frame for %v", silent.Round(time.Second))}
			}
			if err := s.checkStall(now, &stalledSince); err != nil {
				return s.loop.healthy(epoch), err
			}
			s.publish(now, len(p.in)+len(p.out), true)
		}
	}
}

// errRetired ends a connection whose epoch something retired.
var errRetired = &connError{Code: CloseReconnect, Reason: "epoch retired"}

// adoptVersion records /version and switches the cursor store to the
// server's namespace.
func (s *Session) adoptVersion(v serverVersion) {
	s.updateHealth(func(h *Health) {
		h.ServerVersion, h.Namespace, h.SchemaVersion = v.Version, v.Namespace, v.SchemaVersion
		h.SchemaMismatch = schemaMismatch(v.SchemaVersion)
	})
	old := s.cur.Load()
	if old != nil && old.Namespace() == v.Namespace && s.release != nil {
		return
	}
	if old != nil {
		old.Flush()
		if old.Namespace() != v.Namespace {
			// Another Kafka (or topic) behind the same page: the offsets
			// handled so far mean nothing in the new namespace and must
			// not be committed into its store.
			clear(s.loop.handled)
			clear(s.loop.flow)
		}
	}
	if s.release != nil {
		s.release()
	}
	cur := cursors.Open(cursors.Options{Storage: s.cfg.Storage, Namespace: v.Namespace, Warn: s.warn})
	s.cur.Store(cur)
	s.release = bindLifecycle(cur)
}

// resumeRequest is the resume a connection starts with: partition mode
// from the committed offsets ("latest" when the store is empty: a first
// visit replays nothing), with the thread sequences, the legacy
// lastSequence only while a JavaScript number holds it exactly (M-716), and
// the namespace the offsets were stored under, so that a server whose log
// was recreated since answers cursor_stale instead of misreading them.
func resumeRequest(cur *cursors.Store) *control.Resume {
	from := control.FromCursor
	if cur.Empty() {
		from = control.FromLatest
	}
	r := control.NewPartitionResume(from, cur.Offsets())
	r.Namespace = cur.Namespace()
	if seqs := cur.Sequences(); len(seqs) > 0 {
		r.HasSequences, r.LastSequencesByThread = true, seqs
		var top uint64
		for _, q := range seqs {
			top = max(top, q)
		}
		if top <= control.MaxSafeInteger {
			r.LastSequence = &top
		}
	}
	return r
}

func (s *Session) sendResume(ws *websocket.Conn) error {
	r := resumeRequest(s.cur.Load())
	s.loop.noteResume(r.LastOffsetsByPartition)
	return writeText(ws, r.AppendJSON(nil), s.cfg.RequestTimeout)
}

// read is the reader goroutine: it pairs every binary frame with the
// cursor before it and queues both, in order, for the decoder. A broken
// pairing retires the epoch at once, so nothing behind it applies.
func (s *Session) read(ctx context.Context, ws *websocket.Conn, epoch uint64, in chan<- job) error {
	// The read context is never cancelled: coder/websocket answers a
	// cancelled read by closing the socket itself (with 1008 in the
	// browser, which throws; natively without a close frame), which would
	// race the session's own close code. The reader ends when the
	// connection's deferred close shuts the socket, right after ctx ends.
	rctx := context.Background()
	var pending *control.Cursor
	protoErr := func(code websocket.StatusCode, reason string) error {
		s.live.CompareAndSwap(epoch, 0)
		return &connError{Code: code, Reason: reason}
	}
	for {
		typ, data, err := ws.Read(rctx)
		if err != nil {
			return &connError{Reason: "read", Err: err}
		}
		now := time.Now()
		s.lastFrame.Store(now.UnixNano())
		j := job{epoch: epoch, recv: now}
		if typ == websocket.MessageBinary {
			if pending == nil {
				return protoErr(CloseMissingCursor, "missing_cursor")
			}
			j.cur, j.data, pending = *pending, data, nil
			s.frames.Add(1)
			s.lastData.Store(now.UnixNano())
		} else {
			msg, err := control.Parse(data)
			if err != nil {
				// Upstream ignores frames it cannot read; so do we, but
				// counted, and never inside a pair.
				s.badControl.Add(1)
				if pending != nil {
					return protoErr(ClosePairing, "cursor_pairing_desync")
				}
				continue
			}
			if c, ok := msg.(*control.Cursor); ok {
				if pending != nil {
					return protoErr(ClosePairing, "cursor_pairing_desync")
				}
				pending = c
				continue
			}
			if pending != nil {
				return protoErr(ClosePairing, "cursor_pairing_desync")
			}
			j.ctrl = msg
		}
		select {
		case in <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// serverTraffic is what a /health poll found.
type serverTraffic struct{ rate float64 }

// pollHealth reads the server's /health while the connection lives, to
// tell a stalled socket (server busy, no frames) from a quiet server.
func (s *Session) pollHealth(ctx context.Context, out chan<- serverTraffic) {
	t := time.NewTicker(s.cfg.HealthPoll)
	defer t.Stop()
	var last uint64
	var lastAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		doc, err := getJSON(ctx, s.cfg.BaseURL+"/health", s.cfg.RequestTimeout)
		if err != nil {
			continue // the socket's own errors say more; /health is advisory
		}
		n, ok := forwardedCount(doc)
		now := time.Now()
		if !ok {
			continue
		}
		if !lastAt.IsZero() && n >= last {
			rate := float64(n-last) / now.Sub(lastAt).Seconds()
			select {
			case out <- serverTraffic{rate: rate}:
			case <-ctx.Done():
				return
			}
		}
		last, lastAt = n, now
	}
}

// checkStall moves between Connected and Stalled: the socket is open, the
// server reports traffic, and no data frame came for StallAfter (M-1030).
// A stall that lasts StallReconnect replaces the socket.
func (s *Session) checkStall(now time.Time, since *time.Time) error {
	h := s.Health()
	quiet := now.Sub(time.Unix(0, s.lastData.Load()))
	stalled := h.ServerRate > 0 && quiet > s.cfg.StallAfter
	switch {
	case stalled && (h.State == Connected || h.State == Replaying):
		// A replay that delivers nothing while the server is busy is a
		// stall too; the state it interrupted comes back with the frames.
		*since, s.loop.beforeStall = now, h.State
		s.setState(Stalled)
	case stalled && h.State == Stalled && now.Sub(*since) > s.cfg.StallReconnect:
		return &connError{Code: CloseStalled, Reason: "stalled", Err: fmt.Errorf("no frame for %v while the server forwards %.1f/s", quiet.Round(time.Second), h.ServerRate)}
	case !stalled && h.State == Stalled:
		s.setState(s.loop.beforeStall)
	}
	return nil
}

// headerThreads lists the thread ids a message carries (an EventBatch's
// inner events each have their own).
func headerThreads(msg *pb.DashStreamMessage) []string {
	var out []string
	for _, h := range protocol.Headers(msg) {
		if t := h.GetThreadId(); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

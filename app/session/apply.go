package session

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/coder/websocket"

	"github.com/dashstream/dashstream/protocol/control"
	"github.com/dashstream/dashstream/protocol/runstate"
)

// handle takes one item from the decoder: a control message, a frame that
// failed to decode, or a message to apply.
func (s *Session) handle(ws *websocket.Conn, d decoded) error {
	if d.ctrl != nil {
		return s.control(ws, d)
	}
	if s.live.Load() != d.epoch {
		s.loop.stale++
		return nil
	}
	s.loop.noteFrame(d.cur.Partition, d.cur.Offset)
	if d.err != nil {
		// A frame that cannot be decoded will not decode better when sent
		// again: it is counted by class and passed over. Its thread's
		// missing sequence is then found by the store's hole detection,
		// which marks that run only.
		s.loop.decodeErrs[d.class]++
		s.markHandled(d.epoch, d.cur)
		return nil
	}
	if s.hookBeforeApply != nil {
		s.hookBeforeApply(&d)
	}
	s.mu.Lock()
	if s.live.Load() != d.epoch { // re-checked under the lock, just before the mutation
		s.mu.Unlock()
		s.loop.stale++
		return nil
	}
	out := s.store.Apply(d.msg, runstate.Meta{Partition: d.cur.Partition, Offset: d.cur.Offset, Received: d.recv})
	// A thread replay sends a thread's records out of partition order
	// (newer than live records still on their way): they must not move
	// the partition's cursor, or a reload would skip those live records.
	replayed := false
	for _, t := range headerThreads(d.msg) {
		s.threadPart[t] = d.cur.Partition
		replayed = replayed || slices.Contains(s.heal.inflight, t)
	}
	for _, t := range out.Evicted {
		delete(s.threadPart, t)
	}
	seqs := s.lastSeqs(out.Changed)
	s.mu.Unlock()
	now := time.Now()
	s.loop.lastApply = now
	s.loop.lastLag = now.Sub(d.recv)
	if replayed {
		s.commitPartitions(d.epoch, []int32{d.cur.Partition}, seqs)
	} else {
		s.commit(d.epoch, d.cur, seqs)
	}
	if s.hookApplied != nil {
		s.hookApplied(&d, out)
	}
	return nil
}

// threadSeq is a thread's last sequence processed in order.
type threadSeq struct {
	thread string
	seq    uint64
}

// lastSeqs reads the last in-order sequence of the changed runs; s.mu held.
func (s *Session) lastSeqs(threads []string) []threadSeq {
	var out []threadSeq
	for _, t := range threads {
		if r := s.store.Run(t); r != nil && r.LastSeq() > 0 {
			out = append(out, threadSeq{t, r.LastSeq()})
		}
	}
	return out
}

// markHandled records a frame the store will never take (undecodable, or
// given up after hanging twice) and commits past it.
func (s *Session) markHandled(epoch uint64, cur control.Cursor) {
	s.commit(epoch, cur, nil)
}

// commit advances the cursors after a frame was handled: the partition's
// offset up to the highest handled one, but never at or above the lowest
// offset still waiting in a reorder window (PendingFloor), so a reload
// re-fetches anything not applied yet (U1). The epoch is checked once more
// first: a retired connection commits nothing (M-1031).
func (s *Session) commit(epoch uint64, cur control.Cursor, seqs []threadSeq) {
	p := cur.Partition
	if h, ok := s.loop.handled[p]; !ok || cur.Offset > h {
		s.loop.handled[p] = cur.Offset
	}
	s.commitPartitions(epoch, []int32{p}, seqs)
}

func (s *Session) commitPartitions(epoch uint64, parts []int32, seqs []threadSeq) {
	type target struct {
		p int32
		o int64
	}
	var targets []target
	s.mu.Lock()
	for _, p := range parts {
		o, ok := s.loop.handled[p]
		if !ok {
			continue
		}
		if floor, waiting := s.store.PendingFloor(p); waiting && floor <= o {
			o = floor - 1
		}
		if o >= 0 {
			targets = append(targets, target{p, o})
		}
	}
	s.mu.Unlock()
	if s.live.Load() != epoch {
		return
	}
	store := s.cur.Load()
	for _, t := range targets {
		if store.CommitOffset(t.p, t.o) {
			s.loop.committed++
			f := s.loop.flow[t.p]
			f.Committed = t.o
			s.loop.flow[t.p] = f
		}
	}
	for _, q := range seqs {
		store.CommitSequence(q.thread, q.seq)
	}
}

// housekeeping is the tick's work: reorder windows age (a hole is declared
// even when no message follows), commits held back by them catch up, and
// the cursor store writes when its throttle allows.
func (s *Session) housekeeping(now time.Time, epoch uint64) {
	s.mu.Lock()
	out := s.store.Tick(now)
	seqs := s.lastSeqs(out.Changed)
	s.mu.Unlock()
	if s.live.Load() == epoch {
		s.commitPartitions(epoch, slices.Collect(maps.Keys(s.loop.handled)), seqs)
	}
	s.cur.Load().FlushIfDue()
}

// control acts on a server control message, in stream order.
func (s *Session) control(ws *websocket.Conn, d decoded) error {
	if s.live.Load() != d.epoch {
		s.loop.stale++
		return nil
	}
	now := time.Now()
	switch m := d.ctrl.(type) {
	case *control.Gap:
		switch {
		case m.ThreadID != "":
			if m.FromSequence != nil && m.ToSequence != nil {
				s.leadingGap(m.ThreadID, *m.FromSequence, *m.ToSequence)
			}
			// The server's retained history of this thread has a hole: a
			// replay cannot fill it, so the run is marked, not healed.
			s.quarantine(d.epoch, []string{m.ThreadID}, false, fmt.Sprintf("the server reported %d lost message(s) of this run", m.Count), false, now)
		case m.Partition != nil:
			s.quarantine(d.epoch, s.threadsOf(*m.Partition), false, fmt.Sprintf("the server reported %d lost record(s) on partition %d", m.Count, *m.Partition), true, now)
		default:
			s.quarantine(d.epoch, nil, true, fmt.Sprintf("the connection fell behind and %d message(s) were missed", m.Count), true, now)
		}
		return s.pumpHeal(ws, d.epoch)
	case *control.CursorStale:
		why := fmt.Sprintf("records %d–%d of partition %d expired before this page could read them", m.Requested+1, m.Oldest-1, m.Partition)
		if m.Requested >= m.Oldest {
			why = fmt.Sprintf("partition %d was recreated or damaged on the server since this page read it (its cursor %d names no record of the log now)", m.Partition, m.Requested)
		}
		s.quarantine(d.epoch, s.threadsOf(m.Partition), false, why, true, now)
		return s.pumpHeal(ws, d.epoch)
	case *control.ReplayComplete:
		if m.Mode == control.ModeThread {
			return s.threadReplayDone(ws, d.epoch, m.Capped)
		}
		if m.Capped && m.Continuing {
			// The server sends the rest by itself and says when it is
			// live (a final replay_complete); resuming now would restart it.
			return nil
		}
		if m.Capped {
			// The server stopped at its replay limit: ask for the rest from
			// what is committed now (everything before this frame applied).
			s.updateHealth(func(h *Health) { h.LastError = "replay capped by the server; resuming" })
			return s.sendResume(ws)
		}
		s.loop.healthyEpoch = d.epoch
		s.loop.beforeStall = Connected
		if s.Health().State != Stalled {
			s.setState(Connected)
		}
	case *control.CursorResetComplete:
		s.mu.Lock()
		if s.live.Load() != d.epoch { // re-checked under the lock, as for every mutation
			s.mu.Unlock()
			s.loop.stale++
			return nil
		}
		s.store.Clear()
		clear(s.threadPart)
		s.mu.Unlock()
		clear(s.loop.handled)
		if s.live.Load() != d.epoch { // and before the cursor commit
			return nil
		}
		s.cur.Load().Reset(m.LatestOffsetsByPartition)
	case *control.Disconnect:
		msg := fmt.Sprintf("server disconnect (%s): %d messages lagged in the window, %d cumulative, threshold %d", m.Reason, m.LagInWindow, m.CumulativeLag, m.Threshold)
		s.updateHealth(func(h *Health) { h.LastError = msg })
		s.cfg.Logger.Warn("session: " + msg)
	case *control.Error:
		msg := fmt.Sprintf("server error %s: %s", m.Code, m.Message)
		s.updateHealth(func(h *Health) { h.LastError = msg })
		s.cfg.Logger.Warn("session: " + msg)
	case *control.Pong:
		// liveness only: the reader already noted the frame
	}
	return nil
}

// threadsOf lists the runs whose records come from partition p.
func (s *Session) threadsOf(p int32) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t, q := range s.threadPart {
		if q == p && s.store.Run(t) != nil {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// quarantine marks the runs a loss can touch (every run when all is set:
// the loss has no known scope; none when threads is empty: no run came
// from where it happened) and, when heal is set, queues them for a thread
// replay that rebuilds them.
func (s *Session) quarantine(epoch uint64, threads []string, all bool, reason string, heal bool, now time.Time) {
	s.mu.Lock()
	if s.live.Load() != epoch {
		s.mu.Unlock()
		return
	}
	if !all && len(threads) == 0 {
		s.mu.Unlock()
		return
	}
	if all {
		threads = nil
		s.store.QuarantineAll(reason, now)
		for _, rr := range s.store.RunsNeedingReplay() {
			threads = append(threads, rr.Thread)
		}
	} else {
		s.store.MarkQuarantined(threads, reason, now)
	}
	s.mu.Unlock()
	if heal {
		s.heal.add(threads, false)
	}
	if s.hookQuarantine != nil {
		s.hookQuarantine(threads)
	}
	s.cfg.Logger.Info("session: runs quarantined", "runs", len(threads), "reason", reason)
}

// pumpHeal sends the next thread replay when none is in flight: each run
// is reset to its start (unless a capped replay continues it) and the
// server replays the thread from its first sequence.
func (s *Session) pumpHeal(ws *websocket.Conn, epoch uint64) error {
	batch := s.heal.next(s.cfg.HealBatch)
	if len(batch) == 0 {
		return nil
	}
	s.mu.Lock()
	if s.live.Load() != epoch {
		s.mu.Unlock()
		s.heal.requeue()
		return nil
	}
	for _, t := range batch {
		if _, cont := s.heal.fromSeq[t]; !cont {
			s.store.ResetRun(t, 1)
		}
	}
	s.replaying(batch)
	s.mu.Unlock()
	s.updateHealth(func(h *Health) { h.ReplayingThreads = s.heal.all() })
	return writeText(ws, s.heal.request().AppendJSON(nil), s.cfg.RequestTimeout)
}

// threadReplayDone ends the in-flight thread replay; a capped one
// continues from where each run got to.
func (s *Session) threadReplayDone(ws *websocket.Conn, epoch uint64, capped bool) error {
	done := s.heal.done()
	if capped && len(done) > 0 {
		if s.heal.fromSeq == nil {
			s.heal.fromSeq = map[string]uint64{}
		}
		s.mu.Lock()
		for _, t := range done {
			if r := s.store.Run(t); r != nil {
				s.heal.fromSeq[t] = r.LastSeq()
			}
		}
		s.mu.Unlock()
		s.heal.add(done, true)
	} else if len(done) > 0 {
		s.mu.Lock()
		s.replayed(done, time.Now())
		s.mu.Unlock()
	}
	s.updateHealth(func(h *Health) { h.ReplayingThreads = s.heal.all() })
	return s.pumpHeal(ws, epoch)
}

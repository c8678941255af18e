package session

import (
	"time"

	"github.com/dashstream/dashstream/protocol/runstate"
)

// loopState is the apply loop's bookkeeping. Only the Run goroutine reads
// or writes it; publish copies it into the health model.
type loopState struct {
	// handled is, per partition, the highest offset whose frame the store
	// has taken (applied, or waiting in a reorder window, which
	// PendingFloor then guards): every offset below it on this page was
	// handled too, because a connection delivers a partition in order.
	handled map[int32]int64
	flow    map[int32]PartitionFlow
	// resumed is set once the page's first resume was sent.
	resumed bool

	decodeErrs           map[string]uint64
	stale, committed     uint64
	lastTimeout          [2]int64 // partition, offset of the last decode timeout
	lastLag              time.Duration
	lastApply            time.Time
	lastPublish          time.Time
	stats                runstate.Stats
	reconnects, connects uint64
	// beforeStall is the state a stall interrupted.
	beforeStall State
	// healthyEpoch is the last epoch whose partition resume completed.
	healthyEpoch uint64
}

// healthy reports whether the connection of epoch completed its resume.
func (l *loopState) healthy(epoch uint64) bool { return l.healthyEpoch == epoch }

func newLoopState() loopState {
	return loopState{
		handled:     map[int32]int64{},
		flow:        map[int32]PartitionFlow{},
		decodeErrs:  map[string]uint64{},
		lastTimeout: [2]int64{-1, -1},
	}
}

// noteFrame records a frame's offset in the partition's flow.
func (l *loopState) noteFrame(p int32, o int64) {
	f, ok := l.flow[p]
	if !ok {
		f = PartitionFlow{ResumedAfter: -1, First: -1, Last: -1, Committed: -1}
	}
	if f.First < 0 {
		f.First = o
	}
	if o > f.Last {
		f.Last = o
		f.Frames++
	} else {
		f.Repeats++
	}
	l.flow[p] = f
}

// noteResume records the offsets of the page's first resume.
func (l *loopState) noteResume(offsets map[int32]int64) {
	if l.resumed {
		return
	}
	l.resumed = true
	for p, o := range offsets {
		l.flow[p] = PartitionFlow{ResumedAfter: o, First: -1, Last: -1, Committed: o}
	}
}

// publish copies the loop's figures and the store's into the health model.
// It runs on the tick and when the queue drains, at most every 50 ms.
func (s *Session) publish(now time.Time, depth int, force bool) {
	if !force && now.Sub(s.loop.lastPublish) < 50*time.Millisecond {
		return
	}
	s.loop.lastPublish = now
	s.mu.Lock()
	st := s.store.Stats()
	s.mu.Unlock()
	s.loop.stats = st
	lag := s.loop.lastLag
	if depth > 0 && !s.loop.lastApply.IsZero() && now.Sub(s.loop.lastApply) > lag {
		// Frames wait but nothing applies: the lag grows with the wait, so
		// a wedged pipeline shows as "bad", not as "no data" (M-1030).
		lag = now.Sub(s.loop.lastApply)
	}
	if depth == 0 {
		lag = 0
	}
	s.hmu.Lock()
	h := &s.h
	h.Frames = s.frames.Load()
	if lf := s.lastFrame.Load(); lf > 0 {
		h.LastFrame = time.Unix(0, lf)
	}
	h.Applied = st.Applied
	h.HashesVerified = st.HashesVerified
	h.Duplicates = st.Duplicates
	h.Runs = st.Runs
	h.Quarantined = st.CorruptedRuns + st.GapRuns
	h.CursorsCommitted = s.loop.committed
	h.StaleFrames = s.loop.stale
	h.QueueDepth = depth
	h.ApplyLag = lag
	h.Reconnects, h.Connections = s.loop.reconnects, s.loop.connects
	if h.DecodeErrors == nil {
		h.DecodeErrors = map[string]uint64{}
	}
	for k, v := range s.loop.decodeErrs {
		h.DecodeErrors[k] = v
	}
	if n := s.badControl.Load(); n > 0 {
		h.DecodeErrors["control"] = n
	}
	if h.Flow == nil {
		h.Flow = map[int32]PartitionFlow{}
	}
	for p, f := range s.loop.flow {
		h.Flow[p] = f
	}
	h.ReplayingThreads = s.heal.all()
	s.hmu.Unlock()
	s.changed()
}

package runstate

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/dashstream/dashstream/protocol/pb"
)

// liveRecorder captures, for every thread and sequence, the state text the
// live loop had right after processing that sequence.
type liveRecorder map[string]map[uint64]string

func record(s *Store) liveRecorder {
	live := liveRecorder{}
	s.afterProcess = func(r *Run, seq uint64) {
		if seq == 0 {
			return
		}
		if live[r.thread] == nil {
			live[r.thread] = map[uint64]string{}
		}
		live[r.thread][seq] = stateText(r)
	}
	return live
}

// expectedAt returns the live state at seq: after the last sequence
// processed at or before it (false when none was).
func (l liveRecorder) expectedAt(thread string, seq uint64) (string, bool) {
	best, found := uint64(0), false
	for s := range l[thread] {
		if s <= seq && (!found || s > best) {
			best, found = s, true
		}
	}
	return l[thread][best], found
}

// checkTimeTravel checks StateAt(N) against the live state for every N in
// the run's seek range where something happened (each processed sequence,
// the one after it, and the range's ends; sequences may be huge).
func checkTimeTravel(t *testing.T, s *Store, live liveRecorder) int {
	t.Helper()
	checked := 0
	for _, r := range s.Runs() {
		first, last, ok := r.SeekRange()
		if !ok {
			continue
		}
		points := []uint64{first, last}
		for seq := range live[r.thread] {
			points = append(points, seq, seq+1)
		}
		slices.Sort(points)
		for _, n := range slices.Compact(points) {
			if n < first || n > last {
				continue
			}
			got, err := r.StateAt(n)
			want, have := live.expectedAt(r.thread, n)
			switch {
			case err != nil && errors.Is(err, ErrNoState) && (!have || want == "<nil>"):
			case err != nil:
				t.Fatalf("%s: StateAt(%d): %v", r.thread, n, err)
			case !have || got.String() != want:
				t.Fatalf("%s: StateAt(%d) = %s\nlive had %s", r.thread, n, got, want)
			default:
				checked++
			}
		}
		if st, _ := r.State(); st != nil {
			if got, _ := r.StateAt(last); got != nil && got.String() != st.String() {
				t.Fatalf("%s: StateAt(last) %s != state %s", r.thread, got, st)
			}
		}
	}
	return checked
}

// StateAt(N) equals the live state at N for every N still in range, over
// random runs delivered out of order (within the window) with duplicates,
// checkpoints, full states and merges; and with nothing lost, the live state
// is the producer's true state and every run stays trusted.
func TestTimeTravel_StateAtEqualsLiveState_RandomRuns(t *testing.T) {
	iterations := propertyIterations()
	for it := range iterations {
		r := rand.New(rand.NewPCG(uint64(it), 99))
		cfg := Config{KeyframeEvery: 1 + r.IntN(6), MaxKeyframesPerRun: 2 + r.IntN(8), MaxEventsPerRun: 50 + r.IntN(200), ReorderWindow: 16}
		s := NewStore(cfg)
		live := record(s)
		var all []*pb.DashStreamMessage
		producers := map[string]*producer{}
		for _, th := range []string{"t1", "t2", "t3"} {
			p := newProducer(r, th)
			for range 40 + r.IntN(80) {
				p.step()
			}
			producers[th] = p
			all = append(all, p.msgs...)
		}
		// Interleave threads, then disorder within a small spread (the
		// window holds 16, so nothing is lost).
		for i, m := range delivery(r, interleave(r, producers), 4, 0.1) {
			s.Apply(m, meta(i))
		}
		for th, p := range producers {
			run := s.Run(th)
			if run.Waiting() != 0 || run.LastSeq() != p.seq {
				t.Fatalf("iteration %d %s: waiting %d last %d of %d", it, th, run.Waiting(), run.LastSeq(), p.seq)
			}
			if !run.Trusted() {
				t.Fatalf("iteration %d %s: untrusted without loss: %+v", it, th, run.Integrity())
			}
			for seq, want := range p.truth {
				if got := live[th][seq]; got != want {
					t.Fatalf("iteration %d %s seq %d: live %s, producer %s", it, th, seq, got, want)
				}
			}
		}
		if n := checkTimeTravel(t, s, live); n == 0 {
			t.Fatalf("iteration %d checked nothing", it)
		}
	}
}

// The same property with losses: messages dropped, holes declared, states
// untrusted and healed. Whatever the live loop showed at N, StateAt(N)
// shows too.
func TestTimeTravel_StateAtEqualsLiveState_WithLosses(t *testing.T) {
	iterations := propertyIterations()
	for it := range iterations {
		r := rand.New(rand.NewPCG(uint64(it), 7))
		s := NewStore(Config{KeyframeEvery: 1 + r.IntN(5), MaxKeyframesPerRun: 3 + r.IntN(5), ReorderWindow: 1 + r.IntN(4)})
		live := record(s)
		p := newProducer(r, "t")
		for range 150 {
			p.step()
		}
		msgs := delivery(r, p.msgs, 3, 0.05)
		kept := msgs[:0]
		for _, m := range msgs {
			if r.IntN(12) > 0 {
				kept = append(kept, m)
			}
		}
		for i, m := range kept {
			s.Apply(m, meta(i))
		}
		s.Tick(at(len(kept) + 10_000))
		checkTimeTravel(t, s, live)
	}
}

// interleave merges the producers' messages in a random order that keeps
// each thread's own order.
func interleave(r *rand.Rand, ps map[string]*producer) []*pb.DashStreamMessage {
	var out []*pb.DashStreamMessage
	pos := map[string]int{}
	names := []string{"t1", "t2", "t3"}
	for {
		var open []string
		for _, n := range names {
			if pos[n] < len(ps[n].msgs) {
				open = append(open, n)
			}
		}
		if len(open) == 0 {
			return out
		}
		n := open[r.IntN(len(open))]
		out = append(out, ps[n].msgs[pos[n]])
		pos[n]++
	}
}

func TestTimeTravel_Range(t *testing.T) {
	s := NewStore(Config{KeyframeEvery: 2, MaxKeyframesPerRun: 2})
	msgs := simpleRun(t, "t", 9) // seqs 1..10: keyframes at 1, 3, 5, 7, 9
	applyAll(s, msgs...)
	r := s.Run("t")
	first, last, ok := r.SeekRange()
	if !ok || first != 7 || last != 10 {
		t.Fatalf("range %d..%d %v", first, last, ok)
	}
	if _, err := r.StateAt(6); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("before the oldest keyframe: %v", err)
	}
	if _, err := r.StateAt(11); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("beyond the last: %v", err)
	}
	if st, err := s.StateAt("t", 8); err != nil || st.String() != `{"n":7}` {
		t.Fatalf("StateAt(8) = %v %v", st, err)
	}
	if _, err := s.StateAt("nope", 1); !errors.Is(err, ErrNoRun) {
		t.Fatalf("no run: %v", err)
	}
	u := NewStore(Config{})
	applyAll(u, nodeStart("u", 1, "a"), graphStart("u", 2, `{}`))
	if _, err := u.Run("u").StateAt(1); !errors.Is(err, ErrNoState) {
		t.Fatalf("before any state: %v", err)
	}
}

// propertyIterations is how many random runs a property test tries: fewer
// in short mode and in the browser, where the same code runs several times
// slower.
func propertyIterations() int {
	switch {
	case testing.Short():
		return 10
	case runtime.GOOS == "js":
		return 20
	}
	return 60
}

package cursors

import (
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a manual clock for the write throttle.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

// warnings collects warnings.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) warn(m string) { w.mu.Lock(); w.msgs = append(w.msgs, m); w.mu.Unlock() }

func (w *warnings) all() string { w.mu.Lock(); defer w.mu.Unlock(); return strings.Join(w.msgs, "\n") }

func open(st Storage, ns string, c *clock, w *warnings) *Store {
	return Open(Options{Storage: st, Namespace: ns, Now: c.now, Warn: w.warn})
}

const ns = "v1_dG9waWM9ZGFzaHN0cmVhbTtncm91cD1n"

func TestCommit_BigValuesRoundTripAsDecimalStrings(t *testing.T) {
	st, c, w := NewMemoryStorage(), newClock(), &warnings{}
	s := open(st, ns, c, w)
	s.CommitOffset(0, 9007199254740993)
	s.CommitOffset(7, 9223372036854775807)
	s.CommitSequence("thread-a", 18446744073709551615)
	s.Flush()
	raw := st.Snapshot()
	if got := raw[OffsetsKey+":"+ns]; got != `{"0":"9007199254740993","7":"9223372036854775807"}` {
		t.Fatalf("offsets stored as %s", got)
	}
	if got := raw[SequencesKey+":"+ns]; got != `{"thread-a":"18446744073709551615"}` {
		t.Fatalf("sequences stored as %s", got)
	}
	r := open(st, ns, c, w) // a reload
	if o, ok := r.Offset(0); !ok || o != 9007199254740993 {
		t.Fatalf("offset after reload %d %v", o, ok)
	}
	if q, _ := r.Sequence("thread-a"); q != 18446744073709551615 {
		t.Fatalf("sequence after reload %d", q)
	}
	if w.all() != "" {
		t.Fatalf("warnings: %s", w.all())
	}
}

func TestCommit_IsMonotonic(t *testing.T) {
	s := open(NewMemoryStorage(), ns, newClock(), &warnings{})
	if !s.CommitOffset(1, 10) || s.CommitOffset(1, 9) || s.CommitOffset(1, 10) || !s.CommitOffset(1, 11) {
		t.Fatalf("offset commits not monotonic")
	}
	if !s.CommitSequence("a", 5) || s.CommitSequence("a", 4) || !s.CommitSequence("a", 6) {
		t.Fatalf("sequence commits not monotonic")
	}
	if s.CommitOffset(-1, 3) || s.CommitOffset(2, -1) || s.CommitSequence("", 1) || s.CommitSequence("\xff", 1) {
		t.Fatalf("invalid commit accepted")
	}
	if o, _ := s.Offset(1); o != 11 {
		t.Fatalf("offset %d", o)
	}
}

func TestFlush_WritesAreThrottledToOnePerInterval(t *testing.T) {
	st, c := NewMemoryStorage(), newClock()
	s := open(st, ns, c, &warnings{})
	key := OffsetsKey + ":" + ns
	s.CommitOffset(0, 1) // the first commit is written at once
	if st.Snapshot()[key] != `{"0":"1"}` {
		t.Fatalf("first commit not written: %v", st.Snapshot())
	}
	c.advance(500 * time.Millisecond)
	s.CommitOffset(0, 2)
	if st.Snapshot()[key] != `{"0":"1"}` {
		t.Fatalf("written within the interval")
	}
	if due, ok := s.NextFlush(); !ok || !due.Equal(c.t.Add(500*time.Millisecond)) {
		t.Fatalf("next flush %v %v", due, ok)
	}
	if s.FlushIfDue() {
		t.Fatalf("flushed early")
	}
	c.advance(500 * time.Millisecond)
	if !s.FlushIfDue() || st.Snapshot()[key] != `{"0":"2"}` {
		t.Fatalf("not flushed when due: %v", st.Snapshot())
	}
	if _, ok := s.NextFlush(); ok || s.FlushIfDue() {
		t.Fatalf("pending after flush")
	}
	// pagehide: Flush writes whatever the throttle says.
	c.advance(time.Millisecond)
	s.CommitOffset(0, 3)
	s.Flush()
	if st.Snapshot()[key] != `{"0":"3"}` {
		t.Fatalf("Flush did not write")
	}
}

func TestLoad_LegacyKeysMigrateAndLegacyNumbersConvert(t *testing.T) {
	st, c, w := NewMemoryStorage(), newClock(), &warnings{}
	st.Set(OffsetsKey, `{"0":12345,"1":"678"}`)
	st.Set(SequencesKey, `{"t":42}`)
	s := open(st, ns, c, w)
	if !maps.Equal(s.Offsets(), map[int32]int64{0: 12345, 1: 678}) || !maps.Equal(s.Sequences(), map[string]uint64{"t": 42}) {
		t.Fatalf("loaded %v %v", s.Offsets(), s.Sequences())
	}
	if got := st.Snapshot()[OffsetsKey+":"+ns]; got != `{"0":12345,"1":"678"}` {
		t.Fatalf("legacy value not migrated: %q", got)
	}
	// A namespaced key, once present, wins over the legacy one.
	st.Set(OffsetsKey, `{"0":"1"}`)
	if o, _ := open(st, ns, c, w).Offset(0); o != 12345 {
		t.Fatalf("legacy key read over the namespaced one: %d", o)
	}
	// An empty namespace uses the legacy keys themselves.
	if o, _ := open(st, "", c, w).Offset(0); o != 1 {
		t.Fatalf("legacy store offset %d", o)
	}
	if w.all() != "" {
		t.Fatalf("warnings: %s", w.all())
	}
}

// Garbage, foreign or hostile stored values give a warning and an empty
// map, never a panic (U12); invalid entries are dropped one by one.
func TestLoad_GarbageGivesWarningAndEmptyStore(t *testing.T) {
	cases := []struct {
		name, offsets, sequences string
		wantOffsets              map[int32]int64
		wantSeqs                 map[string]uint64
		warn                     string
	}{
		{"not JSON", `{"0":"1"`, `garbage`, map[int32]int64{}, map[string]uint64{}, "ignoring stored"},
		{"foreign shape: array", `[1,2,3]`, `"text"`, map[int32]int64{}, map[string]uint64{}, "not a JSON object"},
		{"non-UTF-8", "{\"0\":\"1\xff\"}", "{\"\xfe\":\"1\"}", map[int32]int64{}, map[string]uint64{}, "not valid UTF-8"},
		{"duplicate keys", `{"0":"1","0":"2"}`, `{}`, map[int32]int64{}, map[string]uint64{}, "duplicate"},
		{"oversized", `{"0":"` + strings.Repeat("1", 2<<20) + `"}`, `{}`, map[int32]int64{}, map[string]uint64{}, "larger than"},
		{"bad entries dropped",
			`{"0":"5","-1":"3","01":"4","x":"1","2":"-7","3":"1.5","4":1e3,"5":{"a":1},"6":"9223372036854775808","2147483648":"1","7":"0007"}`,
			`{"a":"1","":"2","b":"-1","c":"18446744073709551616","d":null,"e":"0"}`,
			map[int32]int64{0: 5, 7: 7}, map[string]uint64{"a": 1, "e": 0}, "dropped"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, w := NewMemoryStorage(), &warnings{}
			st.Set(OffsetsKey+":"+ns, c.offsets)
			st.Set(SequencesKey+":"+ns, c.sequences)
			s := open(st, ns, newClock(), w)
			if !maps.Equal(s.Offsets(), c.wantOffsets) || !maps.Equal(s.Sequences(), c.wantSeqs) {
				t.Fatalf("loaded %v %v", s.Offsets(), s.Sequences())
			}
			if !strings.Contains(w.all(), c.warn) {
				t.Fatalf("warnings %q lack %q", w.all(), c.warn)
			}
			// The store works on: the next commit rewrites clean values.
			s.CommitOffset(9, 1)
			if got := st.Snapshot()[OffsetsKey+":"+ns]; !strings.HasSuffix(got, `"9":"1"}`) {
				t.Fatalf("rewritten as %q", got)
			}
		})
	}
}

func TestBounds_LeastRecentlyUpdatedEvictedPartitionZeroProtected(t *testing.T) {
	st, c := NewMemoryStorage(), newClock()
	s := Open(Options{Storage: st, Namespace: ns, Now: c.now, Warn: (&warnings{}).warn, MaxPartitions: 3, MaxThreads: 2})
	for p := int32(0); p < 5; p++ {
		s.CommitOffset(p, 100)
	}
	// 0 is the oldest but protected; 1 and 2 go.
	if !maps.Equal(s.Offsets(), map[int32]int64{0: 100, 3: 100, 4: 100}) {
		t.Fatalf("offsets %v", s.Offsets())
	}
	s.CommitOffset(3, 101) // 3 is now the most recent
	s.CommitOffset(5, 1)
	if !maps.Equal(s.Offsets(), map[int32]int64{0: 100, 3: 101, 5: 1}) {
		t.Fatalf("offsets %v", s.Offsets())
	}
	for i, th := range []string{"a", "b", "c"} {
		s.CommitSequence(th, uint64(i+1))
	}
	if !maps.Equal(s.Sequences(), map[string]uint64{"b": 2, "c": 3}) {
		t.Fatalf("sequences %v", s.Sequences())
	}
	// Recency survives a reload: entries are written oldest first.
	s.Flush()
	if got := st.Snapshot()[OffsetsKey+":"+ns]; got != `{"0":"100","3":"101","5":"1"}` {
		t.Fatalf("stored order %s", got)
	}
	r := Open(Options{Storage: st, Namespace: ns, Now: c.now, MaxPartitions: 3, MaxThreads: 2, Warn: (&warnings{}).warn})
	r.CommitOffset(6, 1) // evicts 3, the least recently updated after reload (0 protected)
	if !maps.Equal(r.Offsets(), map[int32]int64{0: 100, 5: 1, 6: 1}) {
		t.Fatalf("after reload %v", r.Offsets())
	}
}

func TestWrite_OverQuotaWarnsOnceAndKeepsGoing(t *testing.T) {
	st, c, w := NewMemoryStorage(), newClock(), &warnings{}
	st.Quota = 60
	s := open(st, ns, c, w)
	for i := range 5 {
		s.CommitSequence(fmt.Sprintf("thread-%d", i), 1)
		c.advance(2 * time.Second)
	}
	s.Flush()
	if n := strings.Count(w.all(), "could not persist"); n != 1 {
		t.Fatalf("%d quota warnings: %s", n, w.all())
	}
	if !strings.Contains(w.all(), "quota") || len(s.Sequences()) != 5 {
		t.Fatalf("warnings %q, sequences %v", w.all(), s.Sequences())
	}
	// Space comes back: the next write succeeds and a later failure warns
	// again.
	st.Quota = 0
	s.CommitSequence("thread-9", 1)
	s.Flush()
	if !strings.Contains(st.Snapshot()[SequencesKey+":"+ns], "thread-9") {
		t.Fatalf("not written after space came back")
	}
	st.Quota = 10
	s.CommitSequence("thread-10", 1)
	s.Flush()
	if n := strings.Count(w.all(), "could not persist"); n != 2 {
		t.Fatalf("%d warnings", n)
	}
}

func TestReset_AdoptsServerOffsetsAndClearsSequences(t *testing.T) {
	st, c := NewMemoryStorage(), newClock()
	s := open(st, ns, c, &warnings{})
	s.CommitOffset(0, 500)
	s.CommitSequence("a", 9)
	c.advance(10 * time.Millisecond)
	s.Reset(map[int32]int64{0: 100, 1: 200, -1: 5})
	if !maps.Equal(s.Offsets(), map[int32]int64{0: 100, 1: 200}) || len(s.Sequences()) != 0 {
		t.Fatalf("after reset %v %v", s.Offsets(), s.Sequences())
	}
	raw := st.Snapshot()
	if raw[OffsetsKey+":"+ns] != `{"0":"100","1":"200"}` {
		t.Fatalf("offsets not written at once: %v", raw)
	}
	if _, ok := raw[SequencesKey+":"+ns]; ok {
		t.Fatalf("sequences key not removed: %v", raw)
	}
	if s.Empty() {
		t.Fatalf("Empty after reset with offsets")
	}
}

func TestStore_IsSafeForConcurrentUse(t *testing.T) {
	s := open(NewMemoryStorage(), ns, newClock(), &warnings{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				s.CommitOffset(int32(g), int64(i))
				s.CommitSequence(fmt.Sprint("t", g), uint64(i))
				s.FlushIfDue()
				_ = s.Offsets()
			}
		})
	}
	wg.Wait()
	s.Flush()
	if o, _ := s.Offset(3); o != 199 {
		t.Fatalf("offset %d", o)
	}
}

func TestOpen_Defaults(t *testing.T) {
	s := Open(Options{})
	if !s.Empty() || s.Namespace() != "" {
		t.Fatalf("defaults")
	}
	s.CommitOffset(0, 1) // memory storage, slog warnings: must not panic
	s.Flush()
}

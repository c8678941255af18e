package cursors

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures Open. Only Storage is required.
type Options struct {
	// Storage persists the cursors (localStorage in the browser).
	Storage Storage
	// Namespace is the server's resume_namespace; "" uses the legacy
	// un-namespaced keys.
	Namespace string
	// Now is the clock for the write throttle (time.Now when nil).
	Now func() time.Time
	// Warn receives warnings (garbage in storage, dropped entries, failed
	// writes). When nil they go to log/slog at warning level.
	Warn func(msg string)
	// FlushInterval is the least time between two writes (default 1 s).
	FlushInterval time.Duration
	// MaxPartitions and MaxThreads bound the maps (defaults 100 and 500,
	// as upstream).
	MaxPartitions, MaxThreads int
}

// Store holds the committed cursors of one namespace.
type Store struct {
	mu       sync.Mutex
	opts     Options
	offKey   string
	seqKey   string
	offsets  map[int32]*offsetEntry
	seqs     map[string]*seqEntry
	tick     uint64 // orders entries by last update
	offDirty bool
	seqDirty bool
	// lastWrite is when the store last wrote; failing is set while writes
	// fail, so a full storage warns once per streak, not per commit.
	lastWrite time.Time
	failing   bool
	// resetSeqs: Reset cleared the sequences; the next write removes
	// their key instead of writing an empty object.
	resetSeqs bool
}

type offsetEntry struct {
	v    int64
	used uint64
}

type seqEntry struct {
	v    uint64
	used uint64
}

// Open loads the cursors of opts.Namespace from opts.Storage, migrating
// the legacy keys when the namespaced ones are absent. It never fails:
// anything unreadable is reported through Warn and left out.
func Open(opts Options) *Store {
	if opts.Storage == nil {
		opts.Storage = NewMemoryStorage()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Warn == nil {
		opts.Warn = func(msg string) { slog.Warn(msg, "component", "cursors") }
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.MaxPartitions <= 0 {
		opts.MaxPartitions = 100
	}
	if opts.MaxThreads <= 0 {
		opts.MaxThreads = 500
	}
	s := &Store{
		opts:    opts,
		offKey:  namespaced(OffsetsKey, opts.Namespace),
		seqKey:  namespaced(SequencesKey, opts.Namespace),
		offsets: map[int32]*offsetEntry{},
		seqs:    map[string]*seqEntry{},
	}
	s.loadOffsets(s.read(OffsetsKey, s.offKey))
	s.loadSequences(s.read(SequencesKey, s.seqKey))
	return s
}

// read returns the stored value of key, migrating the legacy key's value
// when key has none.
func (s *Store) read(base, key string) (string, bool) {
	if v, ok := s.opts.Storage.Get(key); ok {
		return v, true
	}
	if key == base {
		return "", false
	}
	v, ok := s.opts.Storage.Get(base)
	if !ok {
		return "", false
	}
	if err := s.opts.Storage.Set(key, v); err != nil {
		s.opts.Warn(fmt.Sprintf("cursors: could not migrate %s to %s: %v", base, key, err))
	}
	return v, true
}

func (s *Store) loadOffsets(raw string, ok bool) {
	if !ok {
		return
	}
	members, bad, err := decodeObject(raw)
	if err != nil {
		s.opts.Warn(fmt.Sprintf("cursors: ignoring stored %s (%v); starting without offsets", s.offKey, err))
		return
	}
	for _, m := range members {
		p, okp := parsePartition(m.key)
		o, oko := parseOffset(m.digits)
		if !okp || !oko {
			bad = append(bad, m.key)
			continue
		}
		s.tick++
		s.offsets[p] = &offsetEntry{v: o, used: s.tick}
	}
	s.warnDropped(s.offKey, bad)
	s.evictOffsets()
}

func (s *Store) loadSequences(raw string, ok bool) {
	if !ok {
		return
	}
	members, bad, err := decodeObject(raw)
	if err != nil {
		s.opts.Warn(fmt.Sprintf("cursors: ignoring stored %s (%v); starting without sequences", s.seqKey, err))
		return
	}
	for _, m := range members {
		q, okq := parseSequence(m.digits)
		if !okq || !validThread(m.key) {
			bad = append(bad, m.key)
			continue
		}
		s.tick++
		s.seqs[m.key] = &seqEntry{v: q, used: s.tick}
	}
	s.warnDropped(s.seqKey, bad)
	s.evictSequences()
}

func (s *Store) warnDropped(key string, bad []string) {
	if len(bad) == 0 {
		return
	}
	quoted := make([]string, 0, min(len(bad), 5))
	for _, k := range bad[:min(len(bad), 5)] {
		quoted = append(quoted, strconv.QuoteToASCII(truncate(k, 40)))
	}
	more := ""
	if len(bad) > 5 {
		more = fmt.Sprintf(" and %d more", len(bad)-5)
	}
	s.opts.Warn(fmt.Sprintf("cursors: dropped %d invalid entries of stored %s: %s%s", len(bad), key, strings.Join(quoted, ", "), more))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Namespace returns the store's namespace.
func (s *Store) Namespace() string { return s.opts.Namespace }

// Empty reports whether the store holds no cursor at all (a first connect
// resumes "from latest").
func (s *Store) Empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.offsets) == 0 && len(s.seqs) == 0
}

// Offset returns the committed offset of a partition.
func (s *Store) Offset(partition int32) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.offsets[partition]; ok {
		return e.v, true
	}
	return 0, false
}

// Offsets returns a copy of the committed offsets.
func (s *Store) Offsets() map[int32]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int32]int64, len(s.offsets))
	for p, e := range s.offsets {
		out[p] = e.v
	}
	return out
}

// Sequence returns the last sequence of a thread.
func (s *Store) Sequence(thread string) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.seqs[thread]; ok {
		return e.v, true
	}
	return 0, false
}

// Sequences returns a copy of the last sequences by thread.
func (s *Store) Sequences() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]uint64, len(s.seqs))
	for t, e := range s.seqs {
		out[t] = e.v
	}
	return out
}

// CommitOffset records that a partition's records up to offset are
// processed. A lower offset than the one held is ignored (a replay may
// re-send older records). It reports whether the cursor advanced; the write
// follows within FlushInterval.
func (s *Store) CommitOffset(partition int32, offset int64) bool {
	if partition < 0 || offset < 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.offsets[partition]
	if ok && offset <= e.v {
		return false
	}
	s.tick++
	if !ok {
		e = &offsetEntry{}
		s.offsets[partition] = e
	}
	e.v, e.used = offset, s.tick
	s.evictOffsets()
	s.offDirty = true
	s.flushIfDueLocked()
	return true
}

// CommitSequence records the last sequence applied for a thread; lower
// sequences are ignored. It reports whether the sequence advanced.
func (s *Store) CommitSequence(thread string, seq uint64) bool {
	if !validThread(thread) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.seqs[thread]
	if ok && seq <= e.v {
		return false
	}
	s.tick++
	if !ok {
		e = &seqEntry{}
		s.seqs[thread] = e
	}
	e.v, e.used = seq, s.tick
	s.evictSequences()
	s.seqDirty = true
	s.flushIfDueLocked()
	return true
}

// Reset adopts the server's latest offsets after a cursor reset
// (cursor_reset_complete): the offsets are replaced, the sequences
// cleared, and both written at once.
func (s *Store) Reset(latest map[int32]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offsets = map[int32]*offsetEntry{}
	parts := slices.Sorted(maps.Keys(latest))
	for _, p := range parts {
		if p >= 0 && latest[p] >= 0 {
			s.tick++
			s.offsets[p] = &offsetEntry{v: latest[p], used: s.tick}
		}
	}
	s.evictOffsets()
	s.seqs = map[string]*seqEntry{}
	s.offDirty, s.seqDirty, s.resetSeqs = true, true, true
	s.writeLocked()
}

// evictOffsets drops the least recently updated partitions beyond the
// bound, never partition 0 (upstream protects it: single-partition topics
// must never lose their cursor).
func (s *Store) evictOffsets() {
	for len(s.offsets) > s.opts.MaxPartitions {
		var victim int32 = -1
		for p, e := range s.offsets {
			if p != 0 && (victim < 0 || e.used < s.offsets[victim].used) {
				victim = p
			}
		}
		if victim < 0 {
			return
		}
		delete(s.offsets, victim)
	}
}

func (s *Store) evictSequences() {
	for len(s.seqs) > s.opts.MaxThreads {
		victim, oldest := "", uint64(0)
		for t, e := range s.seqs {
			if victim == "" || e.used < oldest {
				victim, oldest = t, e.used
			}
		}
		delete(s.seqs, victim)
	}
}

// FlushIfDue writes pending commits when FlushInterval has passed since the
// last write; it reports whether it wrote. Call it from a timer (see
// NextFlush) so the last commits of a burst are written too.
func (s *Store) FlushIfDue() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushIfDueLocked()
}

func (s *Store) flushIfDueLocked() bool {
	if !s.offDirty && !s.seqDirty {
		return false
	}
	if s.opts.Now().Sub(s.lastWrite) < s.opts.FlushInterval {
		return false
	}
	s.writeLocked()
	return true
}

// NextFlush returns when pending commits become due, and false when nothing
// is pending.
func (s *Store) NextFlush() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.offDirty && !s.seqDirty {
		return time.Time{}, false
	}
	return s.lastWrite.Add(s.opts.FlushInterval), true
}

// Flush writes pending commits now, whatever the throttle: for pagehide and
// visibilitychange, when the page may go away.
func (s *Store) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.offDirty || s.seqDirty {
		s.writeLocked()
	}
}

// writeLocked writes the dirty maps. A failed write keeps them dirty (the
// next flush retries) and warns once until a write succeeds again.
func (s *Store) writeLocked() {
	s.lastWrite = s.opts.Now()
	var errs []error
	if s.offDirty {
		if err := s.opts.Storage.Set(s.offKey, s.encodeOffsets()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.offKey, err))
		} else {
			s.offDirty = false
		}
	}
	if s.seqDirty {
		if len(s.seqs) == 0 && s.resetSeqs {
			s.opts.Storage.Remove(s.seqKey)
			s.seqDirty, s.resetSeqs = false, false
		} else if err := s.opts.Storage.Set(s.seqKey, s.encodeSequences()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.seqKey, err))
		} else {
			s.seqDirty, s.resetSeqs = false, false
		}
	}
	if len(errs) == 0 {
		s.failing = false
		return
	}
	if !s.failing {
		s.failing = true
		s.opts.Warn(fmt.Sprintf("cursors: could not persist cursors (%v); keeping them in memory and retrying", errors.Join(errs...)))
	}
}

// encodeOffsets writes the offsets oldest update first.
func (s *Store) encodeOffsets() string {
	parts := slices.Collect(maps.Keys(s.offsets))
	slices.SortFunc(parts, func(a, b int32) int { return cmpUint(s.offsets[a].used, s.offsets[b].used) })
	buf := []byte{'{'}
	for _, p := range parts {
		buf = appendEntry(buf, strconv.FormatInt(int64(p), 10), strconv.FormatInt(s.offsets[p].v, 10))
	}
	return string(append(buf, '}'))
}

func (s *Store) encodeSequences() string {
	threads := slices.Collect(maps.Keys(s.seqs))
	slices.SortFunc(threads, func(a, b string) int { return cmpUint(s.seqs[a].used, s.seqs[b].used) })
	buf := []byte{'{'}
	for _, t := range threads {
		buf = appendEntry(buf, t, strconv.FormatUint(s.seqs[t].v, 10))
	}
	return string(append(buf, '}'))
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

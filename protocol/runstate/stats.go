package runstate

// Stats counts what a Store did and holds; the session publishes it (on
// window.dashstream in the browser). Counters are totals since the Store
// was made; the last block is computed now.
type Stats struct {
	// Messages counts Apply calls with a message; Applied the messages
	// (inner events counted one each) processed into a run.
	Messages, Applied uint64
	// Duplicates, Stale, Collisions, Unbound and Invalid count messages
	// that changed nothing (or only the quarantine list).
	Duplicates, Stale, Collisions, Unbound, Invalid uint64
	// Buffered counts messages that had to wait in a reorder window;
	// Holes the holes declared.
	Buffered, Holes uint64
	// HashesVerified, HashMismatches and HashMissing count state_hash
	// checks, and changes without a usable hash.
	HashesVerified, HashMismatches, HashMissing uint64
	// PatchFailures counts patches that did not apply; Skipped the state
	// changes not applied for lack of a trusted base.
	PatchFailures, Skipped uint64
	// Heals counts runs becoming trusted again; EvictedRuns the runs
	// dropped to stay within MaxRuns.
	Heals, EvictedRuns uint64

	// Runs is the number of runs kept; Pinned how many of them are pinned.
	Runs, Pinned int
	// CorruptedRuns, GapRuns and IncompleteRuns count runs by integrity.
	CorruptedRuns, GapRuns, IncompleteRuns int
	// Waiting is the number of messages in reorder windows now.
	Waiting int
	// Events is the number of events kept over all runs; Quarantined the
	// length of the unbound list.
	Events, Quarantined int
}

// Stats returns the counters and current figures.
func (s *Store) Stats() Stats {
	st := s.stats
	st.Runs = len(s.runs)
	st.Quarantined = len(s.unbound)
	for _, r := range s.runs {
		if s.pins[r.thread] {
			st.Pinned++
		}
		if r.integ.corrupted {
			st.CorruptedRuns++
		}
		if r.integ.gap {
			st.GapRuns++
		}
		if !r.integ.hasBase {
			st.IncompleteRuns++
		}
		st.Waiting += len(r.seq.pending)
		st.Events += r.events.len()
	}
	return st
}

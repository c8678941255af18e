package runstate

import "time"

// ProblemKind classifies what made a run's state untrusted.
type ProblemKind uint8

// The problem kinds. The first six corrupt the state; the last two are gaps.
const (
	// ProblemPatchFailed: a StateDiff's operations did not apply (M-704).
	ProblemPatchFailed ProblemKind = iota + 1
	// ProblemHashMismatch: the state after an apply does not hash to the
	// message's state_hash.
	ProblemHashMismatch
	// ProblemUnknownBase: a StateDiff names a base_checkpoint_id that is not
	// a known valid checkpoint.
	ProblemUnknownBase
	// ProblemSnapshotInvalid: a full state, initial state or state attribute
	// is too large or not valid JSON.
	ProblemSnapshotInvalid
	// ProblemCheckpointInvalid: a checkpoint's state could not be used
	// (compression, size, checksum or JSON).
	ProblemCheckpointInvalid
	// ProblemUnsequencedState: a state change without a sequence, which
	// cannot be placed in order and was ignored.
	ProblemUnsequencedState
	// ProblemLocalGap: a hole in the thread's sequences that the reorder
	// window could not fill.
	ProblemLocalGap
	// ProblemServerGap: the server reported lost or expired messages (gap,
	// cursor_stale) through MarkQuarantined or QuarantineAll.
	ProblemServerGap
)

var problemNames = [...]string{"", "patch_failed", "hash_mismatch", "unknown_base_checkpoint", "snapshot_invalid", "checkpoint_invalid", "unsequenced_state_change", "gap", "server_gap"}

// String returns a short label ("hash_mismatch", ...).
func (k ProblemKind) String() string {
	if int(k) < len(problemNames) && k > 0 {
		return problemNames[k]
	}
	return "unknown"
}

// IsGap reports whether the problem is a gap (lost messages) rather than a
// corruption of the state itself.
func (k ProblemKind) IsGap() bool { return k == ProblemLocalGap || k == ProblemServerGap }

// Problem is one entry of a run's integrity history.
type Problem struct {
	Kind ProblemKind
	// Seq is the sequence of the message that revealed the problem (the
	// first missing sequence for a gap; 0 for a server mark).
	Seq uint64
	// Reason says what happened in words a person can read; show it
	// verbatim.
	Reason string
	// At is the local time it was found.
	At time.Time
	// Healed is set once a later full state, checkpoint or hash-verified
	// change made the state trustworthy again; HealedSeq is that message's
	// sequence and HealedBy says how.
	Healed    bool
	HealedSeq uint64
	HealedBy  string
}

// Gap is a range of sequences a thread never delivered in time, From and To
// inclusive.
type Gap struct {
	From, To uint64
}

// Integrity is what a run's state is worth, for the UI to show.
type Integrity struct {
	// Corrupted: a problem of the corrupting kinds is unhealed.
	Corrupted bool
	// Gap: messages were lost (locally detected or reported by the server)
	// and the state has not been re-established since.
	Gap bool
	// Incomplete: no base state has arrived yet (the run was joined
	// mid-stream, or its producer sends no state); there is no state to
	// trust or distrust.
	Incomplete bool
	// Reason is the reason of the oldest unhealed problem: why the state
	// is untrusted. "" when it is not.
	Reason string
	// Problems is the history, oldest first (bounded by
	// Config.MaxProblemsPerRun; the oldest go first).
	Problems []Problem
	// Gaps lists the holes found in the thread's sequences, oldest first
	// (bounded like Problems). They stay after healing: the event log
	// still misses those messages.
	Gaps []Gap
	// Heals counts the transitions from untrusted to trusted.
	Heals int
	// HashesVerified and HashMismatches count state_hash checks.
	HashesVerified int
	HashMismatches int
	// HashMissing: a state change arrived without a state_hash, so it
	// could not be verified (noted once per run, not a problem).
	HashMissing bool
}

// Trusted reports whether the run's state can be shown as the run's true
// state: present, and with no unhealed problem.
func (i Integrity) Trusted() bool { return !i.Corrupted && !i.Gap && !i.Incomplete }

// integrity is a run's integrity bookkeeping; Integrity is its snapshot.
type integrity struct {
	corrupted, gap bool
	hasBase        bool // a base state arrived at some point
	problems       []Problem
	gaps           []Gap
	heals          int
	verified       int
	mismatches     int
	hashMissing    bool
}

// untrusted reports whether a state change must prove itself (by hash)
// before it is adopted.
func (g *integrity) untrusted() bool { return g.corrupted || g.gap }

func (g *integrity) mark(limit int, p Problem) {
	if p.Kind.IsGap() {
		g.gap = true
	} else {
		g.corrupted = true
	}
	if len(g.problems) >= limit {
		g.problems = append(g.problems[:0:0], g.problems[len(g.problems)-limit+1:]...)
	}
	g.problems = append(g.problems, p)
}

func (g *integrity) addGap(limit int, gp Gap) {
	if len(g.gaps) >= limit {
		g.gaps = append(g.gaps[:0:0], g.gaps[len(g.gaps)-limit+1:]...)
	}
	g.gaps = append(g.gaps, gp)
}

// heal clears the state flags; it reports whether there was anything to
// heal.
func (g *integrity) heal(seq uint64, by string) bool {
	g.hasBase = true
	if !g.corrupted && !g.gap {
		return false
	}
	g.corrupted, g.gap = false, false
	for i := range g.problems {
		if !g.problems[i].Healed {
			g.problems[i].Healed, g.problems[i].HealedSeq, g.problems[i].HealedBy = true, seq, by
		}
	}
	g.heals++
	return true
}

func (g *integrity) snapshot() Integrity {
	in := Integrity{
		Corrupted:      g.corrupted,
		Gap:            g.gap,
		Incomplete:     !g.hasBase,
		Problems:       append([]Problem(nil), g.problems...),
		Gaps:           append([]Gap(nil), g.gaps...),
		Heals:          g.heals,
		HashesVerified: g.verified,
		HashMismatches: g.mismatches,
		HashMissing:    g.hashMissing,
	}
	for _, p := range g.problems {
		if !p.Healed {
			in.Reason = p.Reason
			break
		}
	}
	if in.Reason == "" && (g.corrupted || g.gap) {
		// The problem that set the flag was trimmed from the history.
		in.Reason = "state untrusted (details dropped from the bounded history)"
	}
	return in
}

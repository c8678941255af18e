package viewmodel

import (
	"time"

	"github.com/dashstream/dashstream/protocol/runstate"
)

// ProblemRow is one entry of a run's integrity history.
type ProblemRow struct {
	Kind, Reason string
	Seq          uint64
	Healed       bool
	HealedBy     string
}

// RunHeader is the top of the run view.
type RunHeader struct {
	Row         RunRow
	SchemaID    string
	LastSeq     uint64
	Processed   uint64
	CurrentNode string
	Failure     string
	// Integrity, in words.
	Corrupted, Gap, Incomplete bool
	Reason                     string
	HashesVerified             int
	Heals                      int
	Problems                   []ProblemRow
	Notes                      []string
}

// Untrusted reports whether the state shown cannot be taken as true.
func (h RunHeader) Untrusted() bool { return h.Corrupted || h.Gap }

// NewRunHeader summarises a run for its page.
func NewRunHeader(r *runstate.Run, now time.Time) RunHeader {
	in := r.Integrity()
	h := RunHeader{
		Row: NewRunRow(r, now), SchemaID: r.SchemaID(), LastSeq: r.LastSeq(), Processed: r.Processed(),
		CurrentNode: r.CurrentNode(), Failure: r.FailureReason(),
		Corrupted: in.Corrupted, Gap: in.Gap, Incomplete: in.Incomplete, Reason: in.Reason,
		HashesVerified: in.HashesVerified, Heals: in.Heals, Notes: append([]string(nil), r.Notes()...),
	}
	for _, p := range in.Problems {
		h.Problems = append(h.Problems, ProblemRow{Kind: p.Kind.String(), Reason: p.Reason, Seq: p.Seq, Healed: p.Healed, HealedBy: p.HealedBy})
	}
	return h
}

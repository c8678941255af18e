package runstate

import (
	"errors"
	"fmt"
)

// Errors of the time travel and lookup methods; test with errors.Is.
var (
	// ErrNoRun: no run is kept for that thread.
	ErrNoRun = errors.New("runstate: no such run")
	// ErrOutOfRange: the sequence is beyond the run's last processed one,
	// or older than the oldest state still kept.
	ErrOutOfRange = errors.New("runstate: sequence out of range")
	// ErrNoState: the run had no state yet at that sequence (before its
	// first GraphStart initial state, full state or checkpoint).
	ErrNoState = errors.New("runstate: no state at that sequence")
)

func wrapRange(seq, last uint64) error {
	return fmt.Errorf("%w: sequence %d is beyond the last processed one (%d)", ErrOutOfRange, seq, last)
}

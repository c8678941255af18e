package session

import (
	"strconv"

	"github.com/dashstream/dashstream/protocol/runstate"
)

// Debug is the read-only summary behind window.dashstream: counts that
// end-to-end tests and curious users read in the console. Offsets are
// decimal strings, as everywhere a browser sees them.
type Debug struct {
	State            string            `json:"state"`
	Epoch            uint64            `json:"epoch"`
	Runs             int               `json:"runs"`
	Frames           uint64            `json:"frames"`
	Applied          uint64            `json:"applied"`
	Duplicates       uint64            `json:"duplicates"`
	HashesVerified   uint64            `json:"hashesVerified"`
	HashMismatches   uint64            `json:"hashMismatches"`
	Quarantined      int               `json:"quarantined"`
	CursorsCommitted uint64            `json:"cursorsCommitted"`
	DecodeErrors     map[string]uint64 `json:"decodeErrors"`
	Connections      uint64            `json:"connections"`
	Reconnects       uint64            `json:"reconnects"`
	Replaying        []string          `json:"replayingThreads"`
	// Committed is the cursor store's offsets by partition.
	Committed map[string]string `json:"committed"`
	// Flow is Health.Flow with offsets as strings.
	Flow map[string]map[string]string `json:"flow"`
}

// Debug returns fresh figures for window.dashstream.
func (s *Session) Debug() Debug {
	h := s.Health()
	var mism uint64
	s.Read(func(st *runstate.Store) { mism = st.Stats().HashMismatches })
	d := Debug{
		State: h.State.String(), Epoch: h.Epoch, Runs: h.Runs, Frames: h.Frames,
		Applied: h.Applied, Duplicates: h.Duplicates, HashesVerified: h.HashesVerified,
		HashMismatches: mism, Quarantined: h.Quarantined, CursorsCommitted: h.CursorsCommitted,
		DecodeErrors: h.DecodeErrors, Connections: h.Connections, Reconnects: h.Reconnects,
		Replaying: h.ReplayingThreads, Committed: map[string]string{}, Flow: map[string]map[string]string{},
	}
	for p, o := range s.cur.Load().Offsets() {
		d.Committed[itoa(int64(p))] = itoa(o)
	}
	for p, f := range h.Flow {
		d.Flow[itoa(int64(p))] = map[string]string{
			"resumedAfter": itoa(f.ResumedAfter), "first": itoa(f.First), "last": itoa(f.Last),
			"frames": strconv.FormatUint(f.Frames, 10), "repeats": strconv.FormatUint(f.Repeats, 10),
			"committed": itoa(f.Committed),
		}
	}
	return d
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// Package logdir guards the embedded broker's data folder. It gives the log
// an incarnation (a random id that changes whenever offsets could name other
// records than before), checks the folder before the broker loads it, and
// moves what cannot be read aside instead of failing or silently dropping it.
//
// The check runs before kfake sees the folder because kfake has no hook for
// it: a corrupt JSON file stops kfake from starting, and a damaged segment is
// cut at its first bad batch, which drops every later record of that segment
// and may lower the partition's end, so that new records reuse old offsets.
package logdir

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Loss is one thing the check found unreadable.
type Loss struct {
	What      string `json:"what"`
	Topic     string `json:"topic,omitempty"`
	Partition int32  `json:"partition"`
	// From and To are the offsets lost, -1 when not known.
	From int64 `json:"from"`
	To   int64 `json:"to"`
	// Tail marks a loss at the end of the partition.
	Tail bool `json:"-"`
	// Detail marks a description of damage whose offsets another loss
	// gives (or that lost none).
	Detail bool `json:"-"`
}

// Records is the number of offsets lost, or -1 when not known.
func (l Loss) Records() int64 {
	if l.Detail {
		return 0
	}
	if l.From < 0 || l.To < l.From {
		return -1
	}
	return l.To - l.From + 1
}

// Report is the outcome of Prepare.
type Report struct {
	Incarnation string    `json:"incarnation"`
	Previous    string    `json:"previous_incarnation,omitempty"`
	Since       time.Time `json:"since"`
	// Reason says why a new incarnation began ("" when the log went on).
	Reason string `json:"new_incarnation_reason,omitempty"`
	Losses []Loss `json:"losses,omitempty"`
	// LostRecords counts the offsets known lost; UnknownLosses counts the
	// losses whose size could not be told.
	LostRecords   int64 `json:"lost_records"`
	UnknownLosses int   `json:"unknown_losses"`
	// Quarantine is where unreadable files were moved ("" when none).
	Quarantine string `json:"quarantine,omitempty"`
}

// Damaged reports whether the check found anything unreadable.
func (r Report) Damaged() bool { return len(r.Losses) > 0 }

// State is what the guard keeps beside the log folder: its incarnation and
// the last known bounds of each partition, so that a log cut short (whose
// end went backwards) is noticed even when no byte of it is unreadable.
type State struct {
	Incarnation string                     `json:"incarnation"`
	Since       time.Time                  `json:"since"`
	Ends        map[string]map[int32]int64 `json:"ends,omitempty"`
	Starts      map[string]map[int32]int64 `json:"starts,omitempty"`
	// Holes are offset ranges already reported lost; the log keeps them
	// (the broker skips them), and they are not reported again.
	Holes map[string]map[int32][][2]int64 `json:"holes,omitempty"`
}

// AddHoles records offset ranges of topic/p as already reported lost.
func (st *State) AddHoles(topic string, p int32, holes ...[2]int64) {
	if len(holes) == 0 {
		return
	}
	if st.Holes == nil {
		st.Holes = map[string]map[int32][][2]int64{}
	}
	if st.Holes[topic] == nil {
		st.Holes[topic] = map[int32][][2]int64{}
	}
	st.Holes[topic][p] = append(st.Holes[topic][p], holes...)
}

// StatePath is where the state of the log in dir is kept: beside the
// folder, so that removing the folder is noticed.
func StatePath(dir string) string { return filepath.Clean(dir) + ".state.json" }

// ReadState reads the state file; a missing file is (State{}, nil).
func ReadState(dir string) (State, error) {
	var st State
	raw, err := os.ReadFile(StatePath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return State{}, fmt.Errorf("%s: %w", StatePath(dir), err)
	}
	if st.Incarnation == "" {
		return State{}, fmt.Errorf("%s: no incarnation", StatePath(dir))
	}
	return st, nil
}

// WriteState replaces the state file atomically.
func WriteState(dir string, st State) error {
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	path := StatePath(dir)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return fmt.Errorf("log state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("log state: %w", err)
	}
	return nil
}

// NewIncarnation returns a fresh random incarnation id.
func NewIncarnation() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b[:])
}

// Prepare checks the log folder dir before the broker loads it, repairs
// what it can, moves what it cannot read to dir.damaged-<time>, and decides
// the incarnation: the previous one when nothing was lost, a new one
// otherwise (and on the first start). It fails only when the disk itself
// fails (the folder cannot be read, moved or written).
func Prepare(dir string, now time.Time, log *slog.Logger) (Report, error) {
	prev, stErr := ReadState(dir)
	rep := Report{Previous: prev.Incarnation}
	quarantine := func() string {
		if rep.Quarantine == "" {
			rep.Quarantine = fmt.Sprintf("%s.damaged-%s", filepath.Clean(dir), now.UTC().Format("20060102T150405.000Z"))
		}
		return rep.Quarantine
	}
	if stErr != nil {
		rep.Losses = append(rep.Losses, Loss{What: "the log's state file is unreadable (" + stErr.Error() + "); its incarnation is unknown", From: -1, To: -1})
	}

	scans, whole, err := check(dir, prev)
	if err != nil {
		return rep, err
	}
	switch {
	case whole != nil:
		rep.Losses = append(rep.Losses, *whole)
		if _, err := os.Stat(dir); err == nil {
			if err := os.Rename(dir, quarantine()); err != nil {
				return rep, fmt.Errorf("moving the unreadable log aside: %w", err)
			}
		}
	default:
		for _, ps := range scans {
			rep.Losses = append(rep.Losses, ps.losses...)
			if ps.damaged {
				if err := repair(ps, filepath.Join(quarantine(), "partitions", filepath.Base(ps.dir))); err != nil {
					return rep, err
				}
			}
		}
	}

	for _, l := range rep.Losses {
		if n := l.Records(); n >= 0 {
			rep.LostRecords += n
		} else {
			rep.UnknownLosses++
		}
	}
	rep.Incarnation, rep.Since = prev.Incarnation, prev.Since
	switch {
	case prev.Incarnation == "" && stErr == nil:
		rep.Reason = "first start of this log"
	case rep.Damaged():
		rep.Reason = "the log was damaged"
	}
	if rep.Reason != "" {
		rep.Incarnation, rep.Since = NewIncarnation(), now.UTC()
	}
	if rep.Damaged() {
		args := []any{"lost_records", rep.LostRecords, "losses_of_unknown_size", rep.UnknownLosses,
			"moved_to", rep.Quarantine, "previous_incarnation", rep.Previous, "incarnation", rep.Incarnation}
		for i, l := range rep.Losses {
			if i == 20 {
				args = append(args, "more", len(rep.Losses)-i)
				break
			}
			args = append(args, "loss_"+strconv.Itoa(i+1), l.What)
		}
		log.Error("embedded kafka: the log was damaged; what could be read was kept and a new incarnation begins (clients' cursors of the old one are void)", args...)
	}
	st := State{Incarnation: rep.Incarnation, Since: rep.Since, Ends: map[string]map[int32]int64{}, Starts: map[string]map[int32]int64{},
		Holes: map[string]map[int32][][2]int64{}}
	if rep.Incarnation == prev.Incarnation {
		st.Ends, st.Starts = prev.Ends, prev.Starts
	}
	if whole == nil { // the folder (with its holes) goes on
		for t, ps := range prev.Holes {
			for p, hs := range ps {
				st.AddHoles(t, p, hs...)
			}
		}
	}
	for _, l := range rep.Losses {
		if l.Records() > 0 && !l.Tail {
			st.AddHoles(l.Topic, l.Partition, [2]int64{l.From, l.To})
		}
	}
	if err := os.MkdirAll(filepath.Dir(StatePath(dir)), 0o755); err != nil {
		return rep, err
	}
	return rep, WriteState(dir, st)
}

// check reads the folder. whole is set when the folder as a whole cannot be
// used (it is then moved aside); otherwise each partition's scan is returned.
func check(dir string, prev State) (scans []*scanned, whole *Loss, err error) {
	total := func() string {
		var n int64
		for t, ends := range prev.Ends {
			for p, e := range ends {
				n += e - prev.Starts[t][p]
			}
		}
		if n == 0 {
			return ""
		}
		return fmt.Sprintf(" (%d records when last seen)", n)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0):
		if len(prev.Ends) > 0 {
			return nil, &Loss{What: "the log folder " + dir + " is missing; its history is lost" + total(), From: -1, To: -1}, nil
		}
		return nil, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("reading the log folder: %w", err)
	}
	// Every JSON file must parse, or kfake refuses to start.
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, fmt.Errorf("reading the log folder: %w", err)
		}
		if !json.Valid(raw) {
			return nil, &Loss{What: e.Name() + " is unreadable; the whole log was moved aside" + total(), From: -1, To: -1}, nil
		}
	}
	var meta struct {
		Version int `json:"version"`
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "meta.json")); err != nil || json.Unmarshal(raw, &meta) != nil {
		return nil, &Loss{What: "meta.json is missing; the log folder holds no usable log" + total(), From: -1, To: -1}, nil
	}
	var topics struct {
		Topics []struct {
			Name       string `json:"name"`
			Partitions int    `json:"partitions"`
		} `json:"topics"`
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "topics.json")); err == nil {
		if err := json.Unmarshal(raw, &topics); err != nil {
			return nil, &Loss{What: "topics.json is unreadable (" + err.Error() + "); the whole log was moved aside" + total(), From: -1, To: -1}, nil
		}
	}
	names := map[string]bool{}
	for _, t := range topics.Topics {
		names[t.Name] = true
		for p := range int32(t.Partitions) {
			pdir := filepath.Join(dir, "partitions", fmt.Sprintf("%s-%d", url.PathEscape(t.Name), p))
			ps, err := scanPartition(t.Name, p, pdir, prev.Holes[t.Name][p])
			if err != nil {
				return nil, nil, fmt.Errorf("reading the log folder: %w", err)
			}
			// The end went backwards: new records would take offsets that
			// clients already hold for other records.
			if was, ok := prev.Ends[t.Name][p]; ok && ps.end < was {
				from := ps.end
				if len(ps.losses) > 0 && ps.losses[len(ps.losses)-1].Tail {
					ps.losses[len(ps.losses)-1].To = was - 1
				} else {
					ps.losses = append(ps.losses, Loss{Topic: t.Name, Partition: p, From: from, To: was - 1, Tail: true,
						What: fmt.Sprintf("%s-%d: the log ends at offset %d, it ended at %d before", t.Name, p, from, was)})
				}
			}
			scans = append(scans, &scanned{partitionScan: ps, dir: pdir})
		}
	}
	for t, ends := range prev.Ends {
		if !names[t] && len(ends) > 0 {
			return nil, &Loss{What: "topic " + t + " is missing from topics.json; the whole log was moved aside" + total(), From: -1, To: -1}, nil
		}
	}
	return scans, nil, nil
}

type scanned struct {
	*partitionScan
	dir string
}

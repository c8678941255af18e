package runstate

import (
	"bytes"
	"fmt"

	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

// State changes. The rule behind every one of them: a change is adopted when
// the run's state is trusted, or when its state_hash proves the result right
// (which heals the run). A snapshot (GraphStart initial state, full state,
// checkpoint) is authoritative and always adopted. Everything else, on an
// untrusted base, leaves the state as it was and flagged.

// adoptPatch makes root, produced by p at seq, the run's state.
func (r *Run) adoptPatch(seq uint64, p jsonpatch.Patch, root *jsontree.Node) {
	if root == r.state {
		return // nothing changed (e.g. only test operations)
	}
	r.state, r.stateSeq = root, seq
	r.timeline.patched(seq, p, root, r.cfg)
}

// adoptWhole makes root the run's state at seq, as a keyframe.
func (r *Run) adoptWhole(seq uint64, root *jsontree.Node) {
	r.state, r.stateSeq = root, seq
	r.timeline.reset(seq, root, r.cfg)
}

// resetState adopts an authoritative snapshot and heals the run.
func (s *Store) resetState(r *Run, seq uint64, root *jsontree.Node, by string) {
	r.adoptWhole(seq, root)
	if r.integ.heal(seq, by) {
		s.stats.Heals++
	}
}

// parseSnapshot parses a snapshot (full state, initial state, checkpoint
// state) within the size limit.
func (s *Store) parseSnapshot(data []byte) (*jsontree.Node, error) {
	if len(data) > s.cfg.MaxSnapshotBytes {
		return nil, fmt.Errorf("%d bytes exceeds the %d-byte limit", len(data), s.cfg.MaxSnapshotBytes)
	}
	return jsontree.Parse(data)
}

// usableHash returns the message's state_hash when it is one (32 bytes),
// noting once per run when it is missing or malformed.
func (s *Store) usableHash(r *Run, h []byte) []byte {
	switch len(h) {
	case statehash.Size:
		return h
	case 0:
		r.integ.hashMissing = true
		s.stats.HashMissing++
		r.note("state changes arrive without state_hash; they cannot be verified")
	default:
		s.stats.HashMissing++
		r.note(fmt.Sprintf("a state_hash of %d bytes was ignored (expected %d)", len(h), statehash.Size))
	}
	return nil
}

// hashMatches verifies root against want and counts the outcome.
func (s *Store) hashMatches(r *Run, root *jsontree.Node, want []byte) (bool, [32]byte) {
	got := s.hasher.Sum(&r.chain, root)
	if bytes.Equal(got[:], want) {
		r.integ.verified++
		s.stats.HashesVerified++
		return true, got
	}
	r.integ.mismatches++
	s.stats.HashMismatches++
	return false, got
}

func (s *Store) mismatch(r *Run, seq uint64, what string, want []byte, got [32]byte, it *item) {
	r.problem(&s.cfg, Problem{
		Kind:   ProblemHashMismatch,
		Seq:    seq,
		Reason: fmt.Sprintf("state hash mismatch at sequence %d (%s): expected %s, computed %s", seq, what, shortHex(want), shortHex(got[:])),
		At:     it.meta.Received,
	})
}

func (s *Store) applyDiff(r *Run, it *item, e *Event) {
	d := it.msg.GetStateDiff()
	seq := it.seq
	sm := newSummary(&s.cfg, 4)
	sm.addInt("ops", int64(len(d.GetOperations())))
	if n := len(d.GetFullState()); n > 0 {
		sm.addInt("full_state_bytes", int64(n))
	}
	base := d.GetBaseCheckpointId()
	if !allZero(base) {
		sm.add("base_checkpoint", hexID(base))
	}
	e.Summary = sm.done()
	e.Changed = changedPaths(d.GetOperations())

	if seq == 0 {
		s.unsequencedState(r, it, e, "StateDiff")
		return
	}
	hash := s.usableHash(r, d.GetStateHash())

	if full := d.GetFullState(); len(full) > 0 {
		e.Changed = []string{""}
		root, err := s.parseSnapshot(full)
		if err != nil {
			r.problem(&s.cfg, Problem{Kind: ProblemSnapshotInvalid, Seq: seq, At: it.meta.Received,
				Reason: fmt.Sprintf("full state at sequence %d is unusable: %v", seq, err)})
			e.Note = "not applied: full state unusable"
			return
		}
		s.resetState(r, seq, root, "full state")
		e.Note = "applied (full state)"
		if hash != nil {
			if ok, got := s.hashMatches(r, root, hash); !ok {
				s.mismatch(r, seq, "full state", hash, got, it)
				e.Note = "hash mismatch"
			} else {
				e.Note = "verified (full state)"
			}
		}
		return
	}

	if r.state == nil {
		e.Note = "not applied: no base state yet"
		s.stats.Skipped++
		return
	}
	baseKnown := allZero(base) || r.checkpoints.knownValid(string(base))
	trusted := !r.integ.untrusted() && baseKnown
	unknownBase := func() {
		r.problem(&s.cfg, Problem{Kind: ProblemUnknownBase, Seq: seq, At: it.meta.Received,
			Reason: fmt.Sprintf("StateDiff at sequence %d is based on checkpoint %s, which this run has not received intact", seq, hexID(base))})
	}

	patch, err := jsonpatch.FromDiffOperations(d.GetOperations())
	next := r.state
	if err == nil {
		next, err = patch.Apply(r.state)
	}
	if err != nil {
		s.stats.PatchFailures++
		switch {
		case !baseKnown:
			unknownBase()
		case trusted:
			r.problem(&s.cfg, Problem{Kind: ProblemPatchFailed, Seq: seq, At: it.meta.Received,
				Reason: fmt.Sprintf("patch at sequence %d failed: %v", seq, err)})
		}
		e.Note = "not applied: " + boundString(err.Error(), 200)
		return
	}
	if hash != nil {
		ok, got := s.hashMatches(r, next, hash)
		switch {
		case ok:
			r.adoptPatch(seq, patch, next)
			e.Note = "verified"
			if !trusted && s.healBy(r, seq, "state_hash verified") {
				e.Note = "verified (state trusted again)"
			}
		case trusted:
			r.adoptPatch(seq, patch, next)
			s.mismatch(r, seq, "after patch", hash, got, it)
			e.Note = "hash mismatch"
		default:
			if !baseKnown {
				unknownBase()
			}
			e.Note = "not applied: state untrusted and the result does not match state_hash"
			s.stats.Skipped++
		}
		return
	}
	if trusted {
		r.adoptPatch(seq, patch, next)
		e.Note = "applied (no state_hash)"
		return
	}
	if !baseKnown {
		unknownBase()
	}
	e.Note = "not applied: state untrusted and no state_hash to verify the result"
	s.stats.Skipped++
}

// healBy heals the run after a hash-verified change and counts it.
func (s *Store) healBy(r *Run, seq uint64, by string) bool {
	if r.integ.heal(seq, by) {
		s.stats.Heals++
		return true
	}
	return false
}

// unsequencedState handles a state change without a sequence: it cannot be
// ordered against the run's other changes, so it is not applied, and the
// state no longer reflects everything the producer did.
func (s *Store) unsequencedState(r *Run, it *item, e *Event, what string) {
	r.problem(&s.cfg, Problem{Kind: ProblemUnsequencedState, Seq: 0, At: it.meta.Received,
		Reason: fmt.Sprintf("a %s without a sequence number was ignored: it cannot be placed in order", what)})
	e.Note = "not applied: unsequenced"
	s.stats.Skipped++
}

func changedPaths(ops []*pb.DiffOperation) []string {
	if len(ops) == 0 {
		return nil
	}
	out := make([]string, 0, min(len(ops), maxChangedPaths))
	for _, op := range ops[:min(len(ops), maxChangedPaths)] {
		out = append(out, boundString(op.GetPath(), 200))
	}
	return out
}

func (s *Store) applyCheckpoint(r *Run, it *item, e *Event) {
	cp := it.msg.GetCheckpoint()
	seq := it.seq
	id := string(cp.GetCheckpointId())
	if allZero(cp.GetCheckpointId()) {
		id = it.id
	}
	sm := newSummary(&s.cfg, 4)
	sm.add("checkpoint_id", hexID([]byte(id)))
	sm.addInt("state_bytes", int64(len(cp.GetState())))
	if t := cp.GetCompressionInfo().GetType(); t != pb.CompressionType_COMPRESSION_NONE {
		sm.add("compression", t.String())
	}
	if cp.GetStateType() != "" {
		sm.add("state_type", cp.GetStateType())
	}
	e.Summary = sm.done()
	if seq == 0 {
		s.unsequencedState(r, it, e, "Checkpoint")
		return
	}
	data, err := s.checkpointState(cp)
	var root *jsontree.Node
	if err == nil {
		root, err = s.parseSnapshot(data)
	}
	if err != nil {
		reason := fmt.Sprintf("checkpoint %s at sequence %d is unusable: %v", hexID([]byte(id)), seq, err)
		r.checkpoints.add(id, seq, nil, boundString(err.Error(), 200), &s.cfg)
		r.problem(&s.cfg, Problem{Kind: ProblemCheckpointInvalid, Seq: seq, At: it.meta.Received, Reason: reason})
		e.Note = "not applied: checkpoint unusable"
		return
	}
	r.checkpoints.add(id, seq, root, "", &s.cfg)
	s.resetState(r, seq, root, "checkpoint")
	e.Changed = []string{""}
	e.Note = "applied (checkpoint)"
}

// stateAttr returns a state snapshot carried in an event attribute.
func stateAttr(attrs map[string]*pb.AttributeValue, keys ...string) (string, string, bool) {
	for _, k := range keys {
		if v, ok := attrString(attrs, k); ok {
			return k, v, true
		}
	}
	return "", "", false
}

// initialState handles GraphStart's initial_state_json (or state_json /
// state): the run's base state.
func (s *Store) initialState(r *Run, it *item, e *Event) {
	key, text, ok := stateAttr(it.ev.GetAttributes(), "initial_state_json", "state_json", "state")
	if !ok {
		return
	}
	if it.seq == 0 {
		s.unsequencedState(r, it, e, "GraphStart initial state")
		return
	}
	root, err := s.parseSnapshot([]byte(text))
	if err != nil {
		r.problem(&s.cfg, Problem{Kind: ProblemSnapshotInvalid, Seq: it.seq, At: it.meta.Received,
			Reason: fmt.Sprintf("GraphStart %s at sequence %d is unusable: %v", key, it.seq, err)})
		e.Note = "not applied: initial state unusable"
		return
	}
	s.resetState(r, it.seq, root, "graph start")
	e.Changed = []string{""}
	e.Note = "applied (initial state)"
}

// mergeState handles a NodeStart/NodeEnd state_json or state attribute: its
// members are set on the state, one by one (upstream's shallow merge).
// There is no hash to verify a merge with, so it needs a trusted state.
func (s *Store) mergeState(r *Run, it *item, e *Event) {
	key, text, ok := stateAttr(it.ev.GetAttributes(), "state_json", "state")
	if !ok {
		return
	}
	if it.seq == 0 {
		s.unsequencedState(r, it, e, "node state attribute")
		return
	}
	part, err := s.parseSnapshot([]byte(text))
	if err == nil && part.Kind() != jsontree.Object {
		err = fmt.Errorf("a JSON %s, not an object", part.Kind())
	}
	if err != nil {
		r.problem(&s.cfg, Problem{Kind: ProblemSnapshotInvalid, Seq: it.seq, At: it.meta.Received,
			Reason: fmt.Sprintf("%s attribute at sequence %d is unusable: %v", key, it.seq, err)})
		e.Note = "not merged: attribute unusable"
		return
	}
	switch {
	case r.state == nil:
		e.Note = "not merged: no base state yet"
		s.stats.Skipped++
		return
	case r.state.Kind() != jsontree.Object:
		e.Note = "not merged: the state is not an object"
		s.stats.Skipped++
		return
	case r.integ.untrusted():
		e.Note = "not merged: state untrusted"
		s.stats.Skipped++
		return
	}
	root := r.state
	e.Changed = e.Changed[:0]
	for i := range part.Len() {
		name, v := part.Member(i)
		root = root.ObjectSet(name, v)
		if len(e.Changed) < maxChangedPaths {
			e.Changed = append(e.Changed, "/"+escapeToken(name))
		}
	}
	if root.Height() > jsontree.MaxDepth {
		e.Note = "not merged: the result nests too deep"
		return
	}
	r.adoptWhole(it.seq, root)
	e.Note = "merged"
}

// escapeToken escapes a member name as an RFC 6901 reference token.
func escapeToken(name string) string {
	if !bytes.ContainsAny([]byte(name), "~/") {
		return boundString(name, 200)
	}
	var b bytes.Buffer
	for _, c := range []byte(name) {
		switch c {
		case '~':
			b.WriteString("~0")
		case '/':
			b.WriteString("~1")
		default:
			b.WriteByte(c)
		}
	}
	return boundString(b.String(), 200)
}

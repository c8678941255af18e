package producer

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
	"github.com/dashstream/dashstream/server/redact"
)

// stateTracker is what a run remembers of its state. Guarded by Run.mu.
type stateTracker struct {
	// sent is the state the consumer has: the last one handed to Kafka
	// (as a full state, or as a patch applied to the previous one). nil
	// before the first update and after any loss, which makes the next
	// update a full state.
	sent *jsontree.Node
	// everSent tells a first full state from one that follows a loss.
	everSent bool
	// lost is set by any message of the run that was not handed to Kafka.
	lost bool
	// latest is the newest redacted state, sent or not (for Checkpoint).
	latest *jsontree.Node
	// prevIn and prevOut are the last state given as a *jsontree.Node and
	// its redacted form: subtrees the next version shares with prevIn are
	// not redacted again.
	prevIn, prevOut *jsontree.Node
	// updates counts state updates since the last automatic checkpoint.
	updates int
	// hasher and chain hash each version of the state reusing what the
	// last one left (protocol/statehash.Chain, as the consumers' run
	// stores do): unchanged subtrees' canonical text when the state comes
	// as a tree, and the SHA-256 of the prefix the versions share.
	hasher statehash.Hasher
	chain  statehash.Chain
}

// errNoState means the caller passed nil: no state update.
var errNoState = errors.New("no state")

var encodeBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// toTree turns a caller's state into a JSON tree, before any lock is taken.
//
//   - *jsontree.Node is used as is (the fast path: keep the state as a tree
//     and update it with its methods, and both redaction and diffing cost
//     only what changed);
//   - json.RawMessage and []byte are parsed as JSON text, every number
//     literal kept (1.0 stays 1.0, 12345678901234567890 keeps its digits);
//   - anything else is encoded with encoding/json (no HTML escaping) and
//     parsed: use json.Number or json.RawMessage values inside it for exact
//     literals, since a float64 1.0 encodes as 1.
//
// The caller may change its value once the call that took it returns.
func toTree(v any) (*jsontree.Node, error) {
	switch s := v.(type) {
	case nil:
		return nil, errNoState
	case *jsontree.Node:
		if s == nil {
			return nil, errNoState
		}
		return s, nil
	case json.RawMessage:
		return parseState(s)
	case []byte:
		return parseState(s)
	}
	buf := encodeBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 4<<20 {
			buf.Reset()
			encodeBufs.Put(buf)
		}
	}()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("producer: encode state: %w", err)
	}
	return parseState(buf.Bytes())
}

func parseState(b []byte) (*jsontree.Node, error) {
	n, err := jsontree.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("producer: state is not valid JSON: %w", err)
	}
	return n, nil
}

// prepareLocked redacts a parsed state. Callers hold r.mu.
func (r *Run) prepareLocked(in *jsontree.Node, inputIsTree bool) *jsontree.Node {
	out := in
	// Versions parsed from text share no nodes: remembering their
	// subtrees would cost and never pay.
	r.st.chain.NoSubtreeCache = !inputIsTree
	if !r.p.cfg.DisableRedaction {
		if inputIsTree {
			out = redact.TreeReusing(in, r.st.prevIn, r.st.prevOut)
			r.st.prevIn, r.st.prevOut = in, out
		} else {
			out = redact.Tree(in)
		}
	}
	r.st.latest = out
	return out
}

// stateInput converts and reports a caller's state; ok is false (and the
// failure counted) when there is no usable state.
func (r *Run) stateInput(state any) (tree *jsontree.Node, isTree, ok bool) {
	if r.p.cfg.DisableStateDiff {
		return nil, false, false
	}
	tree, err := toTree(state)
	if err != nil {
		if !errors.Is(err, errNoState) {
			r.p.m.degrade(degradedSerialization)
			if allowed, suppressed := r.p.sink.failLog.allow(); allowed {
				r.p.log.Warn("state update skipped", "thread_id", r.threadID, "err", err, "similar_not_logged", suppressed)
			}
		}
		return nil, false, false
	}
	_, isTree = state.(*jsontree.Node)
	return tree, isTree, true
}

// stateUpdateLocked sends the StateDiff that takes the consumer from the
// last state it has to state, and, every CheckpointInterval updates, a
// Checkpoint of it. Callers hold r.mu.
func (r *Run) stateUpdateLocked(state *jsontree.Node) {
	st := &r.st
	m := r.p.m
	h := r.header(pb.MessageType_MESSAGE_TYPE_STATE_DIFF)
	hash := st.hasher.Sum(&st.chain, state)
	canon := st.hasher.Text()
	diff := &pb.StateDiff{Header: h, StateHash: hash[:]}
	if base := r.base.Load(); base != nil {
		diff.BaseCheckpointId = *base
	}
	msg := &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: diff}}

	// A loss reported by Kafka since the last update counts like a local one.
	if r.asyncLoss.Swap(false) {
		st.lost = true
	}
	full, reason := false, ""
	switch {
	case st.lost:
		full, reason = true, reasonAfterLoss
	case st.sent == nil && st.everSent:
		full, reason = true, reasonAfterLoss
	case st.sent == nil:
		full, reason = true, reasonFirst
	}
	if !full {
		patch := jsonpatch.Diff(st.sent, state)
		if err := patch.CheckLimits(); err != nil {
			m.degrade(degradedPatchLimits)
			full, reason = true, reasonPatchLimits
		} else {
			ops := patch.ToDiffOperations()
			if patchJSONSize(ops) > len(canon)*11/10 {
				full, reason = true, reasonSmaller
			} else {
				diff.Operations = ops
				if !r.fits(msg) {
					m.degrade(degradedPatchTooLarge)
					diff.Operations = nil
					full, reason = true, reasonPatchTooLarge
				}
			}
		}
	}
	if full {
		// The canonical text is a valid full state: consumers parse it
		// and hash it again, and it is what was hashed.
		diff.FullState = canon
		if !r.fits(msg) {
			m.degrade(degradedStateTooLarge)
		}
	}
	kind := kindPatch
	if full {
		kind = kindFull
	} else {
		reason = reasonDiff
	}
	if r.sendLocked(msg, typeStateDiff, nil) {
		m.stateUpdate(kind, reason)
		st.sent = state
		st.everSent = true
		st.lost = false
	} else {
		st.sent = nil
	}
	if n := r.p.cfg.CheckpointInterval; n > 0 {
		st.updates++
		if st.updates >= n {
			st.updates = 0
			r.checkpointLocked(state)
		}
	}
}

// checkpointLocked sends a Checkpoint of state: uncompressed JSON (the
// message-level framing compresses it; no consumer reads
// compression_info), a fresh id, and the SHA-256 of the bytes sent. The id
// becomes the base of later diffs once Kafka acknowledges it. Callers hold
// r.mu.
func (r *Run) checkpointLocked(state *jsontree.Node) {
	if state == nil {
		return
	}
	h := r.header(pb.MessageType_MESSAGE_TYPE_CHECKPOINT)
	body := state.AppendJSON(nil)
	sum := sha256.Sum256(body)
	id := r.newUUID()
	cp := &pb.Checkpoint{
		Header:       h,
		CheckpointId: id,
		State:        body,
		StateType:    "application/json",
		Checksum:     sum[:],
	}
	msg := &pb.DashStreamMessage{Message: &pb.DashStreamMessage_Checkpoint{Checkpoint: cp}}
	if !r.fits(msg) {
		r.p.m.degrade(degradedCheckpointLarge)
	}
	r.sendLocked(msg, typeCheckpoint, id)
}

// patchJSONSize is the length of the compact JSON of ops as a JSON Patch
// document ([{"op":"replace","path":"/a","value":1},...]), the size upstream
// weighs against the full state, computed without writing it.
func patchJSONSize(ops []*pb.DiffOperation) int {
	n := 2 + max(len(ops)-1, 0) // brackets and commas
	for _, o := range ops {
		n += len(`{"op":"`) + len(opName(o.GetOp())) + len(`","path":`) + quotedLen(o.GetPath()) + len(`}`)
		switch o.GetOp() {
		case pb.DiffOperation_OP_TYPE_ADD, pb.DiffOperation_OP_TYPE_REPLACE, pb.DiffOperation_OP_TYPE_TEST:
			n += len(`,"value":`) + len(o.GetValue())
		case pb.DiffOperation_OP_TYPE_MOVE, pb.DiffOperation_OP_TYPE_COPY:
			n += len(`,"from":`) + quotedLen(o.GetFrom())
		}
	}
	return n
}

func opName(op pb.DiffOperation_OpType) string {
	switch op {
	case pb.DiffOperation_OP_TYPE_ADD:
		return "add"
	case pb.DiffOperation_OP_TYPE_REMOVE:
		return "remove"
	case pb.DiffOperation_OP_TYPE_REPLACE:
		return "replace"
	case pb.DiffOperation_OP_TYPE_MOVE:
		return "move"
	case pb.DiffOperation_OP_TYPE_COPY:
		return "copy"
	}
	return "test"
}

// quotedLen is len(jsontree.AppendQuoted(nil, s)) without the allocation.
func quotedLen(s string) int {
	n := 2 + len(s)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
			n++
		case c < 0x20:
			n += 5
		}
	}
	return n
}

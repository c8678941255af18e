package runstate

import (
	"fmt"
	"sort"

	"github.com/dashstream/dashstream/protocol/jsonpatch"
	"github.com/dashstream/dashstream/protocol/jsontree"
)

// timeline keeps every state change of a run that is still in range, so that
// the state at any kept sequence can be rebuilt exactly.
//
// A keyframe is a root pointer. Because trees are immutable and share
// unchanged subtrees, keeping one costs only the nodes that changed after it,
// but a change to a large container copies that container's element slice,
// which is why not every version is kept: between keyframes only the patches
// are, and StateAt replays at most KeyframeEvery of them.
type timeline struct {
	keyframes []keyframe   // ascending seq
	patches   []patchEntry // ascending seq, all after keyframes[0]
	// sinceKeyframe counts patch changes since the last keyframe.
	sinceKeyframe int
	// evicted: keyframes were dropped, so sequences before keyframes[0]
	// once had a state that is gone.
	evicted bool
}

type keyframe struct {
	seq  uint64
	root *jsontree.Node
}

type patchEntry struct {
	seq   uint64
	patch jsonpatch.Patch
}

// reset records a state set whole at seq (GraphStart, full state,
// checkpoint, attribute merge).
func (t *timeline) reset(seq uint64, root *jsontree.Node, cfg *Config) {
	t.addKeyframe(seq, root, cfg)
}

// patched records a patch applied at seq that produced root.
func (t *timeline) patched(seq uint64, p jsonpatch.Patch, root *jsontree.Node, cfg *Config) {
	if t.sinceKeyframe+1 >= cfg.KeyframeEvery {
		t.addKeyframe(seq, root, cfg)
		return
	}
	t.sinceKeyframe++
	t.patches = append(t.patches, patchEntry{seq: seq, patch: p})
}

func (t *timeline) addKeyframe(seq uint64, root *jsontree.Node, cfg *Config) {
	t.sinceKeyframe = 0
	t.keyframes = append(t.keyframes, keyframe{seq: seq, root: root})
	if len(t.keyframes) > cfg.MaxKeyframesPerRun {
		t.dropBefore(t.keyframes[len(t.keyframes)-cfg.MaxKeyframesPerRun].seq)
	}
}

// dropBefore forgets keyframes and patches before the keyframe at seq.
func (t *timeline) dropBefore(seq uint64) {
	k := sort.Search(len(t.keyframes), func(i int) bool { return t.keyframes[i].seq >= seq })
	if k == 0 {
		return
	}
	t.evicted = true
	t.keyframes = shiftOut(t.keyframes, k)
	p := sort.Search(len(t.patches), func(i int) bool { return t.patches[i].seq > t.keyframes[0].seq })
	t.patches = shiftOut(t.patches, p)
}

// trimTo keeps time travel to the events still in the log: keyframes before
// the newest one at or below oldest are no longer needed.
func (t *timeline) trimTo(oldest uint64) {
	k := sort.Search(len(t.keyframes), func(i int) bool { return t.keyframes[i].seq > oldest })
	if k >= 2 {
		t.dropBefore(t.keyframes[k-1].seq)
	}
}

// firstSeq returns the oldest sequence StateAt can rebuild, and false when
// nothing is kept.
func (t *timeline) firstSeq() (uint64, bool) {
	if len(t.keyframes) == 0 {
		return 0, false
	}
	return t.keyframes[0].seq, true
}

// stateAt rebuilds the state right after seq.
func (t *timeline) stateAt(seq uint64) (*jsontree.Node, error) {
	k := sort.Search(len(t.keyframes), func(i int) bool { return t.keyframes[i].seq > seq }) - 1
	if k < 0 {
		if t.evicted {
			return nil, fmt.Errorf("%w: sequence %d is older than the oldest kept state (%d)", ErrOutOfRange, seq, t.keyframes[0].seq)
		}
		return nil, fmt.Errorf("%w: sequence %d", ErrNoState, seq)
	}
	kf := t.keyframes[k]
	root := kf.root
	p := sort.Search(len(t.patches), func(i int) bool { return t.patches[i].seq > kf.seq })
	for ; p < len(t.patches) && t.patches[p].seq <= seq; p++ {
		next, err := t.patches[p].patch.Apply(root)
		if err != nil {
			// The same patch applied to the same tree live; only a bug
			// gets here.
			return nil, fmt.Errorf("runstate: replaying the patch of sequence %d: %w", t.patches[p].seq, err)
		}
		root = next
	}
	return root, nil
}

func (t *timeline) counts() (keyframes, patches int) { return len(t.keyframes), len(t.patches) }

// shiftOut removes the first n elements, clearing them so that the trees
// and patches they held can be collected.
func shiftOut[T any](s []T, n int) []T {
	// Reslicing, not copying the rest down: a run drops a keyframe's worth
	// every KeyframeEvery messages once its log is full, and copying its
	// thousands of patches down each time cost more than the patches
	// themselves. append reallocates (copying only what is live) once the
	// capacity behind is used up, so the memory held stays bounded.
	clear(s[:n]) // let go of what the dropped entries point to
	return s[n:]
}

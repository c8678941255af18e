package runstate

import (
	"crypto/sha256"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/dashstream/dashstream/protocol/jsontree"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
)

func TestIntegrity_PatchFailureMarksCorruptedAtOnce(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"items":[1]}`))
	o := s.Apply(diff(t, "t", 2, "", op(pb.DiffOperation_OP_TYPE_REMOVE, "/items/5", "")), meta(1))
	r := s.Run("t")
	in := r.Integrity()
	if !in.Corrupted || in.Problems[0].Kind != ProblemPatchFailed || in.Problems[0].Seq != 2 {
		t.Fatalf("integrity %+v", in)
	}
	if !strings.Contains(in.Reason, "patch at sequence 2 failed") || !strings.Contains(in.Reason, "out of range") {
		t.Fatalf("reason %q", in.Reason)
	}
	if stateText(r) != `{"items":[1]}` || o.Disposition != Applied || len(o.Changed) != 1 {
		t.Fatalf("state %s outcome %+v", stateText(r), o)
	}
	if st := s.Stats(); st.CorruptedRuns != 1 || st.PatchFailures != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestIntegrity_HashMismatchMarksCorruptedWithDetails(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"n":0}`))
	s.Apply(diff(t, "t", 2, `{"n":2}`, replace("/n", "1")), meta(1))
	r := s.Run("t")
	in := r.Integrity()
	if !in.Corrupted || in.HashMismatches != 1 || in.Problems[0].Kind != ProblemHashMismatch {
		t.Fatalf("integrity %+v", in)
	}
	if !strings.Contains(in.Reason, "state hash mismatch at sequence 2") || !strings.Contains(in.Reason, "expected ") {
		t.Fatalf("reason %q", in.Reason)
	}
	// The applied result is kept (it is the best guess), flagged.
	if stateText(r) != `{"n":1}` {
		t.Fatalf("state %s", stateText(r))
	}
	// A later diff on the now untrusted state applies only if its hash
	// proves the result.
	s.Apply(diff(t, "t", 3, "", replace("/n", "3")), meta(2))
	if stateText(r) != `{"n":1}` {
		t.Fatalf("unverifiable diff applied on a corrupted state: %s", stateText(r))
	}
	s.Apply(diff(t, "t", 4, `{"n":4}`, replace("/n", "4")), meta(3))
	if !r.Trusted() || stateText(r) != `{"n":4}` {
		t.Fatalf("verified diff did not heal: %s %+v", stateText(r), r.Integrity())
	}
}

// Number literals are hashed exactly as they arrived: a Rust producer's 1.0
// and an integer above 2^53 verify (U6), where re-formatting them would
// report a false mismatch.
func TestHash_LiteralsAsReceivedNeverGiveFalseCorruption(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"score":1.0,"id":9007199254740993}`))
	after := `{"score":1.0,"id":9007199254740993,"big":12345678901234567890123,"f":2.50}`
	s.Apply(diff(t, "t", 2, after, add("/big", "12345678901234567890123"), add("/f", "2.50")), meta(1))
	r := s.Run("t")
	if !r.Trusted() || r.Integrity().HashesVerified != 1 {
		t.Fatalf("integrity %+v", r.Integrity())
	}
	// The hash the producer computed over its own canonical text.
	want := sha256.Sum256([]byte(`{"big":12345678901234567890123,"f":2.50,"id":9007199254740993,"score":1.0}`))
	d := diff(t, "t", 3, "", op(pb.DiffOperation_OP_TYPE_TEST, "/score", "1.0"))
	d.GetStateDiff().StateHash = want[:]
	s.Apply(d, meta(2))
	if !r.Trusted() || r.Integrity().HashesVerified != 2 {
		t.Fatalf("integrity %+v", r.Integrity())
	}
	if got := stateText(r); got != after {
		t.Fatalf("state %s", got)
	}
}

// A RAW value is applied as the string of its bytes and the producer's
// state_hash over the result verifies; invalid UTF-8 is a patch failure that
// names the operation, never a silent skip.
func TestHash_RawValuesVerifyAsStrings(t *testing.T) {
	raw := func(kind pb.DiffOperation_OpType, path, value string) *pb.DiffOperation {
		return &pb.DiffOperation{Op: kind, Path: path, Value: []byte(value), Encoding: pb.DiffOperation_VALUE_ENCODING_RAW}
	}
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"n":1.0}`))
	after := `{"n":1.0,"msg":"line \"one\"\n\ttab \\ é","text":"{\"a\":1}","empty":""}`
	s.Apply(diff(t, "t", 2, after,
		raw(pb.DiffOperation_OP_TYPE_ADD, "/msg", "line \"one\"\n\ttab \\ é"),
		raw(pb.DiffOperation_OP_TYPE_ADD, "/text", `{"a":1}`),
		raw(pb.DiffOperation_OP_TYPE_ADD, "/empty", "")), meta(1))
	r := s.Run("t")
	if !r.Trusted() || r.Integrity().HashesVerified != 1 || stateText(r) != after {
		t.Fatalf("state %s integrity %+v", stateText(r), r.Integrity())
	}
	s.Apply(diff(t, "t", 3, "", raw(pb.DiffOperation_OP_TYPE_REPLACE, "/msg", "bad \xff")), meta(2))
	in := r.Integrity()
	if !in.Corrupted || in.Problems[0].Kind != ProblemPatchFailed ||
		!strings.Contains(in.Reason, `operation 0 (replace "/msg")`) || !strings.Contains(in.Reason, "UTF-8") {
		t.Fatalf("integrity %+v", in)
	}
	if stateText(r) != after {
		t.Fatalf("a failed RAW patch changed the state: %s", stateText(r))
	}
}

func TestHash_MissingHashIsANoteNotCorruption(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"n":0}`),
		diff(t, "t", 2, "", replace("/n", "1")),
		diff(t, "t", 3, "", replace("/n", "2")))
	r := s.Run("t")
	if !r.Trusted() || stateText(r) != `{"n":2}` || !r.Integrity().HashMissing {
		t.Fatalf("state %s integrity %+v", stateText(r), r.Integrity())
	}
	if len(r.Notes()) != 1 || !strings.Contains(r.Notes()[0], "without state_hash") {
		t.Fatalf("notes %v", r.Notes())
	}
}

func TestHash_ZeroOpDiffVerifiesCurrentState(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"n":0}`), diff(t, "t", 2, `{"n":0}`))
	r := s.Run("t")
	if r.Integrity().HashesVerified != 1 || !r.Trusted() {
		t.Fatalf("integrity %+v", r.Integrity())
	}
	// After a server gap mark, a zero-op diff whose hash matches proves the
	// state intact.
	s.MarkQuarantined([]string{"t"}, "server gap", at(3))
	s.Apply(diff(t, "t", 3, `{"n":0}`), meta(4))
	if !r.Trusted() {
		t.Fatalf("integrity %+v", r.Integrity())
	}
}

func TestIntegrity_SnapshotsHeal(t *testing.T) {
	heals := []struct {
		name string
		msg  func() *pb.DashStreamMessage
		by   string
	}{
		{"full state", func() *pb.DashStreamMessage { return fullState(t, "t", 3, `{"n":3}`) }, "full state"},
		{"checkpoint", func() *pb.DashStreamMessage { return checkpoint("t", 3, 7, `{"n":3}`) }, "checkpoint"},
		{"graph start", func() *pb.DashStreamMessage { return graphStart("t", 3, `{"n":3}`) }, "graph start"},
	}
	for _, h := range heals {
		t.Run(h.name, func(t *testing.T) {
			s := NewStore(Config{})
			applyAll(s, graphStart("t", 1, `{"items":[]}`), diff(t, "t", 2, "", op(pb.DiffOperation_OP_TYPE_REMOVE, "/items/0", "")))
			r := s.Run("t")
			if !r.Integrity().Corrupted {
				t.Fatalf("not corrupted")
			}
			s.Apply(h.msg(), meta(5))
			in := r.Integrity()
			if !r.Trusted() || stateText(r) != `{"n":3}` || in.Heals != 1 || in.Problems[0].HealedBy != h.by {
				t.Fatalf("state %s integrity %+v", stateText(r), in)
			}
			if in.Reason != "" {
				t.Fatalf("reason after heal %q", in.Reason)
			}
		})
	}
}

func TestIntegrity_UnknownBaseCheckpoint(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"n":0}`), checkpoint("t", 2, 1, `{"n":0}`))
	ok := diff(t, "t", 3, "", replace("/n", "1"))
	ok.GetStateDiff().BaseCheckpointId = checkpointID(1)
	unknown := diff(t, "t", 4, "", replace("/n", "2"))
	unknown.GetStateDiff().BaseCheckpointId = checkpointID(9)
	zero := diff(t, "t", 5, "", replace("/n", "3"))
	zero.GetStateDiff().BaseCheckpointId = make([]byte, 16)
	s.Apply(ok, meta(3))
	r := s.Run("t")
	if !r.Trusted() || stateText(r) != `{"n":1}` {
		t.Fatalf("known base: %s %+v", stateText(r), r.Integrity())
	}
	s.Apply(unknown, meta(4))
	in := r.Integrity()
	if !in.Corrupted || in.Problems[0].Kind != ProblemUnknownBase || !strings.Contains(in.Reason, "checkpoint 00000000000000000000000000000009") {
		t.Fatalf("unknown base: %+v", in)
	}
	if stateText(r) != `{"n":1}` {
		t.Fatalf("diff on unknown base applied: %s", stateText(r))
	}
	s.Apply(zero, meta(5)) // an all-zero id means "none", but the run is untrusted now
	if stateText(r) != `{"n":1}` {
		t.Fatalf("unverifiable diff applied: %s", stateText(r))
	}
}

func TestIntegrity_UnknownBaseButHashProvesResult(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"n":0}`))
	d := diff(t, "t", 2, `{"n":1}`, replace("/n", "1"))
	d.GetStateDiff().BaseCheckpointId = checkpointID(4)
	s.Apply(d, meta(1))
	if r := s.Run("t"); !r.Trusted() || stateText(r) != `{"n":1}` || len(r.Integrity().Problems) != 0 {
		t.Fatalf("state %s integrity %+v", stateText(r), r.Integrity())
	}
}

func TestIntegrity_RepeatedProblemIsRecordedOnce(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"n":0}`))
	for i := uint64(2); i < 10; i++ {
		d := diff(t, "t", i, "", replace("/n", "1"))
		d.GetStateDiff().BaseCheckpointId = checkpointID(9)
		s.Apply(d, meta(int(i)))
	}
	if in := s.Run("t").Integrity(); len(in.Problems) != 1 {
		t.Fatalf("problems %+v", in.Problems)
	}
}

func TestSnapshot_InvalidInputsMarkCorrupted(t *testing.T) {
	big := `{"x":"` + strings.Repeat("a", 200) + `"}`
	cases := []struct {
		name   string
		msg    *pb.DashStreamMessage
		kind   ProblemKind
		reason string
	}{
		{"full state not JSON", fullStateRaw("t", 2, `{"n":`), ProblemSnapshotInvalid, "full state at sequence 2 is unusable"},
		{"full state invalid UTF-8", fullStateRaw("t", 2, "{\"n\":\"\xff\"}"), ProblemSnapshotInvalid, "invalid UTF-8"},
		{"full state oversized", fullStateRaw("t", 2, big), ProblemSnapshotInvalid, "exceeds the 128-byte limit"},
		{"full state duplicate keys", fullStateRaw("t", 2, `{"a":1,"a":2}`), ProblemSnapshotInvalid, "duplicate"},
		{"checkpoint truncated", checkpoint("t", 2, 1, `{"n":[1,2`), ProblemCheckpointInvalid, "checkpoint 00000000000000000000000000000001 at sequence 2 is unusable"},
		{"initial state not JSON", graphStart("t", 2, `nope`), ProblemSnapshotInvalid, "GraphStart initial_state_json at sequence 2"},
		{"merge not an object", event("t", 2, pb.EventType_EVENT_TYPE_NODE_END, "a", map[string]*pb.AttributeValue{"state_json": sattr(`[1]`)}), ProblemSnapshotInvalid, "not an object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewStore(Config{MaxSnapshotBytes: 128})
			applyAll(s, graphStart("t", 1, `{"n":0}`))
			s.Apply(c.msg, meta(1))
			r := s.Run("t")
			in := r.Integrity()
			if !in.Corrupted || in.Problems[0].Kind != c.kind || !strings.Contains(in.Reason, c.reason) {
				t.Fatalf("integrity %+v", in)
			}
			if stateText(r) != `{"n":0}` {
				t.Fatalf("state %s", stateText(r))
			}
		})
	}
}

func fullStateRaw(thread string, seq uint64, state string) *pb.DashStreamMessage {
	d := &pb.StateDiff{Header: header(thread, seq, pb.MessageType_MESSAGE_TYPE_STATE_DIFF), FullState: []byte(state)}
	return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: d}}
}

func zstdCompress(t testing.TB, data []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(data, nil)
}

func TestCheckpoint_States(t *testing.T) {
	state := `{"messages":["` + strings.Repeat("hello ", 200) + `"]}`
	sum := sha256.Sum256([]byte(state))
	zcp := func(id byte, data []byte, info *pb.CompressionInfo, checksum []byte) *pb.DashStreamMessage {
		m := checkpoint("t", 2, id, "")
		m.GetCheckpoint().State, m.GetCheckpoint().CompressionInfo, m.GetCheckpoint().Checksum = data, info, checksum
		return m
	}
	zinfo := &pb.CompressionInfo{Type: pb.CompressionType_COMPRESSION_ZSTD}
	bomb := zstdCompress(t, make([]byte, 1<<20)) // 1 MiB of zeros, a few bytes compressed
	cases := []struct {
		name   string
		msg    *pb.DashStreamMessage
		valid  bool
		reason string
	}{
		{"plain", zcp(1, []byte(state), nil, sum[:]), true, ""},
		{"zstd compressed (upstream Rust producer)", zcp(2, zstdCompress(t, []byte(state)), zinfo, sum[:]), true, ""},
		{"checksum mismatch", zcp(3, []byte(state), nil, make([]byte, 32)), false, "checksum mismatch"},
		{"zstd garbage", zcp(4, []byte("not zstd at all"), zinfo, nil), false, "zstd"},
		{"zstd bomb over the limit", zcp(5, bomb, zinfo, nil), false, "zstd"},
		{"declared size over the limit", zcp(6, zstdCompress(t, []byte(state)), &pb.CompressionInfo{Type: pb.CompressionType_COMPRESSION_ZSTD, UncompressedSize: 1 << 40}, nil), false, "declared uncompressed size"},
		{"lz4 unsupported", zcp(7, []byte(state), &pb.CompressionInfo{Type: pb.CompressionType_COMPRESSION_LZ4}, nil), false, "unsupported compression COMPRESSION_LZ4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewStore(Config{MaxSnapshotBytes: 64 << 10})
			applyAll(s, graphStart("t", 1, `{}`))
			s.Apply(c.msg, meta(1))
			r := s.Run("t")
			cps := r.Checkpoints()
			if len(cps) != 1 || cps[0].Valid != c.valid || !strings.Contains(cps[0].Reason, c.reason) {
				t.Fatalf("checkpoints %+v", cps)
			}
			if c.valid {
				if stateText(r) != mustParse(t, state).String() || !r.Trusted() {
					t.Fatalf("state not installed: %+v", r.Integrity())
				}
				return
			}
			in := r.Integrity()
			if !in.Corrupted || in.Problems[0].Kind != ProblemCheckpointInvalid || stateText(r) != `{}` {
				t.Fatalf("integrity %+v state %s", in, stateText(r))
			}
			// A diff naming the unusable checkpoint is on an unknown base.
			d := diff(t, "t", 3, "", add("/x", "1"))
			d.GetStateDiff().BaseCheckpointId = checkpointID(c.msg.GetCheckpoint().GetCheckpointId()[15])
			s.Apply(d, meta(2))
			if stateText(r) != `{}` {
				t.Fatalf("diff on an unusable checkpoint applied")
			}
		})
	}
}

func TestCheckpoint_EvictedIDsStillCountAsKnownBases(t *testing.T) {
	s := NewStore(Config{MaxCheckpointsPerRun: 2})
	applyAll(s, graphStart("t", 1, `{"n":0}`))
	for i := uint64(2); i <= 6; i++ {
		s.Apply(checkpoint("t", i, byte(i), `{"n":0}`), meta(int(i)))
	}
	r := s.Run("t")
	if cps := r.Checkpoints(); len(cps) != 2 || cps[0].Seq != 5 {
		t.Fatalf("checkpoints kept %+v", cps)
	}
	d := diff(t, "t", 7, "", replace("/n", "1"))
	d.GetStateDiff().BaseCheckpointId = checkpointID(2) // evicted, but was valid
	s.Apply(d, meta(7))
	if !r.Trusted() || stateText(r) != `{"n":1}` {
		t.Fatalf("state %s integrity %+v", stateText(r), r.Integrity())
	}
}

func TestMerge_NodeStateAttributesAreMergedIntoState(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"a":1,"b":{"c":2}}`),
		event("t", 2, pb.EventType_EVENT_TYPE_NODE_START, "n", map[string]*pb.AttributeValue{"state_json": sattr(`{"b":{"d":3},"e/f":1.0}`)}),
		event("t", 3, pb.EventType_EVENT_TYPE_NODE_END, "n", map[string]*pb.AttributeValue{"state": sattr(`{"a":5}`)}))
	r := s.Run("t")
	if got := stateText(r); got != `{"a":5,"b":{"d":3},"e/f":1.0}` || !r.Trusted() {
		t.Fatalf("state %s integrity %+v", got, r.Integrity())
	}
	if e := r.Event(1); e.Note != "merged" || strings.Join(e.Changed, " ") != "/b /e~1f" {
		t.Fatalf("merge event %+v", e)
	}
	// Merges are part of the history time travel replays.
	if st, err := r.StateAt(2); err != nil || st.String() != `{"a":1,"b":{"d":3},"e/f":1.0}` {
		t.Fatalf("StateAt(2) = %v, %v", st, err)
	}
}

func TestMerge_NotOnUntrustedState(t *testing.T) {
	s := NewStore(Config{})
	applyAll(s, graphStart("t", 1, `{"a":1}`))
	s.MarkQuarantined([]string{"t"}, "gap", at(1))
	s.Apply(event("t", 2, pb.EventType_EVENT_TYPE_NODE_END, "n", map[string]*pb.AttributeValue{"state_json": sattr(`{"a":2}`)}), meta(2))
	r := s.Run("t")
	if stateText(r) != `{"a":1}` || r.Event(1).Note != "not merged: state untrusted" {
		t.Fatalf("state %s event %+v", stateText(r), r.Event(1))
	}
}

// The store hashes along each run's chain (statehash.Chain, tested there):
// whatever the history of versions, the result is statehash.SumTree's, and
// the store's count of the chains' memory is the run's.
func TestHash_ChainedHashingEqualsSumTree(t *testing.T) {
	s := NewStore(Config{})
	run := newRun("t", &s.cfg)
	r := rand.New(rand.NewPCG(3, 4))
	stable := mustParse(t, `{"conversation":[{"role":"user","content":"plan a search over recent filings"},{"role":"assistant","content":"searching"}]}`)
	state := jsontree.EmptyObject().ObjectSet("a", genValue(r, 4)).ObjectSet("msgs", jsontree.EmptyArray()).ObjectSet("stable", stable)
	for i := range 400 {
		if i%50 == 0 {
			state = mustParse(t, state.String()) // all nodes new
		}
		_, state = genOps(r, state)
		if got, want := s.hasher.Sum(&run.chain, state), statehash.SumTree(state); got != want {
			t.Fatalf("step %d %s: %x != %x", i, state, got, want)
		}
	}
	if s.hasher.Bytes() == 0 || s.hasher.Bytes() != run.chain.Bytes() {
		t.Fatalf("store counts %d bytes, run %d", s.hasher.Bytes(), run.chain.Bytes())
	}
	s.hasher.Release(&run.chain)
	if s.hasher.Bytes() != 0 {
		t.Fatalf("store hash memory %d bytes after release", s.hasher.Bytes())
	}
}

func TestHash_CacheStaysWithinItsBudget(t *testing.T) {
	s := NewStore(Config{MaxHashCacheBytes: 1000})
	applyAll(s, appendRun(t, "t", 200)...)
	if s.hasher.Bytes() > 1000 || !s.Run("t").Trusted() {
		t.Fatalf("cache %d bytes, integrity %+v", s.hasher.Bytes(), s.Run("t").Integrity())
	}
	s.Clear()
	if s.hasher.Bytes() != 0 {
		t.Fatalf("cache %d bytes after Clear", s.hasher.Bytes())
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/protocol"
	"github.com/dashstream/dashstream/protocol/pb"
	"github.com/dashstream/dashstream/protocol/statehash"
	"github.com/dashstream/dashstream/server/config"
	"github.com/dashstream/dashstream/server/demo"
	"github.com/dashstream/dashstream/server/producer"
	"github.com/dashstream/dashstream/server/producer/streamcheck"
)

// The JavaScript client (tools/js/client) is how most people will read this
// stream outside our dashboard: these tests run it under Node against a real
// gateway, so that `make test` proves the wire is readable by something that
// is not our Go code.

const jsDir = "../tools/js"

// jsClient returns the node binary and the client script. A missing node or
// npm package fails the test, never skips it: `make test` must run it.
func jsClient(t *testing.T) (node, script string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: run `tools/deps.sh test` (what `make deps` runs) to install nodejs, npm and the npm packages of tools/js")
	}
	for _, pkg := range []string{"protobufjs", "ws", "fzstd", "lossless-json"} {
		if _, err := os.Stat(filepath.Join(jsDir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("tools/js/node_modules/%s is missing: run `tools/deps.sh test` (what `make deps` runs), which runs npm ci in tools/js", pkg)
		}
	}
	return node, filepath.Join(jsDir, "client", "interop.mjs")
}

// jsCounts is what interop.mjs prints (see its counts object).
type jsCounts struct {
	Frames, Cursors, Decoded, DecodeFailures, ZstdFrames                   int
	FullStates, Diffs, HashOnlyDiffs, RawValueOps                          int
	Hashes, HashesVerified, HashMismatches, HashMissing                    int
	JSONParseWouldMismatch, PatchFailures, NoBaseState                     int
	Checkpoints, CheckpointChecksumsVerified, CheckpointChecksumMismatches int
	Duplicates, Runs, RunsWithDiff, RunsEnded                              int
	PairingErrors, OffsetRegressions, Gaps, CursorStale                    int
	ByType                                                                 map[string]int
	ReplayComplete                                                         []jsReplayComplete
	Errors                                                                 []string
	Mismatches                                                             []jsMismatch
	TimedOut                                                               bool
	LastOffsets                                                            map[string]string
}

type jsReplayComplete struct {
	TotalReplayed int
	Capped        bool
	Mode          string
}

type jsMismatch struct{ Thread, Seq, Expected, Got string }

func TestJSClient_SelfTestCatchesWhatItShould(t *testing.T) {
	node, script := jsClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, script, "--self-test", "--proto", "../protocol/dashstream.proto").Output()
	var res struct {
		SelfTest struct {
			Passed  int
			Failed  []string
			Vectors []struct{ Doc, Hash string }
		}
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("self-test output %q: %v (exit: %v, stderr: %s)", out, jerr, err, stderrOf(err))
	}
	if err != nil || len(res.SelfTest.Failed) > 0 || res.SelfTest.Passed < 17 {
		t.Fatalf("self-test: %d passed, failed %q (exit: %v)", res.SelfTest.Passed, res.SelfTest.Failed, err)
	}
	// The JavaScript canonical writer and protocol/statehash hash the same
	// documents alike (literals, escaping, UTF-8 key order included).
	for _, v := range res.SelfTest.Vectors {
		sum, err := statehash.Sum([]byte(v.Doc))
		if err != nil || hex.EncodeToString(sum[:]) != v.Hash {
			t.Errorf("%s: JavaScript %s, Go %x (%v)", v.Doc, v.Hash, sum, err)
		}
	}
	if len(res.SelfTest.Vectors) < 5 {
		t.Errorf("only %d canonical vectors", len(res.SelfTest.Vectors))
	}
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// The demo at fixed seeds: phase one is in the broker before the client
// connects (it arrives as replay), phase two starts once the client has
// finished its replay (it arrives live). Every demo run sends a first full
// state and then patches, each with a state_hash.
const (
	jsPhaseOneRuns = 12
	jsPhaseTwoRuns = 12
	jsTampered     = "interop-tampered"
)

// TestJSClient_DecodesEveryFrameAndVerifiesEveryHash: a Node client reads a
// gateway on the embedded broker from the earliest record while the demo
// writes, and every frame pairs with its cursor, unframes, decodes, and
// every state_hash verifies, except the one the test tampered with, which
// must be reported. Its counts must equal what Go reads from Kafka itself.
func TestJSClient_DecodesEveryFrameAndVerifiesEveryHash(t *testing.T) {
	node, script := jsClient(t)
	gw, srv := startGateway(t, testWeb(t))
	eventually(t, "ready", func() bool { resp, _ := get(t, srv.URL+"/readyz", nil); return resp.StatusCode == 200 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	cfg, err := config.Load(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	p, err := producer.New(demoProducerConfig(cfg, gw.brokers), producer.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	playDemo := func(seed uint64, runs int) {
		t.Helper()
		dcfg := demo.DefaultConfig()
		dcfg.Seed, dcfg.MaxRuns, dcfg.RunsPerMinute, dcfg.TimeScale = seed, runs, 600, 0.002
		if err := demo.RunWithLogger(ctx, dcfg, p, quiet); err != nil || ctx.Err() != nil {
			t.Fatalf("demo: %v %v", err, ctx.Err())
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	playDemo(7, jsPhaseOneRuns)
	admin := kadm.NewClient(kgoClient(t, gw.brokers))
	replayed := sumOffsets(endOffsets(t, ctx, admin))
	// All of phase one in the gateway's replay store first, so that it is
	// exactly what the client's replay holds.
	eventually(t, "the gateway holding phase one", func() bool {
		_, b := get(t, srv.URL+"/health", nil)
		var h struct {
			ReplayBuffer struct {
				MemoryBufferSize int `json:"memory_buffer_size"`
			} `json:"replay_buffer"`
		}
		return json.Unmarshal(b, &h) == nil && h.ReplayBuffer.MemoryBufferSize >= replayed
	})

	cmd := exec.CommandContext(ctx, node, script, "--url", "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws",
		"--proto", "../protocol/dashstream.proto", "--timeout", "240")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	stderr := &watchedLog{line: "replay_complete", seen: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var werr error
	exited := make(chan struct{})
	go func() { werr = cmd.Wait(); close(exited) }()
	// The client reports its replay_complete on stderr; phase two waits for it.
	select {
	case <-stderr.seen:
	case <-exited:
		t.Fatalf("the client exited before its replay completed (%v); its log:\n%s", werr, stderr)
	case <-ctx.Done():
		t.Fatalf("the client never finished its replay; its log:\n%s", stderr)
	}

	playDemo(8, jsPhaseTwoRuns)
	produceTampered(t, ctx, gw.brokers)
	ends := endOffsets(t, ctx, admin)
	until := map[string]string{}
	for part, end := range ends {
		if end > 0 {
			until[strconv.Itoa(int(part))] = strconv.FormatInt(end-1, 10)
		}
	}
	line, _ := json.Marshal(map[string]any{"until": until})
	if _, err := stdin.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-ctx.Done():
		t.Fatalf("the client did not finish; its log:\n%s", stderr)
	}
	var js jsCounts
	if err := json.Unmarshal(stdout.Bytes(), &js); err != nil {
		t.Fatalf("client output %q: %v (exit %v); its log:\n%s", stdout.String(), err, werr, stderr)
	}
	if werr != nil || js.TimedOut {
		t.Fatalf("client exit %v, timed out %v, errors %q", werr, js.TimedOut, js.Errors)
	}

	// What Go reads from Kafka itself, by the same definitions.
	recs := consumeTo(t, ctx, gw.brokers, ends)
	want := countRecords(t, recs)
	var demoRecs []*kgo.Record
	for _, r := range recs {
		if string(r.Key) != jsTampered {
			demoRecs = append(demoRecs, r)
		}
	}
	if rep := streamcheck.Check(demoRecs, streamcheck.Options{RequireEnd: true}); rep.Err() != nil {
		t.Fatalf("the Go reference check fails on the demo records: %v", rep.Err())
	}

	t.Logf("JavaScript client: %d frames (%d zstd), %d decoded, %d full states, %d diffs, %d of %d hashes verified, %d mismatches, "+
		"%d checkpoints verified; %d runs (%d with diffs); %d replayed then %d live; JSON.parse would have failed %d hashes",
		js.Frames, js.ZstdFrames, js.Decoded, js.FullStates, js.Diffs, js.HashesVerified, js.Hashes, js.HashMismatches,
		js.CheckpointChecksumsVerified, js.Runs, js.RunsWithDiff, replayed, js.Frames-replayed, js.JSONParseWouldMismatch)
	if len(js.Errors) > 0 && (js.DecodeFailures > 0 || js.PatchFailures > 0 || js.PairingErrors > 0) {
		t.Logf("client problems: %q", js.Errors)
	}

	eq := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: JavaScript %d, want %d", what, got, want)
		}
	}
	// The wire: every record arrived once, paired with its cursor, decoded.
	eq("frames", js.Frames, len(recs))
	eq("cursors", js.Cursors, js.Frames)
	eq("decoded", js.Decoded, js.Frames)
	eq("decode failures", js.DecodeFailures, 0)
	eq("zstd frames", js.ZstdFrames, want.zstd)
	eq("pairing errors", js.PairingErrors, 0)
	eq("offset regressions", js.OffsetRegressions, 0)
	eq("gaps", js.Gaps+js.CursorStale, 0)
	eq("duplicates", js.Duplicates, 0)
	if js.ZstdFrames == 0 {
		t.Error("no zstd frame: the demo should produce some")
	}
	if len(js.ReplayComplete) != 1 || js.ReplayComplete[0].TotalReplayed != replayed || js.ReplayComplete[0].Capped {
		t.Errorf("replay_complete %+v, want one of %d records, not capped", js.ReplayComplete, replayed)
	}
	// The state: every full state and diff applied, every hash checked.
	eq("full states", js.FullStates, want.full)
	eq("diffs", js.Diffs, want.diffs)
	eq("hashes", js.Hashes, want.hashes)
	eq("patch failures", js.PatchFailures, 0)
	eq("diffs without a base state", js.NoBaseState, 0)
	eq("checkpoints", js.Checkpoints, want.checkpoints)
	eq("checkpoint checksums verified", js.CheckpointChecksumsVerified, want.checkpoints)
	eq("RAW values", js.RawValueOps, 1)
	// Every hash verifies but the tampered one, which must be reported.
	eq("hashes verified", js.HashesVerified, want.hashes-1)
	if js.HashMismatches != 1 || len(js.Mismatches) != 1 || js.Mismatches[0].Thread != jsTampered || js.Mismatches[0].Seq != "3" {
		t.Errorf("%d mismatches (first %+v), want exactly the tampered %s at sequence 3",
			js.HashMismatches, js.Mismatches[:min(3, len(js.Mismatches))], jsTampered)
	}
	// Enough traffic to mean something: every demo run, each with diffs.
	runs := jsPhaseOneRuns + jsPhaseTwoRuns + 1
	eq("runs", js.Runs, runs)
	eq("runs with diffs", js.RunsWithDiff, runs)
	eq("runs ended", js.RunsEnded, jsPhaseOneRuns+jsPhaseTwoRuns)
	// The demo's literals (0.80, 1.0, integers above 2^53) make a JSON.parse
	// consumer fail: the lossless parser is what makes these hashes verify.
	if js.JSONParseWouldMismatch == 0 {
		t.Error("no hash would fail under JSON.parse: the demo traffic no longer tests literal preservation")
	}
}

// produceTampered writes a small run: a full state, a diff with a RAW value
// (both hashed correctly), then a diff whose state_hash is that of another
// state.
func produceTampered(t *testing.T, ctx context.Context, brokers []string) {
	t.Helper()
	hashOf := func(doc string) []byte {
		sum, err := statehash.Sum([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return sum[:]
	}
	diff := func(seq uint64, full string, hashed string, ops ...*pb.DiffOperation) *pb.DashStreamMessage {
		return &pb.DashStreamMessage{Message: &pb.DashStreamMessage_StateDiff{StateDiff: &pb.StateDiff{
			Header: &pb.Header{ThreadId: jsTampered, Sequence: seq, TimestampUs: time.Now().UnixMicro(),
				Type: pb.MessageType_MESSAGE_TYPE_STATE_DIFF, SchemaVersion: 1},
			FullState: []byte(full), Operations: ops, StateHash: hashOf(hashed),
		}}}
	}
	msgs := []*pb.DashStreamMessage{
		diff(1, `{"n":1.0,"big":12345678901234567890}`, `{"n":1.0,"big":12345678901234567890}`),
		diff(2, "", `{"n":"say \"hi\"\n","big":12345678901234567890}`, &pb.DiffOperation{
			Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/n", Value: []byte("say \"hi\"\n"), Encoding: pb.DiffOperation_VALUE_ENCODING_RAW}),
		diff(3, "", `{"n":3,"big":12345678901234567890}`, &pb.DiffOperation{
			Op: pb.DiffOperation_OP_TYPE_REPLACE, Path: "/n", Value: []byte("2")}),
	}
	cl := kgoClient(t, brokers)
	for _, m := range msgs {
		v, err := protocol.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "dashstream-events", Key: []byte(jsTampered), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// watchedLog collects a process's stderr and closes seen at the first write
// that contains line.
type watchedLog struct {
	line string
	seen chan struct{}
	mu   sync.Mutex
	buf  strings.Builder
	once sync.Once
}

func (w *watchedLog) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(b)
	found := strings.Contains(w.buf.String(), w.line)
	w.mu.Unlock()
	if found {
		w.once.Do(func() { close(w.seen) })
	}
	return len(b), nil
}

func (w *watchedLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func kgoClient(t *testing.T, brokers []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func endOffsets(t *testing.T, ctx context.Context, admin *kadm.Client) map[int32]int64 {
	t.Helper()
	ends, err := admin.ListEndOffsets(ctx, "dashstream-events")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

func sumOffsets(m map[int32]int64) int {
	n := 0
	for _, o := range m {
		n += int(o)
	}
	return n
}

// consumeTo reads every record of the topic below ends.
func consumeTo(t *testing.T, ctx context.Context, brokers []string, ends map[int32]int64) []*kgo.Record {
	t.Helper()
	cl := kgoClient(t, brokers, kgo.ConsumeTopics("dashstream-events"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[int32]int64{}
	var out []*kgo.Record
	for {
		done := true
		for part, end := range ends {
			done = done && got[part] >= end
		}
		if done {
			return out
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume: %v", ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < ends[r.Partition] {
				out = append(out, r)
			}
			got[r.Partition] = r.Offset + 1
		})
	}
}

type recordCounts struct{ zstd, full, diffs, hashes, checkpoints int }

// countRecords counts by the client's definitions, decoding with protocol.
func countRecords(t *testing.T, recs []*kgo.Record) recordCounts {
	t.Helper()
	var c recordCounts
	for _, r := range recs {
		if len(r.Value) > 0 && r.Value[0] == 0x01 {
			c.zstd++
		}
		m, err := protocol.Decode(r.Value)
		if err != nil {
			t.Fatalf("p%d@%d does not decode in Go: %v", r.Partition, r.Offset, err)
		}
		switch {
		case m.GetStateDiff() != nil:
			sd := m.GetStateDiff()
			if len(sd.GetFullState()) > 0 {
				c.full++
			} else if len(sd.GetOperations()) > 0 {
				c.diffs++
			}
			if len(sd.GetStateHash()) == sha256.Size {
				c.hashes++
			}
		case m.GetCheckpoint() != nil:
			c.checkpoints++
		}
	}
	return c
}

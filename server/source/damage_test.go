package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dashstream/dashstream/server/source/logdir"
)

// embeddedLog is one run of the embedded broker on a data folder.
type embeddedLog struct {
	t   *testing.T
	emb *Embedded
	dir string
}

func startLog(t *testing.T, dir string) *embeddedLog {
	t.Helper()
	emb, err := StartEmbedded(EmbeddedConfig{DataDir: dir, Topics: []string{topic}, Partitions: 2,
		Retention: time.Hour, MaxBytes: 64 << 20, TrimEvery: time.Hour}, quiet)
	if err != nil {
		t.Fatalf("start embedded: %v", err)
	}
	return &embeddedLog{t: t, emb: emb, dir: dir}
}

// produce writes n records to partition p, one batch each few records, and
// waits for every acknowledgement.
func (l *embeddedLog) produce(p int32, n int, tag string) {
	l.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(l.emb.Brokers()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0))
	if err != nil {
		l.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < n; i += 5 {
		var recs []*kgo.Record
		for j := i; j < min(i+5, n); j++ {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(fmt.Sprintf("%s-%d-%d-%s", tag, p, j, strings.Repeat("x", 200)))})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			l.t.Fatalf("produce: %v", err)
		}
	}
}

// read returns every record of partition p by offset.
func (l *embeddedLog) read(p int32) map[int64]string {
	l.t.Helper()
	f := NewFetcher(Config{Brokers: l.emb.Brokers(), Topic: topic, MaxPayloadBytes: 1 << 20}, 1)
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, high, err := f.Bounds(ctx, p)
	if err != nil {
		l.t.Fatal(err)
	}
	out := map[int64]string{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(l.emb.Brokers()...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().AtStart()}}))
	if err != nil {
		l.t.Fatal(err)
	}
	defer cl.Close()
	for len(out) == 0 || lastKey(out) < high-1 {
		if high == 0 {
			break
		}
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			l.t.Fatalf("reading partition %d to %d: got %d records: %v", p, high, len(out), fs.Errors())
		}
		fs.EachRecord(func(r *kgo.Record) { out[r.Offset] = string(r.Value) })
	}
	return out
}

func lastKey(m map[int64]string) int64 {
	last := int64(-1)
	for k := range m {
		last = max(last, k)
	}
	return last
}

func (l *embeddedLog) close() { l.emb.Close() }

func partitionDir(dir string, p int32) string {
	return filepath.Join(dir, "partitions", fmt.Sprintf("%s-%d", topic, p))
}

// segmentFile returns the partition's first segment file.
func segmentFile(t *testing.T, dir string, p int32) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(partitionDir(dir, p), "*.dat"))
	if len(m) == 0 {
		t.Fatalf("no segment in %s", partitionDir(dir, p))
	}
	return m[0]
}

func rewrite(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(raw), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEmbeddedDamage_NoOffsetNamesAnotherRecord damages the data folder
// between two runs in every way the attack used, then produces more and
// reads everything back: an offset that holds another record than in the
// first run is allowed only under a new incarnation; the start never fails;
// the damage is reported and what cannot be read is moved aside.
func TestEmbeddedDamage_NoOffsetNamesAnotherRecord(t *testing.T) {
	cases := []struct {
		name string
		// damage changes the folder; it returns whether records the first
		// run had must still be there (only offsets inside the damage may go).
		damage    func(t *testing.T, dir string)
		wantNew   bool // a new incarnation must begin
		wantLoss  bool // the report must name a loss
		keepsMost bool // most of partition 0 must survive
	}{
		{name: "intact", damage: func(*testing.T, string) {}, keepsMost: true},
		{name: "kafka folder removed", damage: func(t *testing.T, dir string) { os.RemoveAll(dir) }, wantNew: true, wantLoss: true},
		{name: "topics.json corrupt", damage: func(t *testing.T, dir string) {
			rewrite(t, filepath.Join(dir, "topics.json"), func(b []byte) []byte { return b[:len(b)/2] })
		}, wantNew: true, wantLoss: true},
		{name: "meta.json removed", damage: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "meta.json")) }, wantNew: true, wantLoss: true},
		{name: "segment truncated", damage: func(t *testing.T, dir string) {
			rewrite(t, segmentFile(t, dir, 0), func(b []byte) []byte { return b[:len(b)/2] })
		}, wantNew: true, wantLoss: true},
		{name: "segment cut at a batch boundary", damage: func(t *testing.T, dir string) {
			// No byte is unreadable: only the index (longer than the
			// segment) and the recorded end tell.
			path := segmentFile(t, dir, 0)
			s, err := scanOne(path)
			if err != nil {
				t.Fatal(err)
			}
			rewrite(t, path, func(b []byte) []byte { return b[:s] })
			os.Remove(filepath.Join(partitionDir(dir, 0), "snapshot.json"))
		}, wantNew: true, wantLoss: true},
		{name: "segment zeroed", damage: func(t *testing.T, dir string) {
			rewrite(t, segmentFile(t, dir, 0), func(b []byte) []byte { return make([]byte, len(b)) })
		}, wantNew: true, wantLoss: true},
		{name: "8 bytes flipped mid-segment", damage: func(t *testing.T, dir string) {
			rewrite(t, segmentFile(t, dir, 0), flipMiddle)
		}, wantNew: true, wantLoss: true, keepsMost: true},
		{name: "meta.json the broker refuses", damage: func(t *testing.T, dir string) {
			// Valid JSON, so the check passes it; the broker refuses the
			// version and the folder is moved aside whole.
			rewrite(t, filepath.Join(dir, "meta.json"), func([]byte) []byte { return []byte(`{"version":99,"cluster_id":"x"}`) })
		}, wantNew: true, wantLoss: true},
		{name: "partition folder removed", damage: func(t *testing.T, dir string) { os.RemoveAll(partitionDir(dir, 0)) }, wantNew: true, wantLoss: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "kafka")
			first := startLog(t, dir)
			first.produce(0, 400, "run1")
			first.produce(1, 50, "run1")
			inc1 := first.emb.Incarnation()
			before := first.read(0)
			first.close()

			tc.damage(t, dir)

			second := startLog(t, dir)
			t.Cleanup(func() { second.close() })
			rep := second.emb.Report()
			if got := rep.Incarnation != inc1; got != tc.wantNew {
				t.Errorf("new incarnation = %v, want %v (report %+v)", got, tc.wantNew, rep)
			}
			if rep.Damaged() != tc.wantLoss {
				t.Errorf("damage reported = %v, want %v: %+v", rep.Damaged(), tc.wantLoss, rep.Losses)
			}
			if tc.wantLoss && rep.Quarantine != "" {
				if _, err := os.Stat(rep.Quarantine); err != nil {
					t.Errorf("quarantine folder %s: %v", rep.Quarantine, err)
				}
			}
			second.produce(0, 100, "run2")
			after := second.read(0)
			changed := 0
			for o, v := range after {
				if old, ok := before[o]; ok && old != v {
					changed++
				}
			}
			if changed > 0 && rep.Incarnation == inc1 {
				t.Fatalf("%d offsets name other records under the same incarnation %s", changed, inc1)
			}
			kept := 0
			for o, v := range before {
				if after[o] == v {
					kept++
				}
			}
			if tc.keepsMost && kept < len(before)-10 {
				t.Errorf("only %d of %d records of partition 0 survived", kept, len(before))
			}
			t.Logf("incarnation %s -> %s; %d of %d kept; %d offsets now hold other records; losses: %v",
				inc1, rep.Incarnation, kept, len(before), changed, rep.Losses)
			// A third run with no damage goes on in the same incarnation.
			second.close()
			third := startLog(t, dir)
			third.close()
			second = startLog(t, dir)
			if got := second.emb.Incarnation(); got != rep.Incarnation {
				t.Errorf("an undamaged restart began incarnation %s, want %s", got, rep.Incarnation)
			}
		})
	}
}

// scanOne returns the byte length of all but the last readable batch of a
// segment (a cut at a batch boundary).
func scanOne(path string) (int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pos, last := 0, 0
	for pos < len(raw) {
		size := 12 + int(uint32(raw[pos+8])<<24|uint32(raw[pos+9])<<16|uint32(raw[pos+10])<<8|uint32(raw[pos+11]))
		last = pos
		pos += size
	}
	return last, nil
}

// TestEmbeddedDamage_StateFileCorrupt: an unreadable state file loses the
// incarnation, so a new one begins, and the log itself is kept.
func TestEmbeddedDamage_StateFileCorrupt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kafka")
	first := startLog(t, dir)
	first.produce(0, 20, "run1")
	inc1 := first.emb.Incarnation()
	first.close()
	if err := os.WriteFile(logdir.StatePath(dir), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := startLog(t, dir)
	defer second.close()
	if second.emb.Incarnation() == inc1 || !second.emb.Report().Damaged() {
		t.Fatalf("report %+v", second.emb.Report())
	}
	if got := len(second.read(0)); got != 20 {
		t.Fatalf("%d records kept, want 20", got)
	}
}

// TestSource_SkipsUnreadableDataAndReportsTheGap flips 8 bytes in the middle
// of a segment while the broker runs (the broker serves segment bytes as
// they are on disk): the source must not wedge on the batch, must report
// exactly its offsets as a gap, and must forward every record after it.
func TestSource_SkipsUnreadableDataAndReportsTheGap(t *testing.T) {
	l := damagedWhileRunning(t)

	var got collector
	var gaps []Gap
	var gapMu sync.Mutex
	src, m := run(t, Config{Brokers: l.emb.Brokers(), Topic: topic, MaxPayloadBytes: 1 << 20, Refresh: time.Second,
		OnGap: func(g Gap) { gapMu.Lock(); gaps = append(gaps, g); gapMu.Unlock() }}, got.sink, nil)
	waitFor(t, "the records after the damage", func() bool {
		r := got.snapshot()
		return len(r) > 0 && r[len(r)-1].Offset == 399
	})
	gapMu.Lock()
	defer gapMu.Unlock()
	if len(gaps) != 1 {
		t.Fatalf("gaps %+v, want one", gaps)
	}
	g := gaps[0]
	if g.To-g.From+1 != 5 || g.From%5 != 0 {
		t.Fatalf("gap %+v, want the 5 offsets of one batch", g)
	}
	seen := map[int64]bool{}
	for _, r := range got.snapshot() {
		if r.Offset >= g.From && r.Offset <= g.To {
			t.Fatalf("record %d forwarded inside the gap", r.Offset)
		}
		seen[r.Offset] = true
	}
	if len(seen) != 395 {
		t.Fatalf("%d records forwarded, want 395", len(seen))
	}
	if st := src.Status(); st.Unreadable != 5 || !st.Ready {
		t.Fatalf("status %+v", st)
	}
	if v := testutil.ToFloat64(m.UnreadableSkipped); v != 5 {
		t.Fatalf("dashstream_kafka_unreadable_skipped_total = %v", v)
	}
}

// TestNextReadable_FindsTheFirstReadableOffset checks the search on every
// run length and position, against a table of readable offsets.
func TestNextReadable_FindsTheFirstReadableOffset(t *testing.T) {
	for bad := int64(1); bad <= 40; bad++ {
		for start := int64(0); start < 3; start++ {
			high := start + bad + 10
			probe := func(o int64) (bool, error) { return o >= start+bad, nil }
			got, err := nextReadable(context.Background(), probe, start, high)
			if err != nil || got != start+bad {
				t.Fatalf("run of %d from %d: got %d, %v", bad, start, got, err)
			}
		}
	}
	// Nothing readable up to the end.
	got, _ := nextReadable(context.Background(), func(int64) (bool, error) { return false, nil }, 5, 9)
	if got != 9 {
		t.Fatalf("got %d, want the end 9", got)
	}
}

// TestEmbedded_DiskUseStaysWithinMaxBytes produces five times the bound into
// one partition, trimming as the broker does between rounds: the
// partition's folder (segments and index) never exceeds MaxBytes after a
// trim, and it keeps most of the bound's worth of history.
func TestEmbedded_DiskUseStaysWithinMaxBytes(t *testing.T) {
	const maxBytes = 1 << 20
	dir := filepath.Join(t.TempDir(), "kafka")
	emb, err := StartEmbedded(EmbeddedConfig{DataDir: dir, Topics: []string{topic}, Partitions: 1,
		Retention: time.Hour, MaxBytes: maxBytes, TrimEvery: time.Hour}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	l := &embeddedLog{t: t, emb: emb, dir: dir}
	size := func() (total int64) {
		m, _ := filepath.Glob(filepath.Join(partitionDir(dir, 0), "*.[di][ad][tx]"))
		for _, f := range m {
			if info, err := os.Stat(f); err == nil {
				total += info.Size()
			}
		}
		return total
	}
	peak := int64(0)
	for round := range 20 { // ~256 KiB a round: 5 MiB in all
		l.produce(0, 1200, fmt.Sprintf("r%d", round))
		emb.Cluster().ApplyRetention()
		s := size()
		peak = max(peak, s)
		if s > maxBytes {
			t.Fatalf("round %d: partition folder holds %d bytes, over the bound of %d", round, s, maxBytes)
		}
	}
	if s := size(); s < maxBytes/2 {
		t.Fatalf("only %d bytes kept of a %d bound", s, maxBytes)
	}
	t.Logf("peak after trim %d bytes of %d (segment %d, retention.bytes %d)", peak, maxBytes, SegmentBytes(maxBytes), RetentionBytes(maxBytes))
}

// flipMiddle inverts 8 bytes in the middle of b.
func flipMiddle(b []byte) []byte {
	for i := range 8 {
		b[len(b)/2+i] ^= 0xff
	}
	return b
}

// damagedWhileRunning starts a broker, writes 400 DashStream events to
// partition 0 in 80 batches of 5 and flips 8 bytes in the middle of the
// segment while the broker runs (it serves segment bytes as they are on
// disk), so that one batch cannot be read.
func damagedWhileRunning(t *testing.T) *embeddedLog {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "kafka")
	l := startLog(t, dir)
	t.Cleanup(l.close)
	var recs []*kgo.Record
	for i := range 400 {
		recs = append(recs, &kgo.Record{Partition: 0, Value: value(t, "th", uint64(i+1))})
	}
	for i := 0; i < len(recs); i += 5 {
		produce(t, l.emb.Brokers(), recs[i:i+5]...)
	}
	rewrite(t, segmentFile(t, dir, 0), flipMiddle)
	return l
}

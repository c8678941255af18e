package redisstore

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashstream/dashstream/server/internal/redisserver"
	"github.com/dashstream/dashstream/server/replay"
)

// M-712: index keys expire too, so a namespace vanishes one TTL after its
// last write without any read cleaning it up.
func TestM712_IndexKeysExpireWithTheValues(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{TTL: 2 * time.Second})
	raw := rawClient(t, srv)
	ctx := ctxT(t)
	var recs []replay.Record
	for o := range int64(50) {
		recs = append(recs, replay.Record{Partition: int32(o % 3), Offset: o, Value: []byte("v"),
			Threads: []replay.ThreadSeq{{Thread: "run:" + string(rune('a'+o%5)), Seq: uint64(o) + 1}}})
	}
	if err := s.AppendBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	keys, err := raw.Keys(ctx, escapeGlob(s.Prefix())+":*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("KEYS = %d keys, %v", len(keys), err)
	}
	for _, key := range keys {
		if ttl := raw.TTL(ctx, key).Val(); ttl <= 0 {
			t.Errorf("%s has no TTL (%v)", key, ttl)
		}
	}
	// Poll, never assert a duration: the machine may be slow.
	deadline := time.Now().Add(60 * time.Second)
	for {
		left, err := raw.Keys(ctx, escapeGlob(s.Prefix())+":*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys still there long after their TTL, e.g. %s", len(left), left[0])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// M-714: one round trip per page read and per batch of writes.
func TestM714_OneRoundTripPerPage(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{})
	raw := rawClient(t, srv)
	ctx := ctxT(t)
	const n = 3000
	var recs []replay.Record
	for o := range int64(n) {
		recs = append(recs, replay.Record{Partition: 0, Offset: o, Value: bytes.Repeat([]byte{'x'}, 100),
			Threads: []replay.ThreadSeq{{Thread: "t", Seq: uint64(o) + 1}}})
	}
	before := s.RoundTrips()
	if err := s.AppendBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if got := s.RoundTrips() - before; got != 1 {
		t.Errorf("a batch of %d records: %d round trips", n, got)
	}

	pages := 0
	cursor := int64(-1)
	before = s.RoundTrips()
	for {
		page, err := s.ReadPartition(ctx, 0, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page) == 0 {
			break
		}
		cursor = page[len(page)-1].Offset
	}
	if got := s.RoundTrips() - before; got != uint64(pages) {
		t.Errorf("%d page reads: %d round trips", pages, got)
	}
	for name, call := range map[string]func() error{
		"ReadThread": func() error { _, err := s.ReadThread(ctx, "t", 10, 1000); return err },
		"Bounds":     func() error { _, _, _, err := s.Bounds(ctx, 0); return err },
		"Partitions": func() error { _, err := s.Partitions(ctx); return err },
	} {
		before := s.RoundTrips()
		if err := call(); err != nil {
			t.Fatal(err)
		}
		if got := s.RoundTrips() - before; got != 1 {
			t.Errorf("%s: %d round trips", name, got)
		}
	}

	// After Redis lost its script cache, the first read costs EVALSHA +
	// EVAL, the next one EVALSHA only.
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint64{2, 1} {
		before := s.RoundTrips()
		if page, err := s.ReadPartition(ctx, 0, -1, 1000); err != nil || len(page) != 1000 {
			t.Fatalf("read after SCRIPT FLUSH: %d records, %v", len(page), err)
		}
		if got := s.RoundTrips() - before; got != want {
			t.Errorf("read %d after SCRIPT FLUSH: %d round trips, want %d", i+1, got, want)
		}
	}
}

func TestZSETsAreTrimmedToMaxEntriesOnEveryWrite(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{MaxEntries: 10})
	raw := rawClient(t, srv)
	ctx := ctxT(t)
	for o := range int64(25) {
		rec := replay.Record{Partition: 0, Offset: o, Value: []byte("v"), Threads: []replay.ThreadSeq{{Thread: "t", Seq: uint64(o) + 1}}}
		if err := s.Append(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if n := raw.ZCard(ctx, s.k.offsets(0)).Val(); n > 10 {
			t.Fatalf("after offset %d the offsets ZSET holds %d members", o, n)
		}
	}
	got, err := s.ReadPartition(ctx, 0, -1, 100)
	if err != nil || len(got) != 10 || got[0].Offset != 15 {
		t.Fatalf("ReadPartition = %d records from %v, %v; want the newest 10", len(got), got[0].Offset, err)
	}
	if n := raw.ZCard(ctx, s.k.sequences("t")).Val(); n != 10 {
		t.Fatalf("the thread ZSET holds %d members, want 10", n)
	}
}

func TestNamespacesDoNotSeeOrClearEachOther(t *testing.T) {
	srv := redisserver.Start(t)
	a := openStore(t, srv, "v1_bmFtZXNwYWNlLWE", Config{})
	// A namespace that is a prefix of the other and holds glob characters.
	b := openStore(t, srv, "v1_bmFtZXNwYWNlLWE*", Config{})
	ctx := ctxT(t)
	for _, s := range []*Store{a, b} {
		if err := s.Append(ctx, replay.Record{Partition: 1, Offset: 1, Value: []byte(s.Prefix()), Threads: []replay.ThreadSeq{{Thread: "t", Seq: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.Clear(ctx); err != nil || n == 0 {
		t.Fatalf("Clear(b) = %d, %v", n, err)
	}
	got, err := a.ReadPartition(ctx, 1, -1, 10)
	if err != nil || len(got) != 1 || string(got[0].Value) != a.Prefix() {
		t.Fatalf("a after Clear(b): %+v, %v", got, err)
	}
	if ps, _ := b.Partitions(ctx); len(ps) != 0 {
		t.Fatalf("b after Clear: partitions %v", ps)
	}
}

func TestPartitionsScanFallbackIsBounded(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{ScanLimit: 1})
	raw := rawClient(t, srv)
	ctx := ctxT(t)
	// Many unrelated keys, then one partition written the upstream way.
	pipe := raw.Pipeline()
	for i := range 5000 {
		pipe.Set(ctx, "unrelated:"+strings.Repeat("k", i%7)+string(rune('a'+i%26))+":"+strings.Repeat("0", i%3)+string(rune(i)), "x", time.Minute)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	upstreamWrite(t, raw, s.Prefix(), 4, 1, []byte("v"), nil)
	before := s.RoundTrips()
	if _, err := s.Partitions(ctx); err != nil {
		t.Fatal(err)
	}
	// One script call and at most ScanLimit/1000 rounded up SCANs.
	if got := s.RoundTrips() - before; got > 2 {
		t.Fatalf("Partitions with ScanLimit 1 took %d round trips", got)
	}
}

func TestHostileInputsRoundTripWithoutPanic(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{})
	ctx := ctxT(t)
	var ids []string
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
		ids = append(ids, string([]byte{byte(i)}))
	}
	ids = append(ids, string(all), strings.Repeat("\xff", 4096), "%s%d%n", "\\x00", "}{", "*:*:*")
	huge := bytes.Repeat([]byte{0xa5}, 16<<20)
	for i, id := range ids {
		v := all[:i%257]
		if i == 0 {
			v = huge
		}
		rec := replay.Record{Partition: math.MaxInt32, Offset: math.MaxInt64 - int64(len(ids)) + int64(i), Value: v,
			Threads: []replay.ThreadSeq{{Thread: id, Seq: math.MaxUint64}}}
		if err := s.Append(ctx, rec); err != nil {
			t.Fatalf("Append(thread %q): %v", id, err)
		}
	}
	for i, id := range ids {
		got, err := s.ReadThread(ctx, id, 0, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("ReadThread(%q) = %d records, %v", id, len(got), err)
		}
		want := all[:i%257]
		if i == 0 {
			want = huge
		}
		if !bytes.Equal(got[0].Value, want) || got[0].Offset != math.MaxInt64-int64(len(ids))+int64(i) {
			t.Fatalf("ReadThread(%q): wrong record", id)
		}
	}
	page, err := s.ReadPartition(ctx, math.MaxInt32, -1, 1000)
	if err != nil || len(page) != len(ids) || !slices.IsSortedFunc(page, byOffset) {
		t.Fatalf("ReadPartition = %d records, %v", len(page), err)
	}
}

package redisstore

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dashstream/dashstream/server/internal/redisserver"
	"github.com/dashstream/dashstream/server/replay"
)

// upstreamSanitize is upstream's rule of §5.6, written out literally here
// (not shared with sanitizeThreadID) so the test pins the layout itself.
func upstreamSanitize(id string) string {
	ok := len(id) <= 128 && !strings.Contains(id, ":")
	for _, c := range id {
		if !(c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')) {
			ok = false
		}
	}
	if ok {
		return id
	}
	return "b64_" + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// upstreamWrite writes one record with raw commands exactly as the
// upstream server's write path does (§5.4): SETEX, ZADD, EXPIRE, and per
// thread SETEX of the 12-byte header + value, ZADD, EXPIRE.
func upstreamWrite(t *testing.T, c *redis.Client, prefix string, p int32, o int64, value []byte, threads map[string]uint64) {
	t.Helper()
	ctx := ctxT(t)
	ttl := time.Hour
	offKey := prefix + ":partition:" + strconv.Itoa(int(p)) + ":offset:" + strconv.FormatInt(o, 10)
	zkey := prefix + ":partition:" + strconv.Itoa(int(p)) + ":offsets"
	_, err := c.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.SetEx(ctx, offKey, value, ttl)
		pipe.ZAdd(ctx, zkey, redis.Z{Score: float64(o), Member: offKey})
		pipe.Expire(ctx, zkey, ttl)
		for tid, seq := range threads {
			key := prefix + ":thread:" + upstreamSanitize(tid) + ":seq:" + strconv.FormatUint(seq, 10)
			packed := []byte{byte(p), byte(p >> 8), byte(p >> 16), byte(p >> 24),
				byte(o), byte(o >> 8), byte(o >> 16), byte(o >> 24), byte(o >> 32), byte(o >> 40), byte(o >> 48), byte(o >> 56)}
			pipe.SetEx(ctx, key, append(packed, value...), ttl)
			tz := prefix + ":thread:" + upstreamSanitize(tid) + ":sequences"
			pipe.ZAdd(ctx, tz, redis.Z{Score: float64(seq), Member: key})
			pipe.Expire(ctx, tz, ttl)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadsWhatAnUpstreamServerWrote(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{})
	raw := rawClient(t, srv)
	ids := []string{"run-1", "with:colon", "ünï", strings.Repeat("x", 129), "with space"}
	for o := range int64(30) {
		p := int32(o % 2)
		threads := map[string]uint64{}
		for i, id := range ids {
			if int(o)%len(ids) == i {
				threads[id] = uint64(o) + 1
			}
		}
		upstreamWrite(t, raw, s.Prefix(), p, o, []byte("value-"+strconv.FormatInt(o, 10)), threads)
	}
	ctx := ctxT(t)

	// No partitions SET: listing falls back to SCAN, as upstream does.
	ps, err := s.Partitions(ctx)
	if err != nil || !slices.Equal(ps, []int32{0, 1}) {
		t.Fatalf("Partitions = %v, %v; want [0 1]", ps, err)
	}
	for p := range int32(2) {
		got, err := s.ReadPartition(ctx, p, -1, 100)
		if err != nil || len(got) != 15 {
			t.Fatalf("ReadPartition(%d) = %d records, %v", p, len(got), err)
		}
		for _, r := range got {
			if string(r.Value) != "value-"+strconv.FormatInt(r.Offset, 10) || r.Offset%2 != int64(p) {
				t.Fatalf("partition %d: record o=%d value %q", p, r.Offset, r.Value)
			}
		}
		oldest, newest, ok, err := s.Bounds(ctx, p)
		if err != nil || !ok || oldest != int64(p) || newest != 28+int64(p) {
			t.Fatalf("Bounds(%d) = %d, %d, %v, %v", p, oldest, newest, ok, err)
		}
	}
	for i, id := range ids {
		got, err := s.ReadThread(ctx, id, 0, 100)
		if err != nil || len(got) != 6 {
			t.Fatalf("ReadThread(%q) = %d records, %v; want 6", id, len(got), err)
		}
		for _, r := range got {
			if r.Offset%int64(len(ids)) != int64(i) || r.Partition != int32(r.Offset%2) || r.Threads[0].Seq != uint64(r.Offset)+1 ||
				string(r.Value) != "value-"+strconv.FormatInt(r.Offset, 10) {
				t.Fatalf("thread %q: %+v", id, r)
			}
		}
	}
}

func TestWritesTheUpstreamLayoutExactly(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{TTL: 120 * time.Second})
	raw := rawClient(t, srv)
	ctx := ctxT(t)
	value := []byte{0x00, 0x0a, 0x03, 'a', 'b', 'c'}
	rec := replay.Record{Partition: 3, Offset: 42, Value: value, Threads: []replay.ThreadSeq{{Thread: "run-1", Seq: 7}, {Thread: "with:colon", Seq: 9}}}
	if err := s.Append(ctx, rec); err != nil {
		t.Fatal(err)
	}
	pre := s.Prefix()
	offKey := pre + ":partition:3:offset:42"
	colon := "b64_" + base64.RawURLEncoding.EncodeToString([]byte("with:colon"))
	header := []byte{3, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0}

	wantKeys := []string{
		offKey,
		pre + ":partition:3:offsets",
		pre + ":thread:run-1:seq:7",
		pre + ":thread:run-1:sequences",
		pre + ":thread:" + colon + ":seq:9",
		pre + ":thread:" + colon + ":sequences",
		pre + ":partitions",
	}
	gotKeys, err := raw.Keys(ctx, escapeGlob(pre)+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Fatalf("keys:\n got %q\nwant %q", gotKeys, wantKeys)
	}
	for _, tc := range []struct {
		key  string
		want []byte
	}{
		{offKey, value},
		{pre + ":thread:run-1:seq:7", append(slices.Clone(header), value...)},
		{pre + ":thread:" + colon + ":seq:9", append(slices.Clone(header), value...)},
	} {
		got, err := raw.Get(ctx, tc.key).Bytes()
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("GET %s = %x, %v; want %x", tc.key, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		key    string
		member string
		score  float64
	}{
		{pre + ":partition:3:offsets", offKey, 42},
		{pre + ":thread:run-1:sequences", pre + ":thread:run-1:seq:7", 7},
		{pre + ":thread:" + colon + ":sequences", pre + ":thread:" + colon + ":seq:9", 9},
	} {
		got, err := raw.ZRangeWithScores(ctx, tc.key, 0, -1).Result()
		if err != nil || len(got) != 1 || got[0].Member != tc.member || got[0].Score != tc.score {
			t.Errorf("ZRANGE %s = %+v, %v; want %s at %v", tc.key, got, err, tc.member, tc.score)
		}
	}
	if got, err := raw.SMembers(ctx, pre+":partitions").Result(); err != nil || !slices.Equal(got, []string{"3"}) {
		t.Errorf("SMEMBERS partitions = %v, %v", got, err)
	}
	// M-712: every key, the indexes included, carries the TTL.
	for _, key := range wantKeys {
		ttl, err := raw.TTL(ctx, key).Result()
		if err != nil || ttl <= 0 || ttl > 120*time.Second {
			t.Errorf("TTL %s = %v, %v; want (0, 120s]", key, ttl, err)
		}
	}
}

func TestExpiredValuesAreDroppedFromTheIndexAndThePageIsRefilled(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{})
	raw := rawClient(t, srv)
	ctx := ctxT(t)
	var recs []replay.Record
	for o := range int64(10) {
		recs = append(recs, replay.Record{Partition: 0, Offset: o, Value: []byte("v"), Threads: []replay.ThreadSeq{{Thread: "t", Seq: uint64(o) + 1}}})
	}
	if err := s.AppendBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// Values 0, 3, 4, 5 and 9 expire (DEL does what expiry does).
	for _, o := range []int64{0, 3, 4, 5, 9} {
		raw.Del(ctx, s.k.offset(0, o), s.k.threadSeq("t", uint64(o)+1))
	}
	before := s.RoundTrips()
	got, err := s.ReadPartition(ctx, 0, -1, 4)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.RoundTrips() - before; n != 1 {
		t.Errorf("the page took %d round trips", n)
	}
	var offs []int64
	for _, r := range got {
		offs = append(offs, r.Offset)
	}
	if !slices.Equal(offs, []int64{1, 2, 6, 7}) {
		t.Fatalf("page = %v, want [1 2 6 7] (full despite the expired members)", offs)
	}
	members, _ := raw.ZRange(ctx, s.k.offsets(0), 0, -1).Result()
	if len(members) != 6 || slices.Contains(members, s.k.offset(0, 3)) {
		t.Fatalf("ZSET after the read: %v; want the expired members 0, 3, 4, 5 removed", members)
	}
	oldest, newest, ok, err := s.Bounds(ctx, 0)
	if err != nil || !ok || oldest != 1 || newest != 8 {
		t.Fatalf("Bounds = %d, %d, %v, %v; want 1, 8 (9 expired)", oldest, newest, ok, err)
	}
	byThread, err := s.ReadThread(ctx, "t", 0, 100)
	if err != nil || len(byThread) != 5 {
		t.Fatalf("ReadThread = %d records, %v; want 5", len(byThread), err)
	}
}

func TestLegacyThreadValuesWithoutHeaderAreSkipped(t *testing.T) {
	srv := redisserver.Start(t)
	s := openStore(t, srv, uniqueNamespace(), Config{})
	raw := rawClient(t, srv)
	ctx := ctxT(t)
	for seq, v := range map[uint64]string{1: "short", 2: "", 3: "twelve bytes", 4: "legacy"} {
		key := s.k.threadSeq("legacy", seq)
		raw.Set(ctx, key, v, time.Hour)
		raw.ZAdd(ctx, s.k.sequences("legacy"), redis.Z{Score: float64(seq), Member: key})
	}
	got, err := s.ReadThread(ctx, "legacy", 0, 1)
	if err != nil || len(got) != 1 || got[0].Threads[0].Seq != 3 {
		t.Fatalf("ReadThread = %+v, %v; want only seq 3 (the only value with a header)", got, err)
	}
	if more, err := s.ReadThread(ctx, "legacy", 3, 10); err != nil || len(more) != 0 {
		t.Fatalf("after seq 3: %d records, %v", len(more), err)
	}
}

func TestThreadIDsStartingWithTheEncodingMarkerAreEncoded(t *testing.T) {
	// The one place we write differently from upstream (see sanitizeThreadID).
	for _, id := range []string{"b64_OjE", "b64_", "b64_YQ"} {
		if got := sanitizeThreadID(id); got == id || got == upstreamSanitize(id) {
			t.Errorf("sanitizeThreadID(%q) = %q: ambiguous with an encoded id", id, got)
		}
	}
	for _, id := range []string{"run-1", "with:colon", "ünï", strings.Repeat("x", 129), "", "B64_x", "b64"} {
		if got, want := sanitizeThreadID(id), upstreamSanitize(id); id != "" && got != want {
			t.Errorf("sanitizeThreadID(%q) = %q, upstream %q", id, got, want)
		}
	}
}

package logdir

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// testBatch encodes a RecordBatch of n one-byte records from offset first.
func testBatch(first int64, n int) []byte {
	var recs []byte
	for i := range n { // the scan reads batch headers only: the records need not be exact
		recs = (&kmsg.Record{OffsetDelta: int32(i), Value: []byte{byte(i)}}).AppendTo(recs)
	}
	b := kmsg.RecordBatch{FirstOffset: first, Magic: 2, LastOffsetDelta: int32(n - 1), NumRecords: int32(n), Records: recs,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:12], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:21], crc32.Checksum(raw[21:], crc32c))
	return raw
}

func writeSegment(t testing.TB, dir string, raw []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "0.dat"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScanSegment_KeepsEveryBatchAroundDamage(t *testing.T) {
	var raw []byte
	for i := range 10 {
		raw = append(raw, testBatch(int64(i*3), 3)...)
	}
	one := len(testBatch(0, 3))
	cases := []struct {
		name      string
		damage    func([]byte) []byte
		wantKept  int
		wantStart int64
		wantEnd   int64
		holes     int
	}{
		{"intact", func(b []byte) []byte { return b }, 10, 0, 30, 0},
		{"a flipped byte in the fifth batch", func(b []byte) []byte { b[4*one+40] ^= 1; return b }, 9, 0, 30, 1},
		{"a flipped length field", func(b []byte) []byte { b[4*one+9] ^= 0x40; return b }, 9, 0, 30, 1},
		{"torn tail", func(b []byte) []byte { return b[:len(b)-7] }, 9, 0, 27, 0},
		{"zeroed", func(b []byte) []byte { return make([]byte, len(b)) }, 0, -1, 0, 0},
		{"first batch gone", func(b []byte) []byte { clear(b[:20]); return b }, 9, 3, 30, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSegment(t, dir, tc.damage(append([]byte(nil), raw...)))
			ps, err := scanPartition("t", 0, dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			s := ps.segments[0]
			holes := 0
			for _, l := range ps.losses {
				if !l.Detail && !l.Tail {
					holes++
				}
			}
			if len(s.batches) != tc.wantKept || ps.start != tc.wantStart || ps.end != tc.wantEnd || holes != tc.holes {
				t.Fatalf("kept %d start %d end %d holes %d, want %d %d %d %d; losses %+v",
					len(s.batches), ps.start, ps.end, holes, tc.wantKept, tc.wantStart, tc.wantEnd, tc.holes, ps.losses)
			}
		})
	}
}

// FuzzScanPartition: any bytes as a segment scan without panic, and what is
// kept is well formed: batches in order, inside the file, not overlapping,
// with increasing offsets.
func FuzzScanPartition(f *testing.F) {
	good := append(testBatch(0, 2), testBatch(2, 5)...)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(make([]byte, 100))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		dir := t.TempDir()
		writeSegment(t, dir, raw)
		ps, err := scanPartition("t", 0, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		end, last := 0, int64(-1)
		for _, b := range ps.segments[0].batches {
			if b.pos < end || b.pos+b.size > len(raw) || b.first <= last || b.last < b.first {
				t.Fatalf("bad batch %+v after end %d, offset %d", b, end, last)
			}
			end, last = b.pos+b.size, b.last
		}
	})
}
